"""The selfplay stage: many games at once through the batched search, written as training shards.

Names are imported on first use: the config module stays cheap to import (see ``app.core.lazy``).
"""

from app.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    globals(),
    {
        "app.selfplay.config": ("SelfplayConfig", "SelfplayResult"),
        "app.selfplay.stage": ("run_selfplay",),
    },
)
