"""The selfplay stage: many games at once through the batched search, written as training shards.

Names are imported on first use: the config module stays cheap to import (see ``app.core.lazy``).
"""

from app.core.lazy import lazy_exports

_EXPORTS = {
    "SelfplayConfig": "app.selfplay.config",
    "SelfplayResult": "app.selfplay.config",
    "run_selfplay": "app.selfplay.stage",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
