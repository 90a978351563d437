"""Read-only views of the loop per config key, for the dashboard and scripts (see ``app.web.dashboard.loop``).

The service module is imported inside each route, as in ``views``: the node starts and runs jobs without the
evaluation and integration layers it reads.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.p2p.store import MAX_OFFSET
from app.web.dashboard import loop
from app.web.dashboard.schemas import (
    AppliedRecommendationsPublic,
    ConfigDetail,
    ConfigsPublic,
    GateDecisionsPublic,
    TrainingCurves,
)
from app.web.deps import ConfigKeyPath, ConfigKeyQuery, ModelIdPath, SettingsDep

router = APIRouter(tags=["loop"])


@router.get("/configs")
def list_configs(settings: SettingsDep) -> ConfigsPublic:
    """Every config key with anything recorded: its production model, models per stage, jobs, games."""
    data = loop.overview(settings)
    return ConfigsPublic(data=data, count=len(data))


@router.get("/configs/{config_key}")
def get_config(config_key: ConfigKeyPath, settings: SettingsDep) -> ConfigDetail:
    """The models of a config key by generation with their ratings and confidence intervals, and the anchors."""
    return loop.config_detail(settings, config_key)


@router.get("/configs/{config_key}/decisions")
def gate_decisions(
    config_key: ConfigKeyPath,
    settings: SettingsDep,
    candidate: Annotated[
        str | None, Query(max_length=128, description="Only evaluations of this candidate (a model id).")
    ] = None,
    purpose: Annotated[
        Literal["gate", "adhoc"] | None,
        Query(
            description="Only the loop's promotion gates ('gate') or evaluations asked for by hand ('adhoc')."
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> GateDecisionsPublic:
    """Evaluations (gate decisions) newest first, with the SPRT's LLR path, games, score and stage changes."""
    data, count = loop.gate_decisions(
        settings, config_key, candidate=candidate, purpose=purpose, limit=limit, offset=offset
    )
    return GateDecisionsPublic(data=data, count=count)


@router.get("/models/{model_id}/training", operation_id="training_curves")
def training_curves(model_id: ModelIdPath, settings: SettingsDep) -> TrainingCurves:
    """Per-epoch training metrics of a model, its data shards and hyperparameters."""
    return loop.training_curves(settings, model_id)


@router.get("/feedback/applied")
def applied_recommendations(
    settings: SettingsDep,
    config_key: ConfigKeyQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AppliedRecommendationsPublic:
    """Recommendations that were acted on, newest first."""
    data, count = loop.applied_recommendations(settings, config_key, limit=limit)
    rules = loop.rule_standings(settings, config_key) if config_key is not None else []
    return AppliedRecommendationsPublic(data=data, count=count, rules=rules)
