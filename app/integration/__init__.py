"""The seed API: feedback, lifecycle, the P2P client and the Pipeline that closes the loop.

Names are imported on first use so that ``from app.integration import ModelLifecycle`` does not pull in the
HTTP client or torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "PipelineFeedback": "app.integration.feedback",
    "FeedbackType": "app.integration.feedback",
    "Recommendation": "app.integration.feedback",
    "ModelLifecycle": "app.registry",
    "ModelStage": "app.registry",
    "PromotionPolicy": "app.registry",
    "P2PIntegration": "app.integration.p2p_client",
    "JobStatus": "app.integration.p2p_client",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'app.integration' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
