"""A registered model as a file other programs run: ONNX (ONNX Runtime, any language) or TorchScript (libtorch).

Every export is checked before it is kept: the exported network and the PyTorch one answer the same random
batch, and the largest difference of policy logits and of values must be within ``tolerance``. The file carries
what a program needs to use it without this package (``export_metadata``; documented in docs/export.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.config import Settings
from app.core.errors import InvalidConfig, ZeroloopError
from app.games.base import Game
from app.games.connect import ConnectGame
from app.games.hex import HexGame

FORMATS = ("onnx", "torchscript")
METADATA_VERSION = "1"


class ExportMismatch(ZeroloopError):
    """The exported network does not answer as the PyTorch network does."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    model_id: str
    config_key: str
    max_policy_diff: float
    max_value_diff: float
    metadata: dict[str, str]


def plane_names(game: Game) -> list[str]:
    """What each input plane holds, from the mover's point of view (the encoding of ``game.encode``)."""
    if isinstance(game, HexGame):
        names = [
            "mover's stones",
            "opponent's stones",
            "ones (on the board)",
            "ones when the mover joins left-right",
        ]
        return names + (["ones while the swap is legal"] if game.swap else [])
    if isinstance(game, ConnectGame):
        p = game.num_players
        return [f"stones of player (to_move + {i}) % {p}" for i in range(p)] + ["ones (on the board)"]
    return [f"plane {i}" for i in range(game.num_planes)]


def action_layout(game: Game) -> str:
    if isinstance(game, HexGame):
        n = game.size
        text = f"action r*{n}+c is the cell at row r (0 = top), column c; named by column letter and row number (a1)"
        return text + (f"; action {n * n} is the swap" if game.swap else "")
    if isinstance(game, ConnectGame):
        return f"action c drops a stone in column c (0 = left), named c+1; {game.width} columns"
    return "action indices as the game defines them"


def export_metadata(game: Game, model_id: str, sha256: str) -> dict[str, str]:
    height, width = game.board_shape
    names = (
        [game.action_to_string(a) for a in range(game.action_size)]
        if hasattr(game, "action_to_string")
        else []
    )
    return {
        "zeroloop_metadata_version": METADATA_VERSION,
        "config_key": game.config_key,
        "model_id": model_id,
        "checkpoint_sha256": sha256,
        "input": f"planes float32 [B, {game.num_planes}, {height}, {width}]",
        "input_planes": json.dumps(plane_names(game)),
        "outputs": (
            f"policy_logits float32 [B, {game.action_size}] (mask illegal actions, then softmax); "
            f"values float32 [B, {game.num_players}] in (-1, 1), index i = player (to_move + i) % {game.num_players}"
        ),
        "action_layout": action_layout(game),
        "action_names": json.dumps(names),
    }


def export_model(
    model_id: str, fmt: str, output: str | Path, *, settings: Settings, tolerance: float = 1e-4, seed: int = 0
) -> ExportResult:
    """Export the registered ``model_id`` as ``fmt`` to ``output``, verified on a random batch."""
    if fmt not in FORMATS:
        raise InvalidConfig(f"unknown export format {fmt!r}; valid: {', '.join(FORMATS)}")
    # Imported here: torch and the game kernels load only for an export, not for `zeroloop --help`.
    from app.games.registry import game_for_key
    from app.registry import load_registered_net

    net, meta = load_registered_net(settings, model_id)
    game = game_for_key(meta.config_key)
    net = net.eval()
    metadata = export_metadata(game, model_id, meta.sha256)
    output = Path(output)
    planes = _random_planes(game, seed)
    if fmt == "onnx":
        from app.nn.export import export_onnx

        export_onnx(net, output, metadata=metadata)
        policy, values = _run_onnx(output, planes)
    else:
        from app.nn.torchscript import export_torchscript

        export_torchscript(net, output, metadata=json.dumps(metadata))
        policy, values = _run_torchscript(output, planes)
    want_policy, want_values = _run_torch(net, planes)
    result = ExportResult(
        path=output, format=fmt, model_id=model_id, config_key=game.config_key,
        max_policy_diff=float(np.abs(policy - want_policy).max()),
        max_value_diff=float(np.abs(values - want_values).max()), metadata=metadata,
    )  # fmt: skip
    if max(result.max_policy_diff, result.max_value_diff) > tolerance:
        output.unlink(missing_ok=True)
        raise ExportMismatch(
            f"the {fmt} export of {model_id} differs from PyTorch by {result.max_policy_diff:.2e} (policy) and "
            f"{result.max_value_diff:.2e} (values), more than the tolerance {tolerance:g}; nothing was written"
        )
    return result


def _random_planes(game: Game, seed: int, batch: int = 8) -> np.ndarray:
    """Random positions' planes: stones drawn at random, plus continuous noise to exercise every weight."""
    rng = np.random.default_rng(seed)
    shape = (batch, game.num_planes, *game.board_shape)
    binary = (rng.random(shape) < 0.3).astype(np.float32)
    return np.concatenate([binary, rng.standard_normal(shape).astype(np.float32)])


def _run_torch(net, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import torch

    with torch.inference_mode():
        policy, values = net(torch.from_numpy(planes))
    return policy.numpy(), values.numpy()


def _run_torchscript(path: Path, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import torch

    from app.nn.torchscript import load_torchscript

    module, _text = load_torchscript(path)
    with torch.inference_mode():
        policy, values = module(torch.from_numpy(planes))
    return policy.numpy(), values.numpy()


def _run_onnx(path: Path, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    policy, values = session.run(None, {name: planes})
    return np.asarray(policy), np.asarray(values)
