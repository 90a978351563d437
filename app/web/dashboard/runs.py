"""Read models of a config key's runs (branches) for the dashboard: each run's production line on the config key's
one anchored scale, and the settings two runs differ in (``app.integration.runs`` does the reading)."""

from __future__ import annotations

from app.core.config import Settings
from app.core.names import parse_run
from app.core.records import from_attributes
from app.evaluation.players import is_anchor
from app.integration.report import production_generations
from app.integration.runs import diff_runs, list_runs
from app.registry import ModelLifecycle
from app.web.dashboard.loop import public_rating, rating_of, rating_table
from app.web.dashboard.schemas import (
    GenerationPoint,
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
            GenerationPoint(model_id=model_id, version=versions[model_id], rating=rating_of(table, model_id))
            for model_id in production_generations(settings, config_key, r.run)
        ]
        data.append(from_attributes(RunPublic, r, generations=generations))
    anchors = sorted((x for x in table.ratings if is_anchor(x.name)), key=lambda x: (x.elo, x.name))
    return RunsPublic(
        config_key=config_key, data=data, count=len(data), anchors=[public_rating(x) for x in anchors]
    )


def runs_diff(settings: Settings, config_key: str, a: str, b: str) -> RunsDiffPublic:
    """The settings runs ``a`` and ``b`` differ in; an unknown run is ``RunNotFound`` naming the runs there are."""
    rows = diff_runs(settings, config_key, parse_run(a), parse_run(b))
    data = [SettingDiffPublic(key=d.key, a=d.a, b=d.b) for d in rows]
    return RunsDiffPublic(config_key=config_key, a=a, b=b, data=data)
