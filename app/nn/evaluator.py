"""Turning a network into an ``EvaluateFn``: the one callable search sees.

``EvaluateFn``: (planes float32 [B, C, H, W], legal bool [B, A]) -> (priors float32 [B, A], values float32 [B, P]).
Priors are a softmax over the legal moves only (rows with no legal move get all-zero priors); values are in
mover-relative order. Search passes a callable, so tests can plug in a fake whose answers are known by hand.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from app.core.cores import ALL_CORES, threads_for
from app.core.errors import InvalidConfig
from app.nn.model import PolicyValueNet

EvaluateFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
Mode = Literal["auto", "eager", "jit", "compile", "onnx"]
MODES = ("auto", "eager", "jit", "compile", "onnx")
THREADS_ENV = "ZEROLOOP_TORCH_THREADS"

# Measured with bench/nn.py (hex8_2p, 4x32 net, 1 thread, positions per CPU-second, eager = 1.00x):
#   batch 1: jit 2.07x, compile 1.26x; batch 64: jit 1.43x, compile 1.84x; batch 256: jit 0.97x, compile 1.99x.
# torch.compile wins on large batches once warm, but warming it costs ~11 CPU-seconds in every new process even
# with inductor's disk cache (~40 s of wall time on a loaded 2-core machine), against ~0.4 s for a frozen trace;
# selfplay, arena and test processes are short, so compile is opt-in.
# ONNX Runtime (bench/nn.py --modes eager,jit,onnx --threads 1, positions per CPU-second, same run, 4x32 net)
# beat the frozen trace 2.3x / 2.3x / 1.7x at batch 1 / 16 / 64 on hex6 and 2.5x / 2.1x / 1.8x on hex8, for
# ~0.1 s of export per evaluator; it is the CPU default, with the frozen trace kept as mode "jit".
CPU_DEFAULT_MODE: Literal["eager", "jit", "compile", "onnx"] = "onnx"


# One thread unless told otherwise: with two threads per process on a 2-core machine, any other busy process
# makes OpenMP's spinning threads wait on each other; measured under load, inference at batch 1 fell from 137 to
# 12 positions/s and training from 432 to 87 samples/s. Parallelism comes from running more workers instead.
DEFAULT_CPU_THREADS = 1


def configure_threads(num_threads: int | None = None) -> int:
    """Set torch's intra-op CPU threads: ``num_threads`` (``ALL_CORES``: one per usable core, at most 4), else
    ``$ZEROLOOP_TORCH_THREADS``, else 1.

    Returns the count in use. A process that has a machine to itself can ask for more through either.
    """
    if num_threads is None:
        env = os.environ.get(THREADS_ENV)
        if env:
            try:
                num_threads = int(env)
            except ValueError:
                raise InvalidConfig(f"${THREADS_ENV} must be a positive integer, got {env!r}") from None
        else:
            num_threads = DEFAULT_CPU_THREADS
    num_threads = threads_for(num_threads)
    if num_threads < 1:
        raise InvalidConfig(f"torch threads must be >= 1 (or {ALL_CORES}: every core), got {num_threads}")
    if torch.get_num_threads() != num_threads:
        torch.set_num_threads(num_threads)
    return torch.get_num_threads()


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _masked_softmax(logits: torch.Tensor, legal: torch.Tensor) -> torch.Tensor:
    masked = logits.float().masked_fill(~legal, float("-inf"))
    # A row with no legal move (a terminal state) is all -inf, whose softmax is NaN; it gets zeros instead.
    return torch.softmax(masked, dim=-1).nan_to_num_(0.0)


class NetworkEvaluator:
    """An ``EvaluateFn`` backed by a ``PolicyValueNet``: batched, in ``torch.inference_mode``, on one device.

    ``mode``: ``"auto"`` picks the fastest mode measured correct for the device (ONNX Runtime on CPU, eager on
    CUDA), ``"eager"``, ``"jit"`` (trace + ``torch.jit.freeze``), ``"compile"`` (``torch.compile``) or
    ``"onnx"`` (exported and run by ONNX Runtime; CPU only).
    The evaluator works on its own copy of the network in eval mode, so training the original does not change it.
    ``onnx_cache``: a file for the ONNX export (mode ``"onnx"`` only), reused while it answers as the network does.
    """

    def __init__(
        self,
        net: PolicyValueNet,
        device: str | torch.device | None = None,
        *,
        mode: Mode = "auto",
        num_threads: int | None = None,
        onnx_cache: Path | None = None,
    ):
        if mode not in MODES:
            raise InvalidConfig(f"unknown evaluator mode {mode!r}; valid modes: {list(MODES)}")
        self.device = torch.device(device) if device is not None else default_device()
        if self.device.type == "cpu":
            configure_threads(num_threads)
        if mode == "auto":
            mode = CPU_DEFAULT_MODE if self.device.type == "cpu" else "eager"
        if mode == "onnx" and self.device.type != "cpu":
            raise InvalidConfig(
                f"evaluator mode 'onnx' runs on the CPU only, not on {self.device}; use 'eager'"
            )
        self.mode = mode
        self.num_planes = net.num_planes
        self.board_shape = net.board_shape
        self.action_size = net.action_size
        self.num_players = net.num_players
        model = copy.deepcopy(net).to(self.device).eval()
        self._onnx_cache = onnx_cache
        self._forward = self._build(model, mode)

    def _build(self, model: PolicyValueNet, mode: str) -> Callable[[torch.Tensor], tuple]:
        if mode == "eager":
            return model
        if mode == "compile":
            return torch.compile(model, dynamic=True)
        if mode == "onnx":
            from app.nn.onnx_runtime import onnx_forward  # lazy: onnx is imported only by who asks for it

            return onnx_forward(model, cache=self._onnx_cache)
        example = torch.zeros((2, self.num_planes, *self.board_shape), device=self.device)
        with warnings.catch_warnings():
            # TorchScript is in maintenance mode; its deprecation notice is not actionable for callers here.
            warnings.simplefilter("ignore")
            with torch.no_grad():
                traced = torch.jit.trace(model, example)
            return torch.jit.freeze(traced)

    def _check(self, planes: np.ndarray, legal: np.ndarray) -> None:
        expected = (self.num_planes, *self.board_shape)
        if planes.ndim != 4 or planes.shape[1:] != expected:
            raise ValueError(
                f"planes must be float32 [B, {', '.join(map(str, expected))}], got {planes.shape}"
            )
        if legal.shape != (planes.shape[0], self.action_size):
            raise ValueError(
                f"legal must be bool [B={planes.shape[0]}, A={self.action_size}], got {legal.shape}"
            )

    def __call__(self, planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """planes float32 [B, C, H, W], legal bool [B, A] -> (priors float32 [B, A], values float32 [B, P])."""
        planes = np.asarray(planes, dtype=np.float32)
        legal = np.asarray(legal, dtype=bool)
        self._check(planes, legal)
        if planes.shape[0] == 0:
            return (
                np.zeros((0, self.action_size), np.float32),
                np.zeros((0, self.num_players), np.float32),
            )
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(planes)).to(self.device, non_blocking=True)
            mask = torch.from_numpy(np.ascontiguousarray(legal)).to(self.device, non_blocking=True)
            logits, values = self._forward(x)
            priors = _masked_softmax(logits, mask)
            return priors.cpu().numpy(), values.float().cpu().numpy()


def uniform_evaluator(action_size: int, num_players: int) -> EvaluateFn:
    """Generation 0: uniform priors over the legal moves and zero values, with no network at all."""
    if action_size < 1 or num_players < 1:
        raise InvalidConfig(f"need action_size >= 1 and num_players >= 1, got {action_size}, {num_players}")

    def evaluate(planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        legal = np.asarray(legal, dtype=bool)
        if legal.ndim != 2 or legal.shape[1] != action_size:
            raise ValueError(f"legal must be bool [B, A={action_size}], got {legal.shape}")
        if len(planes) != len(legal):
            raise ValueError(f"planes and legal disagree on the batch size: {len(planes)} vs {len(legal)}")
        counts = legal.sum(axis=1, keepdims=True)
        priors = np.divide(legal, counts, out=np.zeros(legal.shape, np.float32), where=counts > 0)
        return priors.astype(np.float32, copy=False), np.zeros((len(legal), num_players), np.float32)

    return evaluate
