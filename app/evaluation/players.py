"""Who can sit at an arena table: fixed anchors, the production model, or a registered model id.

Anchors are agents without a network whose strength never changes, so ratings measured against them cannot
inflate: ``random`` (the zero of the scale) and ``rollout_mcts_<n>`` (plain UCT with random rollouts at a fixed
budget of n simulations).
"""

from __future__ import annotations

import re

from app.core.config import Settings
from app.core.errors import InvalidConfig, ModelNotFound
from app.core.names import parse_model_id
from app.games.base import Game
from app.search.types import Agent

RANDOM = "random"
PRODUCTION = "production"
DEFAULT_ANCHORS = (RANDOM, "rollout_mcts_50", "rollout_mcts_200")
_ROLLOUT = re.compile(r"^rollout_mcts_([1-9][0-9]*)$")
# Generation 0 of a pipeline: MCTS with uniform priors and zero values at n simulations. Not an anchor (it is
# only as strong as its budget makes it), but the opponent the first candidate must beat.
_UNIFORM = re.compile(r"^uniform_mcts_([1-9][0-9]*)$")
VALID_FORMS = (
    "'random', 'rollout_mcts_<simulations>', 'uniform_mcts_<simulations>', 'production' or a model id such as "
    "'hex8_2p_v3'"
)


def is_anchor(name: str) -> bool:
    return name == RANDOM or _ROLLOUT.match(name) is not None


def check_name(name: str, config_key: str, *, allow_production: bool = True) -> None:
    """Refuse a player name that is none of the valid forms, or a model id of another config key."""
    if is_anchor(name) or _UNIFORM.match(name) or (allow_production and name == PRODUCTION):
        return
    try:
        model = parse_model_id(name)
    except ValueError:
        forms = VALID_FORMS if allow_production else VALID_FORMS.replace("'production' or ", "")
        raise InvalidConfig(f"unknown player {name!r}; a player is {forms}") from None
    if model.config_key != config_key:
        raise InvalidConfig(f"model {name!r} plays {model.config_key}, not {config_key}")


def resolve_name(name: str, config_key: str, settings: Settings) -> str:
    """The rating identity of a player: ``production`` becomes the production model's id."""
    check_name(name, config_key)
    if name != PRODUCTION:
        return name
    from app.registry import production_model_id

    model_id = production_model_id(settings, config_key)
    if model_id is None:
        raise ModelNotFound(
            f"{config_key} has no production model yet; evaluate against an anchor instead "
            f"(for example --opponent random) or promote a model first"
        )
    return model_id


def make_agent(name: str, game: Game, settings: Settings, *, num_simulations: int) -> Agent:
    """The agent for a resolved player name; a model is loaded from its checkpoint (checksum verified)."""
    from app.search.agents import NetworkAgent, RandomAgent, RolloutMCTSAgent

    if name == RANDOM:
        return RandomAgent()
    rollout = _ROLLOUT.match(name)
    if rollout is not None:
        return RolloutMCTSAgent(int(rollout.group(1)))
    uniform = _UNIFORM.match(name)
    if uniform is not None:
        from app.search.config import MCTSConfig

        return NetworkAgent(None, MCTSConfig(num_simulations=int(uniform.group(1))), name)
    check_name(name, game.config_key, allow_production=False)
    # Imported here: torch loads only when a network actually plays.
    from app.nn import NetworkEvaluator
    from app.registry import load_registered_net
    from app.search.config import MCTSConfig

    net, _meta = load_registered_net(settings, name, game)
    return NetworkAgent(NetworkEvaluator(net), MCTSConfig(num_simulations=num_simulations), name)
