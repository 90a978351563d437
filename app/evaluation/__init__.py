"""Rated evaluation: the arena, ratings anchored at ``random`` = 0, and the GSPRT promotion gate.

Names are imported on first use: the config module stays cheap to import (see ``app.core.lazy``).
"""

from app.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    globals(),
    {
        "app.evaluation.arena": ("PlayedGame", "play_games", "play_rotated", "seat_rotations"),
        "app.evaluation.config": ("EvalConfig", "EvalResult", "RatedPlayer"),
        "app.evaluation.players": ("DEFAULT_ANCHORS",),
        "app.evaluation.ratings": ("GameResult", "Rating", "RatingTable", "fit_ratings"),
        "app.evaluation.sprt": ("GSPRT", "SPRTResult", "llr_logistic", "wald_bounds"),
        "app.evaluation.stage": ("config_ratings", "run_evaluation"),
    },
)
