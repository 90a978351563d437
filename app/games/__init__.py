"""Game rules behind one protocol, and the registry of built-in board types.

Names are imported on first use: ``app.games.job_config``, which every stage's config builds on, stays cheap to
import (see ``app.core.lazy``).
"""

from app.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    globals(),
    {
        "app.games.base": ("Game", "State", "Symmetry", "play_randomly", "random_openings"),
        "app.games.connect": ("ConnectGame", "ConnectState"),
        "app.games.hex": ("HexGame", "HexState"),
        "app.games.job_config": ("GameJobConfig",),
        "app.games.registry": ("DEFAULT_BOARD_TYPE", "game_for_key", "make_game", "supported"),
    },
)
