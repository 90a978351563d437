"""A stored game position by position, for the dashboard's viewer: the board after every move and, where the
model that was to move is registered, its network's priors and value there (the raw network, no search)."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.core.config import Settings
from app.core.errors import ModelNotFound
from app.core.names import parse_model_id
from app.games.base import Game, State
from app.games.registry import game_for_key
from app.records.games import StoredGame, get_game
from app.records.sgf import move_names

TOP_MOVES = 5


def game_view(settings: Settings, game_id: str) -> dict[str, Any]:
    """The game, and per ply 0..N: the board (text), who is to move, the move played and the model's view."""
    record = get_game(settings, game_id)
    game = game_for_key(record.config_key)
    states, replay_error = _states(game, record.moves)
    names = move_names(game, record.moves)
    views = _model_views(settings, game, record, states)
    positions = []
    for ply, state in enumerate(states):
        terminal = game.is_terminal(state)
        positions.append(
            {
                "ply": ply,
                "board": game.render(state),
                "to_move": None if terminal else game.current_player(state),
                # The move that leads to the next position shown: a bad move that ended the replay has none.
                "move": names[ply] if ply + 1 < len(states) else None,
                "in_opening": ply < record.opening_length,
                "model": views.get(ply),
            }
        )
    return {
        "game_id": record.game_id,
        "kind": record.kind,
        "config_key": record.config_key,
        "players": list(record.players),
        "returns": list(record.returns),
        "source": record.source,
        "opening_length": record.opening_length,
        "moves": names,
        "positions": positions,
        "replay_error": replay_error,
    }


def _states(game: Game, moves: tuple[int, ...]) -> tuple[list[State], str | None]:
    """The positions the moves lead through; a record that breaks the rules stops at its first bad move, and
    the second element says why (a viewer shows what can be shown rather than nothing)."""
    states = [game.initial_state()]
    for ply, action in enumerate(moves):
        try:
            states.append(game.apply(states[-1], action))
        except ValueError as exc:
            return states, f"the record cannot be replayed past move {ply}: {exc}"
    return states, None


def _model_views(settings: Settings, game: Game, record: StoredGame, states: list[State]) -> dict[int, dict]:
    """Ply → {model, value (absolute order), top moves with priors} for the positions a registered model was to
    move in; positions of anchors, generation 0 or unregistered models get none."""
    plies_of: dict[str, list[int]] = {}
    for ply, state in enumerate(states):
        if not game.is_terminal(state):
            plies_of.setdefault(record.players[game.current_player(state)], []).append(ply)
    out: dict[int, dict] = {}
    for name, plies in plies_of.items():
        evaluate = _evaluator(settings, game, name)
        if evaluate is None:
            continue
        chosen = [states[p] for p in plies]
        planes = np.stack([game.encode(s) for s in chosen]).astype(np.float32)
        legal = np.stack([game.legal_mask(s) for s in chosen])
        priors, values = evaluate(planes, legal)
        for k, (ply, state) in enumerate(zip(plies, chosen, strict=True)):
            mover = game.current_player(state)
            absolute = np.roll(values[k], mover)  # mover-relative index i is player (mover + i) % P
            top = np.argsort(-priors[k])[:TOP_MOVES]
            out[ply] = {
                "model": name,
                "value": [round(float(v), 4) for v in absolute],
                "top": [
                    {"move": game.action_to_string(int(a)), "prior": round(float(priors[k][a]), 4)}
                    for a in top
                    if priors[k][a] > 0
                ],
            }
    return out


def _evaluator(settings: Settings, game: Game, name: str):
    try:
        parse_model_id(name)
    except ValueError:
        return None  # an anchor or generation 0: no network to ask
    # Imported here: torch loads only when a model is asked for its view of a position.
    from app.registry import registered_evaluator

    try:
        return registered_evaluator(settings, name, game)
    except ModelNotFound:
        return None
