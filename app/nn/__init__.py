"""The policy/value network, the evaluator search calls, and checkpoints.

Names are imported on first use: the config module stays cheap to import (see ``app.core.lazy``).
"""

from app.core.lazy import lazy_exports

_EXPORTS = {
    "CheckpointMeta": "app.nn.checkpoint",
    "Lineage": "app.nn.checkpoint",
    "load_checkpoint": "app.nn.checkpoint",
    "read_checkpoint_meta": "app.nn.checkpoint",
    "save_checkpoint": "app.nn.checkpoint",
    "NetConfig": "app.nn.config",
    "EvaluateFn": "app.nn.evaluator",
    "NetworkEvaluator": "app.nn.evaluator",
    "configure_threads": "app.nn.evaluator",
    "default_device": "app.nn.evaluator",
    "uniform_evaluator": "app.nn.evaluator",
    "PolicyValueNet": "app.nn.model",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
