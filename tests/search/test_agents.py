"""Agents: one interface, legal moves, and the play their names promise."""

from __future__ import annotations

import numpy as np
import pytest

import app.search as search
from app.core.errors import InvalidConfig
from app.games.registry import make_game
from app.search import Agent, MCTSConfig, NetworkAgent, RandomAgent, RolloutMCTSAgent
from tests.search.toys import HashEvaluator, play


def _play_out(game, agents, rng, max_moves=200):
    """Play one game to the end, seat i played by agents[i]; returns the final state."""
    state = game.initial_state()
    for _ in range(max_moves):
        if game.is_terminal(state):
            return state
        agent = agents[game.current_player(state)]
        (action,) = agent.select_actions(game, [state], rng)
        assert game.legal_mask(state)[action]
        state = game.apply(state, action)
    raise AssertionError("game did not end")


def test_public_exports_are_complete():
    exported = set(search.__all__)
    public = {name for name in dir(search) if not name.startswith("_")}
    modules = {
        "agents",
        "backup",
        "config",
        "gumbel",
        "leaves",
        "sampling",
        "search",
        "selection",
        "solver",
        "tree",
        "types",
    }
    assert public - modules == exported


def test_agents_follow_the_protocol_and_are_named():
    agents = [
        RandomAgent(),
        RolloutMCTSAgent(50),
        NetworkAgent(None, MCTSConfig(num_simulations=8), "hex8_2p_v0"),
    ]
    assert [a.name for a in agents] == ["random", "rollout_mcts_50", "hex8_2p_v0"]
    assert all(isinstance(a, Agent) for a in agents)


def test_every_agent_plays_legal_moves_for_a_batch():
    game = make_game("connect4", 3)
    states = [game.initial_state(), play(game, [0, 0, 0, 0, 0, 0]), play(game, [3, 4])]
    rng = np.random.default_rng(0)
    for agent in (
        RandomAgent(),
        RolloutMCTSAgent(30),
        NetworkAgent(None, MCTSConfig(num_simulations=16), "gen0"),
        NetworkAgent(HashEvaluator(game), MCTSConfig(num_simulations=16, gumbel=True), "gumbel"),
        NetworkAgent(HashEvaluator(game), MCTSConfig(num_simulations=16), "warm", temperature=1.0),
    ):
        actions = agent.select_actions(game, states, rng)
        assert len(actions) == 3 and all(isinstance(a, int) for a in actions)
        assert all(game.legal_mask(s)[a] for s, a in zip(states, actions, strict=True)), agent.name
        assert agent.select_actions(game, [], rng) == []


def test_random_agent_is_uniform_and_seeded():
    game = make_game("connect4", 2)
    state = game.initial_state()
    picks = [RandomAgent().select_actions(game, [state], np.random.default_rng(s))[0] for s in range(700)]
    counts = np.bincount(picks, minlength=7)
    assert counts.min() > 60
    again = [RandomAgent().select_actions(game, [state], np.random.default_rng(s))[0] for s in range(700)]
    assert picks == again


def test_rollout_mcts_takes_a_win_and_beats_random():
    game = make_game("connect4", 2)
    rng = np.random.default_rng(1)
    assert RolloutMCTSAgent(200).select_actions(game, [play(game, [0, 0, 1, 1, 2, 2])], rng) == [3]
    wins = 0
    for seat in (0, 1):
        agents = [RandomAgent(), RandomAgent()]
        agents[seat] = RolloutMCTSAgent(100)
        final = _play_out(game, agents, rng)
        wins += int(game.returns(final)[seat] > 0)
    assert wins == 2


def test_network_agent_without_network_plays_greedily_and_deterministically():
    game = make_game("hex5", 2)
    agent = NetworkAgent(None, MCTSConfig(num_simulations=100), "gen0")
    # X (top-bottom) holds column 2 down to row 3: it must join the bottom edge at cell 21 or 22.
    state = play(game, [2, 0, 7, 5, 12, 10, 17, 15])
    assert agent.select_actions(game, [state], np.random.default_rng(0))[0] in {21, 22}
    first = agent.select_actions(game, [game.initial_state()] * 3, np.random.default_rng(0))
    again = agent.select_actions(game, [game.initial_state()] * 3, np.random.default_rng(0))
    assert first == again


def test_agents_refuse_finished_games_and_bad_arguments():
    game = make_game("connect4", 2)
    won = play(game, [0, 1, 0, 1, 0, 1, 0])
    for agent in (
        RandomAgent(),
        RolloutMCTSAgent(10),
        NetworkAgent(None, MCTSConfig(num_simulations=4), "x"),
    ):
        with pytest.raises(ValueError, match="terminal"):
            agent.select_actions(game, [won], np.random.default_rng(0))
    with pytest.raises(InvalidConfig, match="simulations >= 1"):
        RolloutMCTSAgent(0)
    with pytest.raises(InvalidConfig, match="non-empty name"):
        NetworkAgent(None, MCTSConfig(), "")
    with pytest.raises(TypeError, match="MCTSConfig"):
        NetworkAgent(None, {"num_simulations": 4}, "x")


def test_network_agent_with_a_real_network():
    from app.nn import NetConfig, NetworkEvaluator, PolicyValueNet

    game = make_game("connect4", 2)
    net = PolicyValueNet(
        game.num_planes, game.board_shape, game.action_size, game.num_players, NetConfig(blocks=1, channels=8)
    )
    agent = NetworkAgent(NetworkEvaluator(net, mode="eager"), MCTSConfig(num_simulations=12), "tiny")
    states = [game.initial_state(), play(game, [3])]
    actions = agent.select_actions(game, states, np.random.default_rng(0))
    assert all(game.legal_mask(s)[a] for s, a in zip(states, actions, strict=True))
