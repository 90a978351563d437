"""Read-only views of the model registry, ratings and feedback, for dashboards and scripts.

The modules behind them are imported inside each route: the node starts (and runs jobs) without them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.evaluation import config_ratings
from app.integration.feedback import PipelineFeedback
from app.registry import ModelLifecycle
from app.web.deps import ConfigKeyPath, ConfigKeyQuery, ModelIdPath, SettingsDep

router = APIRouter(tags=["views"])

# OpenAPI links from the model list to the routes that take a model id (clients and stateful fuzzers follow them).
_FIRST_MODEL_ID = {"model_id": "$response.body#/data/0/model_id"}
MODEL_LINKS = {
    name: {"operationId": operation, "parameters": _FIRST_MODEL_ID, "description": description}
    for name, operation, description in (
        ("GetModel", "get_model", "The first model listed, with its lineage."),
        ("ModelHistory", "model_history", "Its stage changes."),
        ("TrainingCurves", "training_curves", "Its training metrics."),
        ("PromoteModel", "promote_model", "Move it to another stage."),
    )
}


@router.get("/models", responses={200: {"description": "Models and their count.", "links": MODEL_LINKS}})
def list_models(
    settings: SettingsDep,
    config_key: ConfigKeyQuery = None,
    stage: Annotated[
        str | None, Query(description="TRAINING, EVALUATION, STAGING, PRODUCTION or RETIRED")
    ] = None,
) -> dict[str, Any]:
    models = ModelLifecycle(settings).list_models(config_key=config_key, stage=stage)
    return {"data": models, "count": len(models)}


@router.get("/models/{model_id}", operation_id="get_model")
def get_model(model_id: ModelIdPath, settings: SettingsDep) -> dict[str, Any]:
    lifecycle = ModelLifecycle(settings)
    return {"model": lifecycle.get_model(model_id), "lineage": lifecycle.lineage(model_id)[1:]}


@router.get("/models/{model_id}/history", operation_id="model_history")
def model_history(model_id: ModelIdPath, settings: SettingsDep) -> list[Any]:
    return ModelLifecycle(settings).history(model_id)


@router.get("/feedback")
def feedback_events(
    settings: SettingsDep,
    config_key: ConfigKeyQuery = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
) -> dict[str, Any]:
    events = PipelineFeedback(settings).history(config_key, limit=limit)
    return {"data": events, "count": len(events)}


@router.get("/feedback/recommendations")
def feedback_recommendations(
    settings: SettingsDep, config_key: ConfigKeyQuery = None
) -> list[dict[str, Any]]:
    return [r.to_dict() for r in PipelineFeedback(settings).get_recommendations(config_key)]


@router.get("/ratings/{config_key}")
def ratings(
    config_key: ConfigKeyPath,
    settings: SettingsDep,
) -> Any:
    """Ratings of every player of a config key, fitted over all its stored arena games (anchor at 0)."""
    return config_ratings(config_key, settings=settings)
