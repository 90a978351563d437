"""A rating scale that holds still: the anchors calibrated once per game among themselves, then pinned.

Refitting every stored game with only ``random`` fixed lets the anchors drift as games accumulate (in one long
hex6 run ``rollout_mcts_200`` went from 773 to 539), so an Elo figure meant different things at different times.
``calibrate_anchors`` plays a round-robin of the anchors (``run_tournament``), fits their ratings over the stored
games among anchors only, and stores them as a new version; ``scale_fit`` fits every player with the latest
version's anchor ratings pinned, and ``drift_check`` compares each pinned value with the free fit over all games:
a large gap says the calibration is stale (recalibrate) or the anchors' strength depends on the opponent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.core.config import Settings, get_settings
from app.core.errors import InvalidConfig
from app.core.names import DEFAULT_ANCHORS, is_anchor
from app.core.progress import ProgressFn, no_progress
from app.evaluation import store
from app.evaluation.ratings import RatingTable, fit_ratings
from app.storage.base import utcnow
from app.storage.db import read_scope, session_scope
from app.storage.models.evaluation import AnchorCalibrationRow


@dataclass(frozen=True)
class AnchorCalibration:
    config_key: str
    version: int
    ratings: dict[str, float]  # anchor -> Elo, random = 0
    games: int
    created_at: datetime


@dataclass(frozen=True)
class AnchorDrift:
    """An anchor's calibrated (pinned) rating next to what a free fit over every stored game makes of it."""

    name: str
    pinned: float
    free: float | None  # None: the free fit cannot place it
    free_ci_low: float | None
    free_ci_high: float | None

    @property
    def drift(self) -> float | None:
        return None if self.free is None else self.free - self.pinned


def calibrate_anchors(
    config_key: str,
    anchors: Sequence[str] | None = None,
    *,
    games_per_pair: int = 16,
    seed: int = 0,
    settings: Settings | None = None,
    progress: ProgressFn = no_progress,
) -> AnchorCalibration:
    """Play ``games_per_pair`` games between every two anchors, fit them among themselves, store a new version.

    Cost: ``len(anchors) choose 2`` pairs x ``games_per_pair`` games (with the default anchors and 16 games: 48
    games, dominated by rollout_mcts_200's rollouts).
    """
    # Imported here: the tournament (arena, agents) loads only when anchors are calibrated.
    from app.evaluation.tournament import run_tournament

    settings = settings or get_settings()
    names = list(anchors or DEFAULT_ANCHORS)
    bad = [n for n in names if not is_anchor(n)]
    if bad or "random" not in names or len(set(names)) < 2:
        raise InvalidConfig(
            f"anchors must be 'random' and rollout_mcts_<n> players of fixed strength, at least two, got {names}"
            + (f" ({', '.join(bad)} not an anchor)" if bad else "")
        )
    run_tournament(
        config_key, names, games_per_lineup=games_per_pair, seed=seed, settings=settings, progress=progress
    )
    allowed = set(names)
    among = [g for g in store.game_results(settings, config_key) if set(g.players) <= allowed]
    table = fit_ratings(among)
    ratings = {r.name: r.elo for r in table.ratings}
    with session_scope(settings) as s:
        latest = s.scalar(
            select(func.max(AnchorCalibrationRow.version)).where(
                AnchorCalibrationRow.config_key == config_key
            )
        )
        row = AnchorCalibrationRow(
            config_key=config_key,
            version=(latest or 0) + 1,
            ratings=ratings,
            games=len(among),
            created_at=utcnow(),
        )
        s.add(row)
        s.flush()
        return _calibration(row)


def latest_calibration(settings: Settings, config_key: str) -> AnchorCalibration | None:
    with read_scope(settings) as s:
        row = s.scalars(
            select(AnchorCalibrationRow)
            .where(AnchorCalibrationRow.config_key == config_key)
            .order_by(AnchorCalibrationRow.version.desc())
            .limit(1)
        ).first()
        return None if row is None else _calibration(row)


def scale_fit(settings: Settings, config_key: str) -> RatingTable:
    """Every stored game of ``config_key`` rated with the latest calibration's anchors pinned (free without one)."""
    calibration = latest_calibration(settings, config_key)
    pinned = calibration.ratings if calibration else None
    return fit_ratings(store.game_results(settings, config_key), pinned=pinned)


def drift_check(settings: Settings, config_key: str) -> tuple[AnchorCalibration | None, list[AnchorDrift]]:
    """The latest calibration and, per calibrated anchor, its pinned rating against the free fit's."""
    calibration = latest_calibration(settings, config_key)
    if calibration is None:
        return None, []
    free = fit_ratings(store.game_results(settings, config_key))
    out = []
    for name, pinned in sorted(calibration.ratings.items(), key=lambda kv: kv[1]):
        r = free.get(name)
        out.append(
            AnchorDrift(
                name,
                pinned,
                r.elo if r else None,
                r.ci_low if r else None,
                r.ci_high if r else None,
            )
        )
    return calibration, out


def _calibration(row: AnchorCalibrationRow) -> AnchorCalibration:
    return AnchorCalibration(
        config_key=row.config_key,
        version=row.version,
        ratings={k: float(v) for k, v in dict(row.ratings).items()},
        games=row.games,
        created_at=row.created_at,
    )
