"""The training stage: ``run_training(TrainConfig, settings=..., progress=...) -> TrainResult``.

Names are imported on first use: the config module stays cheap to import (see ``app.core.lazy``).
"""

from app.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    globals(),
    {
        "app.training.config": ("TrainConfig", "TrainResult"),
        "app.training.run": ("run_training",),
    },
)
