"""The training stage: ``run_training(TrainConfig, settings=..., progress=...) -> TrainResult``.

Names are imported on first use: the config module stays cheap to import (see ``app.core.lazy``).
"""

from app.core.lazy import lazy_exports

_EXPORTS = {
    "TrainConfig": "app.training.config",
    "TrainResult": "app.training.config",
    "run_training": "app.training.run",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
