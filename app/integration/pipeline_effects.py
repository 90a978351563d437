"""What the pipeline records after each job: the candidate in the registry, its training and gate results as
feedback, the promotion decision. Each step checks what is already recorded first, so a run killed between any
two of them and started again records nothing twice and promotes nobody twice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from app.core.errors import ModelNotFound
from app.core.names import UNIFORM
from app.evaluation.config import EvalResult
from app.integration import pipeline_stages as stages
from app.integration.feedback_types import FeedbackType
from app.integration.pipeline_config import CycleSettings
from app.integration.pipeline_state import Cycle
from app.registry import ModelStage
from app.training.config import TrainResult

if TYPE_CHECKING:
    from app.integration.feedback import PipelineFeedback
    from app.integration.pipeline_config import PipelineConfig
    from app.integration.pipeline_state import PipelineState
    from app.registry import ModelLifecycle


class CycleEffects:
    """The side effects of ``Pipeline`` (a mixin: it owns the lifecycle, feedback, state and config below)."""

    config_key: str
    config: PipelineConfig
    lifecycle: ModelLifecycle
    feedback: PipelineFeedback
    state: PipelineState

    def _register_candidate(self, cycle: Cycle, settings: CycleSettings, parent: str) -> None:
        candidate = cycle.candidate_model_id
        try:
            self.lifecycle.get_model(candidate)
            return
        except ModelNotFound:
            pass
        self.lifecycle.register_model(
            candidate,
            ModelStage.TRAINING,
            parent_model_id=None if parent == UNIFORM else parent,
            training_config=settings.model_dump(),
            metadata={"cycle": cycle.cycle},
            reason=f"pipeline cycle {cycle.cycle}",
        )

    def _after_training(self, cycle: Cycle, training: TrainResult) -> None:
        candidate = cycle.candidate_model_id
        model = self.lifecycle.get_model(candidate)
        if model.stage is ModelStage.TRAINING:
            self.lifecycle.update_model(
                candidate,
                artifact_path=training.checkpoint_path,
                sha256=training.sha256,
                metrics=dict(training.final),
                metadata={
                    "shards": training.shards,
                    "positions": training.positions,
                    "history": training.history,
                    "samples_per_s": training.samples_per_s,
                },
            )
        if not self._recorded(candidate, FeedbackType.TRAINING_COMPLETE):
            self.feedback.record(
                FeedbackType.TRAINING_COMPLETE, model_id=candidate, metrics=stages.training_feedback(training)
            )
        if model.stage is ModelStage.TRAINING:
            self.lifecycle.promote_model(candidate, ModelStage.EVALUATION, reason="training finished")

    def _after_evaluation(self, cycle: Cycle, evaluation: EvalResult) -> None:
        candidate = cycle.candidate_model_id
        if self._recorded(candidate, FeedbackType.EVALUATION_RESULT):
            return
        self.feedback.record(
            FeedbackType.EVALUATION_RESULT,
            model_id=candidate,
            metrics=stages.evaluation_feedback(evaluation),
            context={"opponent": evaluation.opponent, "decision": evaluation.decision},
        )

    def _promotion(
        self, cycle: Cycle, evaluation: EvalResult, lanes: Mapping[str, float] | None = None
    ) -> str:
        """Gate accepted → STAGING; the staging policy confirmed → PRODUCTION; otherwise RETIRED. Both verdicts
        follow from the stored evaluation, so a rerun after a kill between the moves finishes the same way.
        ``lanes``: the cycle's stage rates (``pipeline_stages.lane_metrics``), recorded with the decision."""
        number, candidate = cycle.cycle, cycle.candidate_model_id
        row = self.state.step(number, "promotion")
        if row is not None and row.status == "done":
            return row.result["decision"]
        accepted, why = stages.gate_verdict(self.config, evaluation)
        reason = f"{why} against {evaluation.opponent} (cycle {number})"
        evidence = stages.staging_evidence(evaluation) | {"rule": why}
        failures = self.config.staging.check(elo_delta=evaluation.elo_delta, evidence=evidence)
        promoted = accepted and not failures
        stage = self.lifecycle.get_model(candidate).stage
        if stage is ModelStage.EVALUATION:
            target = ModelStage.STAGING if accepted else ModelStage.RETIRED
            self.lifecycle.promote_model(
                candidate, target, elo_delta=evaluation.elo_delta, reason=reason, evidence=evidence
            )
            stage = target
        if stage is ModelStage.STAGING:
            if promoted:
                confirmed = "; ".join(self._staging_rules()) or "no staging rule"
                self.lifecycle.promote_to_production(
                    candidate,
                    elo_delta=evaluation.elo_delta,
                    reason=f"confirmed in staging ({confirmed}); {reason}",
                    evidence=evidence,
                )
            else:
                self.lifecycle.promote_model(
                    candidate,
                    ModelStage.RETIRED,
                    elo_delta=evaluation.elo_delta,
                    reason="staging: " + "; ".join(str(f) for f in failures),
                    evidence=evidence,
                )
        decision = "promoted" if promoted else "rejected"
        if not self._recorded(candidate, FeedbackType.PROMOTION_DECISION):
            context = {"decision": decision, "opponent": evaluation.opponent}
            if accepted and failures:
                context["staging"] = "; ".join(str(f) for f in failures)
            self.feedback.record(
                FeedbackType.PROMOTION_DECISION,
                model_id=candidate,
                metrics={
                    "promoted": 1.0 if promoted else 0.0,
                    "elo_delta": float(evaluation.elo_delta),
                    **(lanes or {}),
                },
                context=context,
            )
        self.state.save_step(number, "promotion", status="done", result={"decision": decision})
        return decision

    def _staging_rules(self) -> list[str]:
        """The staging policy's rules in force, as ``name=value``."""
        rules = self.config.staging.model_dump(exclude_none=True).items()
        return [
            f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"
            for name, value in rules
            if value is not False
        ]

    def _recorded(self, model_id: str, feedback_type: FeedbackType) -> bool:
        return bool(
            self.feedback.history(self.config_key, model_id=model_id, feedback_type=feedback_type, limit=1)
        )
