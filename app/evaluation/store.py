"""Evaluation runs and arena games in the database: what the arena writes and the rating fit reads."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select

from app.core.config import Settings
from app.core.errors import NotFound
from app.evaluation.arena import PlayedGame
from app.evaluation.ratings import GameResult
from app.storage.base import utcnow
from app.storage.db import read_scope, session_scope
from app.storage.models.evaluation import GAME_PURPOSES, ArenaGameRow, EvaluationRow


class EvaluationNotFound(NotFound):
    pass


def create_evaluation(
    settings: Settings,
    *,
    config_key: str,
    candidate: str,
    opponent: str,
    config: dict[str, Any],
    evaluation_id: str | None = None,
) -> str:
    """A new running evaluation (under ``evaluation_id`` when given: one played elsewhere); returns its id."""
    evaluation_id = evaluation_id or uuid.uuid4().hex
    with session_scope(settings) as s:
        s.add(
            EvaluationRow(
                id=evaluation_id,
                config_key=config_key,
                candidate=candidate,
                opponent=opponent,
                config=config,
                status="running",
                created_at=utcnow(),
            )
        )
    return evaluation_id


def finish_evaluation(
    settings: Settings, evaluation_id: str, *, decision: str, result: dict[str, Any]
) -> None:
    with session_scope(settings) as s:
        row = _get(s, evaluation_id)
        row.status, row.decision, row.result, row.finished_at = "finished", decision, result, utcnow()


def fail_evaluation(settings: Settings, evaluation_id: str, *, error: str) -> None:
    with session_scope(settings) as s:
        row = _get(s, evaluation_id)
        row.status, row.error, row.finished_at = "failed", error[:2000], utcnow()


def get_evaluation(settings: Settings, evaluation_id: str) -> EvaluationRow:
    with read_scope(settings) as s:
        return _get(s, evaluation_id)


def _get(session, evaluation_id: str) -> EvaluationRow:
    row = session.get(EvaluationRow, evaluation_id)
    if row is None:
        raise EvaluationNotFound(f"no evaluation with id {evaluation_id!r}")
    return row


def save_games(
    settings: Settings,
    config_key: str,
    games: Iterable[PlayedGame],
    *,
    purpose: str,
    evaluation_id: str | None = None,
) -> int:
    """Store finished games in one transaction; returns how many."""
    return save_mixed_games(settings, config_key, [(purpose, g) for g in games], evaluation_id=evaluation_id)


def save_mixed_games(
    settings: Settings,
    config_key: str,
    games: Sequence[tuple[str, PlayedGame]],
    *,
    evaluation_id: str | None = None,
) -> int:
    """Store (purpose, game) pairs in one transaction (all or none); returns how many."""
    unknown = sorted({purpose for purpose, _ in games} - set(GAME_PURPOSES))
    if unknown:
        raise ValueError(f"unknown game purpose {unknown[0]!r}; valid: {', '.join(GAME_PURPOSES)}")
    now = utcnow()
    rows = [
        ArenaGameRow(
            config_key=config_key,
            evaluation_id=evaluation_id,
            purpose=purpose,
            players=list(g.players),
            returns=list(g.returns),
            opening=list(g.opening),
            moves=list(g.moves),
            length=g.length,
            opening_group=g.opening_group,
            created_at=now,
        )
        for purpose, g in games
    ]
    with session_scope(settings) as s:
        s.add_all(rows)
    return len(rows)


def load_games(
    settings: Settings, config_key: str, *, evaluation_id: str | None = None
) -> list[ArenaGameRow]:
    """Stored games of a config key (or of one evaluation), oldest first."""
    query = select(ArenaGameRow).where(ArenaGameRow.config_key == config_key)
    if evaluation_id is not None:
        query = query.where(ArenaGameRow.evaluation_id == evaluation_id)
    with read_scope(settings) as s:
        return list(s.scalars(query.order_by(ArenaGameRow.id)).all())


def game_results(settings: Settings, config_key: str) -> list[GameResult]:
    """Every stored game of a config key as rating input."""
    query = (
        select(ArenaGameRow.players, ArenaGameRow.returns)
        .where(ArenaGameRow.config_key == config_key)
        .order_by(ArenaGameRow.id)
    )
    with read_scope(settings) as s:
        return [GameResult(tuple(p), tuple(float(r) for r in ret)) for p, ret in s.execute(query)]


def count_games_between(settings: Settings, config_key: str, names: Sequence[str]) -> int:
    """Stored games of a config key whose seats are all taken by players among ``names`` (with at least two)."""
    allowed = set(names)
    query = select(ArenaGameRow.players).where(ArenaGameRow.config_key == config_key)
    with read_scope(settings) as s:
        return sum(1 for (players,) in s.execute(query) if set(players) <= allowed and len(set(players)) > 1)


def count_games(settings: Settings, config_key: str) -> int:
    with read_scope(settings) as s:
        return int(
            s.scalar(
                select(func.count()).select_from(ArenaGameRow).where(ArenaGameRow.config_key == config_key)
            )
        )
