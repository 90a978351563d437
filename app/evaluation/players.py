"""Who can sit at an arena table: fixed anchors, the production model, or a registered model id.

Anchors are agents without a network whose strength never changes, so ratings measured against them cannot
inflate: ``random`` (the zero of the scale) and ``rollout_mcts_<n>`` (plain UCT with random rollouts at a fixed
budget of n simulations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.config import Settings
from app.core.errors import InvalidConfig, ModelNotFound
from app.core.names import (
    DEFAULT_ANCHORS,
    PRODUCTION,
    RANDOM,
    Player,
    PlayerKind,
    is_anchor,
    parse_player,
)

if TYPE_CHECKING:  # the config module imports this one and must stay cheap (no game kernels)
    from app.games.base import Game
    from app.search.types import Agent

__all__ = ["DEFAULT_ANCHORS", "PRODUCTION", "RANDOM", "check_name", "is_anchor", "make_agent", "resolve_name"]


def check_name(name: str, config_key: str, *, allow_production: bool = True) -> Player:
    """The player a name stands for; ``InvalidConfig`` for none of the valid forms or a model of another key."""
    try:
        player = parse_player(name, config_key=config_key, allow_production=allow_production)
    except ValueError as exc:
        raise InvalidConfig(str(exc)) from None
    if player.kind is PlayerKind.UNIFORM and player.simulations is None:
        # A rating belongs to a fixed budget: 'uniform' alone names no strength.
        raise InvalidConfig(f"{name!r} needs its budget here: 'uniform_mcts_<simulations>'")
    return player


def resolve_name(name: str, config_key: str, settings: Settings) -> str:
    """The rating identity of a player: ``production`` becomes the production model's id."""
    check_name(name, config_key)
    if name != PRODUCTION:
        return name
    from app.registry import production_model_id  # the evaluation config imports this module: keep it cheap

    model_id = production_model_id(settings, config_key)
    if model_id is None:
        raise ModelNotFound(
            f"{config_key} has no production model yet; evaluate against an anchor instead "
            f"(for example --opponent random) or promote a model first"
        )
    return model_id


def make_agent(
    name: str, game: Game, settings: Settings, *, num_simulations: int, solver: bool = False
) -> Agent:
    """The agent for a resolved player name; a model is loaded from its checkpoint (checksum verified).

    ``solver``: a model searches with the MCTS-solver (two players only; anchors always play as named)."""
    # Imported here: the search kernels load only when a game is played, not for name checks.
    from app.search.agents import NetworkAgent, RandomAgent, RolloutMCTSAgent

    player = check_name(name, game.config_key, allow_production=False)
    if player.kind is PlayerKind.RANDOM:
        return RandomAgent()
    if player.kind is PlayerKind.ROLLOUT:
        return RolloutMCTSAgent(player.simulations)
    if player.kind is PlayerKind.UNIFORM:
        from app.search.config import MCTSConfig

        return NetworkAgent(None, MCTSConfig(num_simulations=player.simulations), name)
    # Imported here: torch loads only when a network actually plays.
    from app.registry import registered_evaluator
    from app.search.config import MCTSConfig

    config = MCTSConfig(num_simulations=num_simulations, solver=solver and game.num_players == 2)
    return NetworkAgent(registered_evaluator(settings, name, game), config, name)
