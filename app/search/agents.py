"""Move pickers with one interface (``Agent``), shared by selfplay and the arena."""

from __future__ import annotations

import numpy as np

from app.core.errors import InvalidConfig
from app.core.names import rollout_player
from app.games.base import Game, State
from app.search.config import MCTSConfig
from app.search.leaves import RolloutLeaves
from app.search.sampling import select_action
from app.search.search import BatchedMCTS
from app.search.types import EvaluateFn


def _check_states(game: Game, states: list[State]) -> None:
    for i, state in enumerate(states):
        if game.is_terminal(state):
            raise ValueError(f"states[{i}] is terminal: an agent can only move in a game that is still going")


class RandomAgent:
    """Uniformly random legal moves (name ``random``)."""

    name = "random"

    def select_actions(self, game: Game, states: list[State], rng: np.random.Generator) -> list[int]:
        _check_states(game, states)
        actions = []
        for state in states:
            moves = np.flatnonzero(game.legal_mask(state))
            actions.append(int(moves[rng.integers(moves.size)]))
        return actions


class RolloutMCTSAgent:
    """Plain UCT with uniformly random rollouts: the network-free baseline (name ``rollout_mcts_{simulations}``).

    UCB1 selection (``c_uct``), one random playout per new leaf (the game's fast ``random_playout`` when it has
    one), and the most-visited root move (ties broken at random).
    """

    def __init__(self, simulations: int, *, c_uct: float = 1.4) -> None:
        if isinstance(simulations, bool) or not isinstance(simulations, int) or simulations < 1:
            raise InvalidConfig(f"RolloutMCTSAgent needs simulations >= 1, got {simulations!r}")
        self.simulations = simulations
        self.config = MCTSConfig(num_simulations=simulations, selection="ucb1", c_uct=c_uct)
        self.name = rollout_player(simulations)

    def select_actions(self, game: Game, states: list[State], rng: np.random.Generator) -> list[int]:
        if not states:
            return []
        _check_states(game, states)
        search = BatchedMCTS(game, RolloutLeaves(game), self.config)
        out = search.run(states, rng, add_noise=False)
        chosen = select_action(out.visit_counts, 0.0, rng)
        if out.proven_action is not None:
            chosen = np.where(out.proven_action >= 0, out.proven_action, chosen)
        return [int(a) for a in chosen]


class NetworkAgent:
    """MCTS guided by a network (``evaluate_fn``), playing greedily: the most-visited move (temperature 0), or
    the Gumbel root's choice when ``mcts_config.gumbel``.

    ``evaluate_fn=None`` searches with uniform priors and zero values: how generation 0 plays.
    ``temperature`` > 0 samples from the visit counts instead (e.g. for varied openings).
    """

    def __init__(
        self,
        evaluate_fn: EvaluateFn | None,
        mcts_config: MCTSConfig,
        name: str,
        *,
        temperature: float = 0.0,
    ) -> None:
        if not isinstance(mcts_config, MCTSConfig):
            raise TypeError(f"mcts_config must be an MCTSConfig, got {type(mcts_config).__name__}")
        if not isinstance(name, str) or not name:
            raise InvalidConfig(f"an agent needs a non-empty name (its identity in ratings), got {name!r}")
        if isinstance(temperature, bool) or not isinstance(temperature, int | float) or temperature < 0:
            raise InvalidConfig(f"temperature must be a number >= 0, got {temperature!r}")
        self.evaluate_fn = evaluate_fn
        self.mcts_config = mcts_config
        self.name = name
        self.temperature = float(temperature)
        self._search_for: BatchedMCTS | None = None

    def _search(self, game: Game) -> BatchedMCTS:
        search = self._search_for
        if search is None or search.game is not game:
            evaluate_fn = self.evaluate_fn
            if evaluate_fn is None:
                # Imported here: app.nn loads torch, which only generation 0 needs from this module.
                from app.nn import uniform_evaluator

                evaluate_fn = uniform_evaluator(game.action_size, game.num_players)
            search = self._search_for = BatchedMCTS(game, evaluate_fn, self.mcts_config)
        return search

    def select_actions(self, game: Game, states: list[State], rng: np.random.Generator) -> list[int]:
        if not states:
            return []
        out = self._search(game).run(states, rng, add_noise=False)
        if self.temperature > 0:
            chosen = select_action(out.policy, self.temperature, rng)
            if out.proven_action is not None:
                chosen = np.where(out.proven_action >= 0, out.proven_action, chosen)
            return [int(a) for a in chosen]
        if out.action is not None:
            return [int(a) for a in out.action]
        chosen = select_action(out.visit_counts, 0.0, rng)
        if out.proven_action is not None:
            chosen = np.where(out.proven_action >= 0, out.proven_action, chosen)
        return [int(a) for a in chosen]
