"""Stored games (arena and selfplay) as records people and other programs read: Hex SGF and JSON lines."""

from app.records.games import GameNotFound, StoredGame, get_game, list_games, parse_game_id
from app.records.sgf import SGF_UNSUPPORTED, to_json_line, to_sgf

__all__ = [
    "SGF_UNSUPPORTED",
    "GameNotFound",
    "StoredGame",
    "get_game",
    "list_games",
    "parse_game_id",
    "to_json_line",
    "to_sgf",
]
