"""The seed API: feedback, lifecycle, the P2P client and the Pipeline that closes the loop.

Names are imported on first use (``app.core.lazy``) so that ``from app.integration import ModelLifecycle`` does
not pull in the HTTP client or torch.
"""

from app.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    globals(),
    {
        "app.integration.feedback": ("PipelineFeedback", "FeedbackType", "Recommendation"),
        "app.registry": ("ModelLifecycle", "ModelStage", "PromotionPolicy"),
        "app.integration.p2p_client": ("P2PIntegration", "JobStatus"),
    },
)
