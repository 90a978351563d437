"""One view over the two tables of finished games: ``arena_games`` and ``selfplay_games``.

A game is named ``arena:<id>`` or ``selfplay:<id>`` (the row id of its table), which is what ``games list``
prints and ``games show`` / the dashboard's viewer take.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, cast, select

from app.core.config import Settings
from app.core.errors import InvalidConfig, NotFound
from app.storage.db import read_scope
from app.storage.models.evaluation import ArenaGameRow
from app.storage.models.selfplay import SelfplayGameRow

KINDS = ("arena", "selfplay")
# Row ids are 64-bit integers: a larger number names no stored game (and SQLite cannot even take it).
MAX_ROW_ID = 2**63 - 1


class GameNotFound(NotFound):
    pass


@dataclass(frozen=True)
class StoredGame:
    """A finished game. ``players``/``returns`` per seat (seat 0 moved first); ``moves``: every action from
    the initial state, the first ``opening_length`` of them a random opening (arena games)."""

    kind: str
    row_id: int
    config_key: str
    players: tuple[str, ...]
    returns: tuple[float, ...]
    moves: tuple[int, ...]
    created_at: datetime
    opening_length: int = 0
    source: str = ""  # arena: the purpose (gate, anchor, ...); selfplay: the shard name
    extra: dict = field(default_factory=dict)

    @property
    def game_id(self) -> str:
        return f"{self.kind}:{self.row_id}"


def parse_game_id(text: str) -> tuple[str, int]:
    kind, _, number = text.partition(":")
    if kind not in KINDS or not number.isdigit():
        raise InvalidConfig(f"{text!r} is not a game id; game ids look like arena:12 or selfplay:3")
    return kind, int(number)


def list_games(
    settings: Settings,
    *,
    config_key: str | None = None,
    kind: str | None = None,
    player: str | None = None,
    limit: int | None = 50,
) -> list[StoredGame]:
    """Stored games, newest first (arena before selfplay at equal times), of ``player`` when given (a seat in
    an arena game, the model of a selfplay game); ``limit`` None for all."""
    if kind is not None and kind not in KINDS:
        raise InvalidConfig(f"unknown kind of game {kind!r}; valid: {', '.join(KINDS)}")
    games: list[StoredGame] = []
    with read_scope(settings) as s:
        for k, table in (("arena", ArenaGameRow), ("selfplay", SelfplayGameRow)):
            if kind not in (None, k):
                continue
            query = select(table).order_by(table.id.desc())
            if config_key is not None:
                query = query.where(table.config_key == config_key)
            if player is not None:
                # Arena seats are a JSON list: match the quoted name in its text (SQLite and PostgreSQL alike).
                seat = cast(table.players, String).contains(json.dumps(player)) if k == "arena" else None
                query = query.where(seat if seat is not None else table.model_id == player)
            if limit is not None:
                query = query.limit(limit)
            games.extend(_from_row(k, row) for row in s.scalars(query))
    games.sort(key=lambda g: (g.created_at, g.kind == "arena", g.row_id), reverse=True)
    return games if limit is None else games[:limit]


def get_game(settings: Settings, game_id: str) -> StoredGame:
    kind, row_id = parse_game_id(game_id)
    table = ArenaGameRow if kind == "arena" else SelfplayGameRow
    with read_scope(settings) as s:
        row = s.get(table, row_id) if row_id <= MAX_ROW_ID else None
        if row is None:
            raise GameNotFound(f"no game {game_id}; games list shows the stored ones")
        return _from_row(kind, row)


def _from_row(kind: str, row) -> StoredGame:
    if kind == "arena":
        return StoredGame(
            kind=kind, row_id=row.id, config_key=row.config_key, players=tuple(row.players),
            returns=tuple(float(r) for r in row.returns), moves=tuple(int(a) for a in row.moves),
            created_at=row.created_at, opening_length=len(row.opening), source=row.purpose,
            extra={"evaluation_id": row.evaluation_id, "opening_group": row.opening_group},
        )  # fmt: skip
    players = tuple([row.model_id] * len(row.returns))
    return StoredGame(
        kind=kind, row_id=row.id, config_key=row.config_key, players=players,
        returns=tuple(float(r) for r in row.returns), moves=tuple(int(a) for a in row.moves),
        created_at=row.created_at, source=row.shard_name,
        extra={"game_index": row.game_index, "resigned_by": row.resigned_by},
    )  # fmt: skip
