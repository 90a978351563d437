"""The shard store: training positions written by selfplay, read by training.

A shard is ``<home>/shards/<config_key>/<name>.npz``, written atomically and never twice, and indexed in the
``shards`` table. Writing a name that exists returns the existing record, so a rerun selfplay step is
idempotent. Loading verifies the file's sha256. Planes are stored in the most compact encoding that gives back
the exact same float32 bits (packed bits for 0/1 planes, else uint8, float16 or float32).
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core.config import Settings, get_settings
from app.core.errors import ChecksumMismatch, InvalidConfig, NotFound
from app.core.files import write_bytes_atomic
from app.core.names import parse_config_key, parse_model_id
from app.storage.base import utcnow
from app.storage.db import session_scope
from app.storage.models.shards import ShardRow

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
FORMAT_VERSION = 1


class ShardNotFound(NotFound):
    pass


@dataclass(frozen=True, eq=False)
class ShardData:
    """Training positions of one shard (or several concatenated).

    planes float32 [N, C, H, W] (mover's point of view); policy float32 [N, A] (search visit distribution);
    value float32 [N, P] (final returns, mover-relative order); game_id int64 [N] (positions of one game share it).
    """

    planes: np.ndarray
    policy: np.ndarray
    value: np.ndarray
    game_id: np.ndarray

    def __post_init__(self) -> None:
        expected = {"planes": (np.float32, 4), "policy": (np.float32, 2), "value": (np.float32, 2)}
        expected["game_id"] = (np.int64, 1)
        for field_name, (dtype, ndim) in expected.items():
            arr = getattr(self, field_name)
            if not isinstance(arr, np.ndarray) or arr.dtype != dtype or arr.ndim != ndim:
                got = f"{arr.dtype} {arr.shape}" if isinstance(arr, np.ndarray) else type(arr).__name__
                raise InvalidConfig(
                    f"ShardData.{field_name} must be a {ndim}-d {np.dtype(dtype)} array, got {got}"
                )
        sizes = {len(self.planes), len(self.policy), len(self.value), len(self.game_id)}
        if len(sizes) != 1:
            raise InvalidConfig(
                "ShardData arrays disagree on the number of positions: "
                f"planes {len(self.planes)}, policy {len(self.policy)}, value {len(self.value)}, "
                f"game_id {len(self.game_id)}"
            )
        for field_name in ("planes", "policy", "value"):
            if not np.all(np.isfinite(getattr(self, field_name))):
                raise InvalidConfig(f"ShardData.{field_name} contains NaN or infinity")

    @property
    def positions(self) -> int:
        return len(self.game_id)

    @property
    def games(self) -> int:
        return len(np.unique(self.game_id))

    def __len__(self) -> int:
        return self.positions

    def take(self, index: np.ndarray | slice) -> ShardData:
        return ShardData(self.planes[index], self.policy[index], self.value[index], self.game_id[index])


@dataclass(frozen=True)
class ShardRecord:
    """One row of the shard index; ``path`` is absolute (the table stores it relative to the data directory)."""

    id: int
    config_key: str
    name: str
    path: Path
    sha256: str
    positions: int
    games: int
    model_id: str | None
    created_at: datetime


# -- encoding ------------------------------------------------------------------------------------------------


def _encode_planes(planes: np.ndarray) -> tuple[str, np.ndarray]:
    """The most compact encoding of float32 planes that decodes to the same bits."""
    bits = planes.view(np.uint32)
    if np.all((planes == 0) | (planes == 1)):
        packed = np.packbits(planes.astype(np.uint8).reshape(-1))
        if np.array_equal(_decode_planes("bits", packed, planes.shape).view(np.uint32), bits):
            return "bits", packed
    for name, dtype in (("uint8", np.uint8), ("float16", np.float16)):
        candidate = planes.astype(dtype)
        if np.array_equal(candidate.astype(np.float32).view(np.uint32), bits):
            return name, candidate
    return "float32", planes


def _decode_planes(encoding: str, stored: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if encoding == "bits":
        count = int(np.prod(shape))
        return np.unpackbits(stored, count=count).astype(np.float32).reshape(shape)
    if encoding in ("uint8", "float16", "float32"):
        return stored.astype(np.float32).reshape(shape)
    raise ChecksumMismatch(f"unknown planes encoding {encoding!r} in shard")


def encode_shard(data: ShardData) -> bytes:
    encoding, planes = _encode_planes(data.planes)
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        format_version=np.array(FORMAT_VERSION),
        planes_encoding=np.array(encoding),
        planes_shape=np.array(data.planes.shape, dtype=np.int64),
        planes=planes,
        policy=data.policy,
        value=data.value,
        game_id=data.game_id,
    )
    return buf.getvalue()


def decode_shard(blob: bytes, *, source: str = "shard") -> ShardData:
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            version = int(z["format_version"])
            if version != FORMAT_VERSION:
                raise InvalidConfig(
                    f"{source} has format version {version}; this build reads {FORMAT_VERSION}"
                )
            shape = tuple(int(s) for s in z["planes_shape"])
            planes = _decode_planes(str(z["planes_encoding"]), z["planes"], shape)
            return ShardData(planes, z["policy"], z["value"], z["game_id"])
    except (KeyError, ValueError, OSError, EOFError) as exc:
        if isinstance(exc, InvalidConfig):
            raise
        raise ChecksumMismatch(f"{source} is not a readable shard: {exc}") from None


# -- the store -----------------------------------------------------------------------------------------------


class ShardStore:
    """Shards of one installation (``settings``: default, the process-wide settings)."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or get_settings()

    def _relative(self, config_key: str, name: str) -> str:
        return f"shards/{config_key}/{name}.npz"

    def path_for(self, config_key: str, name: str) -> Path:
        _check_key(config_key)
        _check_name(name)
        return self.settings.home / self._relative(config_key, name)

    def write(self, config_key: str, name: str, data: ShardData, model_id: str | None = None) -> ShardRecord:
        """Store ``data`` as shard ``name`` of ``config_key``; if that name exists, return its record instead.

        ``model_id``: the model whose games these are (None for generation 0, the uniform-prior agent).
        """
        _check_key(config_key)
        _check_name(name)
        if model_id is not None:
            parse_model_id(model_id)
        if not isinstance(data, ShardData):
            raise InvalidConfig(f"shard data must be a ShardData, got {type(data).__name__}")
        existing = self.find(config_key, name)
        if existing is not None:
            return existing
        if data.positions == 0:
            raise InvalidConfig(
                f"shard {name!r} of {config_key} has no positions; a shard holds at least one"
            )
        path = self.path_for(config_key, name)
        blob = encode_shard(data)
        try:
            write_bytes_atomic(path, blob, overwrite=False)
        except FileExistsError:
            # A writer died between the file and the index row, or another is racing us: the file on disk is
            # the shard (never written twice); index what is there.
            blob = path.read_bytes()
            data = decode_shard(blob, source=f"existing shard file {path}")
        row = ShardRow(
            config_key=config_key,
            name=name,
            path=self._relative(config_key, name),
            sha256=hashlib.sha256(blob).hexdigest(),
            positions=data.positions,
            games=data.games,
            model_id=model_id,
            created_at=utcnow(),
        )
        try:
            with session_scope(self.settings) as s:
                s.add(row)
                s.flush()
                return self._record(row)
        except IntegrityError:
            record = self.find(config_key, name)
            if record is None:
                raise
            return record

    def find(self, config_key: str, name: str) -> ShardRecord | None:
        with session_scope(self.settings) as s:
            row = s.scalars(
                select(ShardRow).where(ShardRow.config_key == config_key, ShardRow.name == name)
            ).one_or_none()
            return None if row is None else self._record(row)

    def get(self, config_key: str, name: str) -> ShardRecord:
        record = self.find(config_key, name)
        if record is None:
            known = [r.name for r in self.records(config_key)][:10]
            raise ShardNotFound(f"no shard {name!r} for {config_key}; newest shards: {known or 'none'}")
        return record

    def records(self, config_key: str) -> list[ShardRecord]:
        """Every shard of ``config_key``, newest first."""
        _check_key(config_key)
        with session_scope(self.settings) as s:
            rows = s.scalars(
                select(ShardRow)
                .where(ShardRow.config_key == config_key)
                .order_by(ShardRow.created_at.desc(), ShardRow.id.desc())
            )
            return [self._record(r) for r in rows]

    def newest(self, config_key: str, max_positions: int, *, prefix: str = "") -> list[ShardRecord]:
        """The newest shards of ``config_key`` whose positions together first reach ``max_positions``, newest first
        (only those whose name starts with ``prefix``: a run's own).

        The oldest shard returned may hold more than the window still needs; the caller trims it.
        """
        if max_positions < 1:
            raise InvalidConfig(f"replay window must be at least 1 position, got {max_positions}")
        chosen, total = [], 0
        for record in self.records(config_key):
            if not record.name.startswith(prefix):
                continue
            if total >= max_positions:
                break
            chosen.append(record)
            total += record.positions
        return chosen

    def load(self, record: ShardRecord) -> ShardData:
        """The shard's positions; ``ChecksumMismatch`` if the file is not the one that was indexed."""
        path = Path(record.path)
        if not path.is_file():
            raise FileNotFoundError(f"shard file {path} of {record.config_key}/{record.name} is missing")
        blob = path.read_bytes()
        actual = hashlib.sha256(blob).hexdigest()
        if actual != record.sha256:
            raise ChecksumMismatch(f"shard {path} is corrupted: sha256 {actual}, expected {record.sha256}")
        data = decode_shard(blob, source=f"shard {path}")
        if data.positions != record.positions:
            raise ChecksumMismatch(
                f"shard {path} holds {data.positions} positions, index says {record.positions}"
            )
        return data

    def _record(self, row: ShardRow) -> ShardRecord:
        return ShardRecord(
            id=row.id,
            config_key=row.config_key,
            name=row.name,
            path=self.settings.home / row.path,
            sha256=row.sha256,
            positions=row.positions,
            games=row.games,
            model_id=row.model_id,
            created_at=row.created_at,
        )


def _check_key(config_key: str) -> None:
    try:
        parse_config_key(config_key)
    except ValueError as exc:
        raise InvalidConfig(str(exc)) from None


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidConfig(
            f"bad shard name {name!r}: 1-128 characters of letters, digits, '_', '.', '-', "
            "starting with a letter or digit"
        )
