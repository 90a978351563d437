"""Rated evaluation: the arena, ratings anchored at ``random`` = 0, and the GSPRT promotion gate.

Names are imported on first use: the config module stays cheap to import (see ``app.core.lazy``).
"""

from app.core.lazy import lazy_exports

_EXPORTS = {
    "PlayedGame": "app.evaluation.arena",
    "play_games": "app.evaluation.arena",
    "play_rotated": "app.evaluation.arena",
    "random_openings": "app.evaluation.arena",
    "seat_rotations": "app.evaluation.arena",
    "EvalConfig": "app.evaluation.config",
    "EvalResult": "app.evaluation.config",
    "RatedPlayer": "app.evaluation.config",
    "DEFAULT_ANCHORS": "app.evaluation.players",
    "GameResult": "app.evaluation.ratings",
    "Rating": "app.evaluation.ratings",
    "RatingTable": "app.evaluation.ratings",
    "fit_ratings": "app.evaluation.ratings",
    "GSPRT": "app.evaluation.sprt",
    "SPRTResult": "app.evaluation.sprt",
    "llr_logistic": "app.evaluation.sprt",
    "wald_bounds": "app.evaluation.sprt",
    "config_ratings": "app.evaluation.stage",
    "run_evaluation": "app.evaluation.stage",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
