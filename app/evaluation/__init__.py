"""Rated evaluation: the arena, ratings anchored at ``random`` = 0, and the GSPRT promotion gate."""

from app.evaluation.arena import PlayedGame, play_games, play_rotated, random_openings, seat_rotations
from app.evaluation.config import EvalConfig, EvalResult, RatedPlayer
from app.evaluation.players import DEFAULT_ANCHORS
from app.evaluation.ratings import GameResult, Rating, RatingTable, fit_ratings
from app.evaluation.sprt import GSPRT, SPRTResult, llr_logistic, wald_bounds
from app.evaluation.stage import config_ratings, run_evaluation

__all__ = [
    "DEFAULT_ANCHORS",
    "GSPRT",
    "EvalConfig",
    "EvalResult",
    "GameResult",
    "PlayedGame",
    "RatedPlayer",
    "Rating",
    "RatingTable",
    "SPRTResult",
    "config_ratings",
    "fit_ratings",
    "llr_logistic",
    "play_games",
    "play_rotated",
    "random_openings",
    "run_evaluation",
    "seat_rotations",
    "wald_bounds",
]
