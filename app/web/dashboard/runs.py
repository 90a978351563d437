"""Read models of a config key's runs (branches) for the dashboard: each run's production line on the config key's
one anchored scale, and the settings two runs differ in (``app.integration.runs`` does the reading)."""

from __future__ import annotations

from app.core.config import Settings
from app.core.names import parse_run
from app.evaluation.players import is_anchor
from app.evaluation.ratings import Rating
from app.integration.report import production_generations
from app.integration.runs import diff_runs, list_runs
from app.registry import ModelLifecycle
from app.web.dashboard.loop import rating_table
from app.web.dashboard.schemas import (
    GenerationPoint,
    RatingPublic,
    RunPublic,
    RunsDiffPublic,
    RunsPublic,
    SettingDiffPublic,
)


def runs_view(settings: Settings, config_key: str) -> RunsPublic:
    """Every run of ``config_key`` with its production generations rated by the one fit over all its games."""
    table = rating_table(settings, config_key)
    versions = {m.model_id: m.version for m in ModelLifecycle(settings).list_models(config_key)}
    data = []
    for r in list_runs(settings, config_key):
        generations = [
            GenerationPoint(
                model_id=model_id, version=versions[model_id], rating=_public(table.get(model_id))
            )
            for model_id in production_generations(settings, config_key, r.run)
        ]
        data.append(
            RunPublic(
                run=r.run,
                fork_model_id=r.fork_model_id,
                production=r.production,
                models=r.models,
                cycles=r.cycles,
                cycles_done=r.cycles_done,
                updated_at=r.updated_at,
                generations=generations,
            )  # fmt: skip
        )
    anchors = sorted((x for x in table.ratings if is_anchor(x.name)), key=lambda x: (x.elo, x.name))
    return RunsPublic(
        config_key=config_key, data=data, count=len(data), anchors=[_public(x) for x in anchors]
    )


def runs_diff(settings: Settings, config_key: str, a: str, b: str) -> RunsDiffPublic:
    """The settings runs ``a`` and ``b`` differ in; an unknown run is ``RunNotFound`` naming the runs there are."""
    rows = diff_runs(settings, config_key, parse_run(a), parse_run(b))
    data = [SettingDiffPublic(key=d.key, a=d.a, b=d.b) for d in rows]
    return RunsDiffPublic(config_key=config_key, a=a, b=b, data=data)


def _public(r: Rating | None) -> RatingPublic | None:
    if r is None:
        return None
    return RatingPublic(name=r.name, elo=r.elo, ci_low=r.ci_low, ci_high=r.ci_high, games=r.games)
