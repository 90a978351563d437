"""A network's forward pass through ONNX Runtime, for CPU inference.

The network is exported with ``app.nn.export.export_onnx`` and run by one ``InferenceSession`` with as many
intra-op threads as torch uses (one by default, see ``configure_threads``), so the two runtimes compare like for
like. PyTorch stays the runtime for training and for CUDA.

An export can be cached in a file (the registry keys it by the checkpoint's sha256). A cached export is used only
when it answers a probe batch as the network itself does, so a damaged, stale or foreign file is exported again
rather than trusted.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from app.core.files import write_bytes_atomic
from app.nn.export import INPUT, export_onnx
from app.nn.model import PolicyValueNet

Forward = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
# Float32 through two runtimes with other kernel orders: equal to ~1e-6 on this net; a wrong file is off by far more.
PROBE_TOLERANCE = 1e-4


def onnx_forward(
    net: PolicyValueNet, *, num_threads: int | None = None, cache: Path | None = None
) -> Forward:
    """planes float32 [B, C, H, W] (a CPU tensor) -> (policy logits float32 [B, A], values float32 [B, P]).

    ``cache``: a file holding this network's export; read when it passes the probe, else written (atomically)."""
    import onnxruntime as ort  # lazy: start-up time of processes that never evaluate a network

    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL

    def session_of(model_bytes: bytes) -> ort.InferenceSession:
        return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])

    session = _cached_session(net, cache, session_of) if cache is not None else None
    if session is None:
        model_bytes = _export(net)
        session = session_of(model_bytes)
        if cache is not None:
            write_bytes_atomic(cache, model_bytes)

    def forward(planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, values = session.run(None, {INPUT: planes.numpy()})
        return torch.from_numpy(logits), torch.from_numpy(values)

    return forward


def _export(net: PolicyValueNet) -> bytes:
    with tempfile.TemporaryDirectory(prefix="zl-onnx-") as tmp:
        return export_onnx(net, Path(tmp) / "net.onnx").read_bytes()


def _cached_session(net: PolicyValueNet, cache: Path, session_of: Callable) -> object | None:
    """The session of the cached export, or None when there is none or it does not answer as ``net`` does."""
    probe = np.random.default_rng(0).random((2, net.num_planes, *net.board_shape), dtype=np.float32)
    try:
        session = session_of(cache.read_bytes())
        got = session.run(None, {INPUT: probe})
    except Exception:  # noqa: BLE001 - missing, unreadable, or not a graph of these shapes: export again
        return None
    with torch.inference_mode():
        expected = [t.numpy() for t in net.eval()(torch.from_numpy(probe))]
    matches = len(got) == len(expected) and all(
        g.shape == e.shape and np.allclose(g, e, atol=PROBE_TOLERANCE, rtol=PROBE_TOLERANCE)
        for g, e in zip(got, expected, strict=False)
    )
    return session if matches else None
