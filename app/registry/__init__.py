"""The model registry: stages and the transition table, the lifecycle service, and loading a model's network.

``types`` (stages, records, transitions) and ``policy`` sit at the bottom; ``store`` holds the SQL, ``paths``
keeps artifact paths relative to the data directory, ``lifecycle`` is the service that owns every write and
``load`` what the stages read. torch loads only when ``load_registered_net`` actually loads a network.
"""

from app.registry.lifecycle import ModelLifecycle
from app.registry.load import (
    ModelArtifact,
    has_checkpoint,
    load_registered_net,
    model_artifact,
    newest_trained,
    production_model_id,
    registered_evaluator,
)
from app.registry.paths import CHECKPOINT_DIR, copy_into_home, stored_artifact_path
from app.registry.policy import PromotionPolicy, RuleFailure
from app.registry.types import (
    ENTRY_STAGES,
    POLICY_STAGES,
    TRANSITIONS,
    ModelRecord,
    ModelStage,
    Transition,
    allowed_transitions,
)

__all__ = [
    "CHECKPOINT_DIR",
    "ENTRY_STAGES",
    "POLICY_STAGES",
    "TRANSITIONS",
    "ModelArtifact",
    "ModelLifecycle",
    "ModelRecord",
    "ModelStage",
    "PromotionPolicy",
    "RuleFailure",
    "Transition",
    "allowed_transitions",
    "copy_into_home",
    "has_checkpoint",
    "load_registered_net",
    "model_artifact",
    "newest_trained",
    "production_model_id",
    "registered_evaluator",
    "stored_artifact_path",
]
