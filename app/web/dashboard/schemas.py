"""The shapes of the dashboard's JSON endpoints (they are part of the node's OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.integration.feedback_followup import RuleStatus


class RatingPublic(BaseModel):
    """A player's rating on its config key's scale (``random`` = 0 Elo), with a 95% interval."""

    name: str
    elo: float
    ci_low: float
    ci_high: float
    games: int


class ModelSummary(BaseModel):
    model_id: str
    version: int
    stage: str
    parent_model_id: str | None
    created_at: datetime | None
    updated_at: datetime | None
    metrics: dict[str, float] = Field(description="Final metrics recorded with the model.")
    rating: RatingPublic | None = Field(description="None while the model has no games linking it to random.")
    allowed: list[str] = Field(description="Stages this model may be promoted to now.")


class ConfigSummary(BaseModel):
    """One config key at a glance."""

    config_key: str
    production: str | None = Field(description="Model id in PRODUCTION, if any.")
    production_rating: RatingPublic | None
    models: int
    stages: dict[str, int] = Field(description="Models per stage.")
    jobs: dict[str, int] = Field(description="Jobs of this config key per state.")
    rated_games: int = Field(description="Arena games stored for this config key.")
    recommendations: int = Field(description="Open (not applied) feedback recommendations.")


class ConfigsPublic(BaseModel):
    data: list[ConfigSummary]
    count: int


class ConfigDetail(BaseModel):
    """The models of a config key with their ratings, and the anchors they are rated against."""

    config_key: str
    production: str | None
    rollback_to: str | None = Field(
        default=None,
        description="The model a rollback would put back into PRODUCTION (None: none to go back to).",
    )
    models: list[ModelSummary] = Field(description="Ordered by version (generation).")
    anchors: list[RatingPublic] = Field(description="Fixed anchors on the scale, weakest first.")
    others: list[RatingPublic] = Field(
        description="Rated players that are neither anchors nor registered models."
    )
    unrated: list[str] = Field(description="Players with games but no chain of games to the anchor.")
    rated_games: int
    anchor: str = Field(description="The player fixed at 0 Elo.")


class StageChange(BaseModel):
    """A lifecycle transition that a gate decision led to."""

    model_id: str
    from_stage: str | None
    to_stage: str
    kind: str
    at: datetime
    reason: str | None


class GateDecision(BaseModel):
    """One evaluation of a candidate: the SPRT's evidence and what the lifecycle did with it.

    Numbers are None when the evaluation did not get far enough to have them (or the value is unbounded,
    such as an Elo interval open on one side).
    """

    evaluation_id: str
    config_key: str
    candidate: str
    opponent: str
    status: str = Field(description="running, finished or failed.")
    decision: str | None = Field(description="accept, reject or inconclusive once finished.")
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    games: int | None = None
    score: float | None = None
    elo_delta: float | None = None
    elo_ci_low: float | None = None
    elo_ci_high: float | None = None
    llr: float | None = None
    llr_lower: float | None = None
    llr_upper: float | None = None
    llr_path: list[float] = Field(default_factory=list, description="LLR after each look of the gate.")
    elo0: float | None = None
    elo1: float | None = None
    wins: int | None = None
    draws: int | None = None
    losses: int | None = None
    pentanomial: list[int] | None = None
    stage_changes: list[StageChange] = Field(
        default_factory=list, description="Promotions whose evidence names this evaluation."
    )
    purpose: Literal["gate", "adhoc"] = Field(
        default="adhoc", description="'gate': the loop's promotion decision; 'adhoc': asked for by a person."
    )


class GateDecisionsPublic(BaseModel):
    data: list[GateDecision]
    count: int = Field(description="Evaluations matching the filters, all pages together.")


class TrainingCurves(BaseModel):
    """Per-epoch training metrics of a model and where they were found.

    ``history`` rows are ``TrainResult.history``: ``epoch``, ``train/<m>``, ``val/<m>`` for m in policy_loss,
    value_loss, loss, policy_accuracy, value_mse, and ``lr``.
    """

    model_id: str
    source: str | None = Field(
        description="'metadata' (the model's metadata['history']), 'job' (the result of the training job "
        "that produced it) or None when neither holds a history."
    )
    job_id: str | None
    history: list[dict[str, float]]
    shards: list[str] = Field(description="Shards the model was trained on, newest first.")
    hyperparameters: dict[str, Any]
    positions: dict[str, int] = Field(
        default_factory=dict, description="'train' and 'val' positions, or the window's 'total', when known."
    )
    games: int | None = None


class Verdict(BaseModel):
    """The loop's follow-up on an applied recommendation: did the quantity its rule meant to move improve?"""

    event_id: int
    improved: bool
    metric: str
    before: float | None
    after: float | None


class AppliedRecommendation(BaseModel):
    identity: str
    rule: str
    config_key: str
    applied_at: datetime
    recommendation: dict[str, Any]
    verdict: Verdict | None = Field(default=None, description="None until the follow-up is due.")


class AppliedRecommendationsPublic(BaseModel):
    data: list[AppliedRecommendation]
    count: int
    rules: list[RuleStatus] = Field(
        default_factory=list, description="Each tuning rule's record (with a config_key only)."
    )


class PromoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an ignored field (elo_delta) would look accepted

    stage: str = Field(
        max_length=32, description="Target stage: EVALUATION, STAGING, PRODUCTION or RETIRED (any case)."
    )
    reason: str | None = Field(default=None, max_length=500, description="Why; kept in the model's history.")


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="Why; kept in the history of both models.")


class PromoteResult(BaseModel):
    model_id: str
    from_stage: str
    to_stage: str
    superseded: str | None = Field(description="The production model this promotion retired, if any.")
    evaluation_id: str | None = Field(description="The evaluation whose evidence was attached, if any.")


class RollbackResult(BaseModel):
    config_key: str
    restored: str = Field(description="The model back in PRODUCTION.")
    retired: str | None = Field(description="The production model the rollback retired, if any.")


class GenerationPoint(BaseModel):
    """A production generation of a run: the model, its version (one counter per config key, so versions order
    every run's models in time) and its Elo on the config key's one anchored scale (None while unrated)."""

    model_id: str
    version: int
    rating: RatingPublic | None


class RunPublic(BaseModel):
    """One run (branch) of a config key."""

    run: str
    fork_model_id: str | None = Field(description="The model the run was forked from; None: generation 0.")
    production: str | None
    models: int
    cycles: int
    cycles_done: int
    updated_at: datetime | None
    generations: list[GenerationPoint] = Field(
        description="Its production models in the order they got there."
    )


class RunsPublic(BaseModel):
    config_key: str
    data: list[RunPublic] = Field(description="The main run first, then the others by start.")
    count: int
    anchors: list[RatingPublic]


class SettingDiffPublic(BaseModel):
    key: str = Field(description="A dotted setting (cycle.num_simulations), or 'fork' for the fork points.")
    a: Any
    b: Any


class RunsDiffPublic(BaseModel):
    """The settings that differ between two runs (``cycle.*`` as each run's latest cycle used them)."""

    config_key: str
    a: str
    b: str
    data: list[SettingDiffPublic]
