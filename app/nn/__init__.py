"""The policy/value network, the evaluator search calls, and checkpoints.

Names are imported on first use: the config module stays cheap to import (see ``app.core.lazy``).
"""

from app.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    globals(),
    {
        "app.nn.checkpoint": (
            "CheckpointMeta",
            "Lineage",
            "load_checkpoint",
            "read_checkpoint_meta",
            "save_checkpoint",
        ),
        "app.nn.config": ("NetConfig",),
        "app.nn.evaluator": (
            "EvaluateFn",
            "NetworkEvaluator",
            "configure_threads",
            "default_device",
            "uniform_evaluator",
        ),
        "app.nn.model": ("PolicyValueNet",),
    },
)
