"""State changes of the model lifecycle over HTTP: promote a model, roll a config key back (imported lazily,
as in ``views``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from app.web.dashboard import actions
from app.web.dashboard.schemas import PromoteRequest, PromoteResult, RollbackRequest, RollbackResult
from app.web.deps import ConfigKeyPath, ModelIdPath, SettingsDep
from app.web.responses import CONFLICTS

router = APIRouter(tags=["lifecycle"], responses=CONFLICTS)

PROMOTE_EXAMPLES = {
    "staging": {"summary": "Stage a candidate", "value": {"stage": "STAGING", "reason": "gate passed"}},
    "retire": {"summary": "Retire a model", "value": {"stage": "RETIRED", "reason": "superseded"}},
}


@router.post("/models/{model_id}/promote", operation_id="promote_model")
def promote_model(
    model_id: ModelIdPath,
    body: Annotated[PromoteRequest, Body(openapi_examples=PROMOTE_EXAMPLES)],
    settings: SettingsDep,
) -> PromoteResult:
    """Move a model to another stage (PRODUCTION retires the current production model).

    STAGING and PRODUCTION carry the evidence of the model's latest finished evaluation. A move the transition
    table forbids is 409.
    """
    return actions.promote(settings, model_id, body.stage, reason=body.reason)


@router.post("/configs/{config_key}/rollback")
def rollback(
    config_key: ConfigKeyPath,
    body: RollbackRequest,
    settings: SettingsDep,
) -> RollbackResult:
    """Put the previous production model of a config key back into PRODUCTION; 404 when there is none."""
    return actions.rollback(settings, config_key, reason=body.reason)
