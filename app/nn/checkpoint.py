"""Checkpoints: weights in safetensors, lineage and architecture in the safetensors header metadata.

Two checksums guard a checkpoint. ``content_sha256`` (inside the header) hashes every tensor's name, dtype,
shape and bytes together with the rest of the metadata, so a file whose weights or lineage were damaged is
refused even when nobody recorded its hash.
``sha256`` is the hash of the whole file, the one registries record; ``load_checkpoint(expected_sha256=...)``
checks it before reading anything. Files are written atomically, so a crash never leaves half a checkpoint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from app.core.errors import ChecksumMismatch, InvalidConfig
from app.core.files import write_bytes_atomic
from app.core.names import parse_config_key, parse_model_id
from app.nn.config import NetConfig, game_shapes
from app.nn.model import PolicyValueNet

FORMAT = "zeroloop-checkpoint/1"
_SHAPE_KEYS = ("num_planes", "board_shape", "action_size", "num_players")


class Lineage(BaseModel):
    """What the caller says about a checkpoint when saving it; the rest is derived from the network."""

    model_config = ConfigDict(extra="forbid")

    config_key: str = Field(description="Config key the network plays, e.g. 'hex8_2p'.")
    model_id: str | None = Field(default=None, description="Model id of this checkpoint, if it has one.")
    parent_model_id: str | None = Field(default=None, description="Model it was trained from, if any.")
    extra: dict[str, Any] = Field(default_factory=dict, description="Training info (JSON-serialisable).")


@dataclass(frozen=True)
class CheckpointMeta:
    """Everything a checkpoint file says about itself."""

    config_key: str
    net_config: NetConfig
    num_planes: int
    board_shape: tuple[int, int]
    action_size: int
    num_players: int
    model_id: str | None
    parent_model_id: str | None
    created_at: datetime
    sha256: str  # of the whole file
    content_sha256: str  # of the tensors and the other metadata, recorded inside the file
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def shapes(self) -> dict[str, Any]:
        return game_shapes(self)


def content_sha256(tensors: Mapping[str, torch.Tensor], header: Mapping[str, str]) -> str:
    """sha256 over the metadata (except this hash) and every tensor's name, dtype, shape and bytes."""
    h = hashlib.sha256()
    fields = {k: v for k, v in header.items() if k != "content_sha256"}
    h.update(json.dumps(fields, sort_keys=True).encode())
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}\n".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def _state_tensors(net: PolicyValueNet) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}


def save_checkpoint(
    path: str | Path, net: PolicyValueNet, meta: Lineage | Mapping[str, Any], *, overwrite: bool = True
) -> CheckpointMeta:
    """Write ``net`` to ``path`` atomically; ``meta`` is a ``Lineage`` or a mapping with its fields.

    Returns the full ``CheckpointMeta``, including the file's sha256 for a registry to record.
    """
    try:
        lineage = meta if isinstance(meta, Lineage) else Lineage.model_validate(dict(meta))
    except ValidationError as exc:
        raise InvalidConfig(f"bad checkpoint metadata: {exc}") from None
    key = parse_config_key(lineage.config_key)
    for mid in (lineage.model_id, lineage.parent_model_id):
        if mid is not None:
            parse_model_id(mid)
    if lineage.model_id is not None and parse_model_id(lineage.model_id).config_key != lineage.config_key:
        raise InvalidConfig(
            f"model id {lineage.model_id!r} does not belong to config key {lineage.config_key!r}"
        )
    if key.num_players != net.num_players:
        raise InvalidConfig(
            f"config key {lineage.config_key!r} is for {key.num_players} players but the network "
            f"answers values for {net.num_players}"
        )
    try:
        extra_json = json.dumps(lineage.extra, sort_keys=True)
    except TypeError as exc:
        raise InvalidConfig(f"checkpoint extra must be JSON-serialisable: {exc}") from None

    tensors = _state_tensors(net)
    created_at = datetime.now(UTC)
    header = {
        "format": FORMAT,
        "config_key": lineage.config_key,
        "net_config": net.cfg.model_dump_json(),
        "shapes": json.dumps(net.shapes),
        "model_id": lineage.model_id or "",
        "parent_model_id": lineage.parent_model_id or "",
        "created_at": created_at.isoformat(),
        "extra": extra_json,
    }
    header["content_sha256"] = content_sha256(tensors, header)
    data = st_save(tensors, metadata=header)
    write_bytes_atomic(Path(path), data, overwrite=overwrite)
    return _meta_from_header(header, hashlib.sha256(data).hexdigest())


def _meta_from_header(header: Mapping[str, str], file_sha256: str) -> CheckpointMeta:
    shapes = json.loads(header["shapes"])
    return CheckpointMeta(
        config_key=header["config_key"],
        net_config=NetConfig.model_validate_json(header["net_config"]),
        num_planes=int(shapes["num_planes"]),
        board_shape=(int(shapes["board_shape"][0]), int(shapes["board_shape"][1])),
        action_size=int(shapes["action_size"]),
        num_players=int(shapes["num_players"]),
        model_id=header.get("model_id") or None,
        parent_model_id=header.get("parent_model_id") or None,
        created_at=datetime.fromisoformat(header["created_at"]),
        sha256=file_sha256,
        content_sha256=header["content_sha256"],
        extra=json.loads(header.get("extra") or "{}"),
    )


def _read_header(data: bytes, path: Path) -> dict[str, str]:
    # safetensors layout: u64 little-endian header length, then a JSON header whose "__metadata__" holds ours.
    if len(data) < 8:
        raise ChecksumMismatch(f"checkpoint {path} is truncated ({len(data)} bytes)")
    n = int.from_bytes(data[:8], "little")
    if 8 + n > len(data):
        raise ChecksumMismatch(
            f"checkpoint {path} is truncated: header needs {n} bytes, file has {len(data)}"
        )
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ChecksumMismatch(f"checkpoint {path} has a corrupted header (not safetensors JSON)") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InvalidConfig(
            f"{path} is not a zeroloop checkpoint (header format {None if not meta else meta.get('format')!r}, "
            f"expected {FORMAT!r})"
        )
    return meta


def read_checkpoint_meta(path: str | Path) -> CheckpointMeta:
    """The metadata of a checkpoint without building the network (the content checksum is not verified)."""
    path = Path(path)
    data = _read_bytes(path)
    return _meta_from_header(_read_header(data, path), hashlib.sha256(data).hexdigest())


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    return path.read_bytes()


def load_checkpoint(
    path: str | Path,
    *,
    config_key: str | None = None,
    expected_sha256: str | None = None,
    game: Any = None,
    device: str | torch.device = "cpu",
) -> tuple[PolicyValueNet, CheckpointMeta]:
    """Load a checkpoint, refusing anything that is not exactly what was saved and asked for.

    ``expected_sha256``: the file hash a registry recorded (``ChecksumMismatch`` if different).
    ``config_key`` / ``game``: what the caller will play; a checkpoint for another key or other shapes is an
    ``InvalidConfig``. Truncated or damaged files raise ``ChecksumMismatch``. Returns the net in eval mode.
    """
    path = Path(path)
    data = _read_bytes(path)
    file_sha = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and file_sha != expected_sha256:
        raise ChecksumMismatch(f"checkpoint {path} has sha256 {file_sha}, expected {expected_sha256}")
    header = _read_header(data, path)
    try:
        meta = _meta_from_header(header, file_sha)
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise InvalidConfig(f"checkpoint {path} has malformed metadata: {exc}") from None
    if config_key is not None and meta.config_key != config_key:
        raise InvalidConfig(f"checkpoint {path} is for config key {meta.config_key!r}, not {config_key!r}")
    if game is not None:
        wanted = {
            "num_planes": game.num_planes,
            "board_shape": list(game.board_shape),
            "action_size": game.action_size,
            "num_players": game.num_players,
        }
        if wanted != meta.shapes:
            raise InvalidConfig(f"checkpoint {path} has shapes {meta.shapes}, but the game needs {wanted}")
    try:
        tensors = st_load(data)
    except SafetensorError as exc:
        raise ChecksumMismatch(f"checkpoint {path} is damaged: {exc}") from None
    actual = content_sha256(tensors, header)
    if actual != meta.content_sha256:
        raise ChecksumMismatch(
            f"checkpoint {path} is damaged: its content hashes to {actual}, "
            f"but its header records {meta.content_sha256}"
        )
    net = PolicyValueNet(
        meta.num_planes, meta.board_shape, meta.action_size, meta.num_players, meta.net_config
    )
    try:
        net.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise InvalidConfig(
            f"checkpoint {path} does not match its recorded architecture {meta.net_config!r}: {exc}"
        ) from None
    return net.to(device).eval(), meta
