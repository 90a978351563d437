"""The bottom of the model registry: stages, the one table of allowed stage changes, and the frozen records.

Nothing here touches the database; the store (``app.registry.store``) and the service
(``app.registry.lifecycle``) are built on these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from app.core.names import MAIN_RUN, UpperNameEnum


class ModelStage(UpperNameEnum):
    TRAINING = "TRAINING"
    EVALUATION = "EVALUATION"
    STAGING = "STAGING"
    PRODUCTION = "PRODUCTION"
    RETIRED = "RETIRED"


S = ModelStage
# The one table of allowed stage changes. RETIRED is final for promotions; only ``rollback`` brings a model that
# was superseded in PRODUCTION back, and that path is checked separately against the history.
TRANSITIONS: Mapping[ModelStage, frozenset[ModelStage]] = MappingProxyType(
    {
        S.TRAINING: frozenset({S.EVALUATION, S.RETIRED}),
        S.EVALUATION: frozenset({S.STAGING, S.PRODUCTION, S.RETIRED}),
        S.STAGING: frozenset({S.PRODUCTION, S.RETIRED}),
        S.PRODUCTION: frozenset({S.RETIRED}),
        S.RETIRED: frozenset(),
    }
)
ENTRY_STAGES = (S.TRAINING, S.EVALUATION, S.STAGING)
POLICY_STAGES = (S.STAGING, S.PRODUCTION)
_ORDER = {stage: i for i, stage in enumerate(ModelStage)}


def allowed_transitions(stage: ModelStage) -> tuple[ModelStage, ...]:
    return tuple(sorted(TRANSITIONS[stage], key=_ORDER.__getitem__))


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """One registered model. ``artifact_path`` is absolute: the table stores it relative to the data directory
    and the registry resolves it against ``settings.home`` when it reads the row."""

    model_id: str
    config_key: str
    version: int
    stage: ModelStage
    parent_model_id: str | None
    artifact_path: str | None
    sha256: str | None
    training_config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    run: str = MAIN_RUN
    """The run (branch) the model belongs to: ``main``, or the run named in its id (``hex8_2p_wide_v7``)."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One stage change. ``from_stage`` is None for the registration; ``kind`` is register, promote,
    supersede (retired because another model entered PRODUCTION) or rollback."""

    id: int
    model_id: str
    config_key: str
    from_stage: ModelStage | None
    to_stage: ModelStage
    kind: str
    at: datetime
    elo_delta: float | None
    reason: str | None
    evidence: dict[str, Any]
