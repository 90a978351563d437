"""The state changes the dashboard offers: promote a model along the lifecycle, roll a config key back.

A promotion to STAGING or PRODUCTION carries the evidence of the model's latest finished evaluation (the same
``EvalResult.evidence()`` the pipeline attaches), so a decision taken by a person is recorded with what they saw.
"""

from __future__ import annotations

from sqlalchemy import select

from app.core.config import Settings
from app.evaluation.config import EvalResult
from app.registry import ModelLifecycle, ModelStage
from app.storage.db import read_scope
from app.storage.models.evaluation import EvaluationRow
from app.web.dashboard.schemas import PromoteResult, RollbackResult

SOURCE = "dashboard"
_EVIDENCE_STAGES = (ModelStage.STAGING, ModelStage.PRODUCTION)


def latest_evidence(settings: Settings, model_id: str) -> tuple[str | None, dict]:
    """(evaluation id, evidence) of the newest finished evaluation of ``model_id`` as candidate, or (None, {})."""
    with read_scope(settings) as s:
        row = s.execute(
            select(EvaluationRow.id, EvaluationRow.result)
            .where(EvaluationRow.candidate == model_id, EvaluationRow.status == "finished")
            .order_by(EvaluationRow.finished_at.desc(), EvaluationRow.id)
            .limit(1)
        ).first()
    if row is None or not isinstance(row.result, dict):
        return None, {}
    return row.id, EvalResult.model_validate(row.result).evidence()


def promote(settings: Settings, model_id: str, stage: str, *, reason: str | None = None) -> PromoteResult:
    lifecycle = ModelLifecycle(settings)
    target = ModelStage.parse(stage)
    before = lifecycle.get_model(model_id)
    previous = lifecycle.get_production(before.config_key) if target is ModelStage.PRODUCTION else None
    evaluation_id, evidence = (
        latest_evidence(settings, model_id) if target in _EVIDENCE_STAGES else (None, {})
    )
    after = lifecycle.promote_model(
        model_id,
        target,
        reason=(reason or "").strip() or f"moved to {target} from the dashboard",
        evidence={**evidence, "source": SOURCE},
    )
    superseded = previous.model_id if previous is not None and previous.model_id != model_id else None
    return PromoteResult(
        model_id=after.model_id,
        from_stage=before.stage.value,
        to_stage=after.stage.value,
        superseded=superseded,
        evaluation_id=evaluation_id,
    )


def rollback(settings: Settings, config_key: str, *, reason: str) -> RollbackResult:
    lifecycle = ModelLifecycle(settings)
    current = lifecycle.get_production(config_key)
    restored = lifecycle.rollback(config_key, reason=reason)
    return RollbackResult(
        config_key=config_key,
        restored=restored.model_id,
        retired=current.model_id if current is not None else None,
    )
