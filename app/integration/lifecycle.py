"""The seed's ``ModelLifecycle`` and ``ModelStage``: the model registry lives in ``app.registry``.

Kept so that ``app.integration.lifecycle`` imports keep working; new code imports ``app.registry``.
"""

from app.registry import (
    ENTRY_STAGES,
    TRANSITIONS,
    ModelLifecycle,
    ModelRecord,
    ModelStage,
    PromotionPolicy,
    Transition,
    allowed_transitions,
)

__all__ = [
    "ENTRY_STAGES",
    "TRANSITIONS",
    "ModelLifecycle",
    "ModelRecord",
    "ModelStage",
    "PromotionPolicy",
    "Transition",
    "allowed_transitions",
]
