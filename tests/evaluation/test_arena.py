from dataclasses import dataclass, field

import numpy as np
import pytest

from app.core.errors import InvalidConfig
from app.evaluation.arena import PlayedGame, play_games, play_rotated, seat_rotations
from app.evaluation.ratings import fit_ratings
from app.evaluation.store import game_results, load_games, save_games
from app.games.base import random_openings
from app.games.registry import make_game


@dataclass
class HighCard:
    """Players take turns in seat order, ``rounds`` turns each, playing a card 0..9; the highest total wins.

    Small enough to work every result out by hand; ties share, as the Game protocol asks.
    """

    num_players: int = 2
    rounds: int = 3
    board_type: str = "highcard"
    board_shape: tuple[int, int] = (1, 1)
    num_planes: int = 1
    action_size: int = 10

    @property
    def config_key(self) -> str:
        return f"highcard_{self.num_players}p"

    def initial_state(self):
        return ()

    def current_player(self, state) -> int:
        return len(state) % self.num_players

    def legal_mask(self, state) -> np.ndarray:
        return np.full(self.action_size, not self.is_terminal(state))

    def apply(self, state, action: int):
        if self.is_terminal(state) or not 0 <= action < self.action_size:
            raise ValueError(f"illegal action {action} in {state}")
        return (*state, int(action))

    def is_terminal(self, state) -> bool:
        return len(state) >= self.rounds * self.num_players

    def totals(self, state) -> np.ndarray:
        totals = np.zeros(self.num_players)
        for i, card in enumerate(state):
            totals[i % self.num_players] += card
        return totals

    def returns(self, state) -> np.ndarray:
        totals = self.totals(state)
        ranks = np.array([np.sum(totals > t) + (np.sum(totals == t) - 1) / 2 for t in totals])
        return (1.0 - 2.0 * ranks / (self.num_players - 1)).astype(np.float32)


@dataclass
class Card:
    """Always plays ``card``; records the batch size of each call."""

    card: int
    name: str
    calls: list[int] = field(default_factory=list)

    def select_actions(self, game, states, rng):
        self.calls.append(len(states))
        return [self.card] * len(states)


def test_seat_rotations_put_every_agent_in_every_seat_once():
    assert seat_rotations(["a", "b"]) == [("a", "b"), ("b", "a")]
    rotations = seat_rotations(["a", "b", "c", "d"])
    assert len(rotations) == 4
    for seat in range(4):
        assert sorted(r[seat] for r in rotations) == ["a", "b", "c", "d"]


def test_pairs_share_an_opening_and_swap_seats():
    game = HighCard()
    strong, weak = Card(9, "strong"), Card(1, "weak")
    openings = [(7,), (0,), (3,)]
    groups = play_rotated(game, [strong, weak], openings, rng=np.random.default_rng(0), first_group=5)
    assert [len(g) for g in groups] == [2, 2, 2]
    for opening, (first, second) in zip(openings, groups, strict=True):
        assert first.opening == second.opening == opening
        assert first.opening_group == second.opening_group
        assert first.players == ("strong", "weak") and second.players == ("weak", "strong")
        assert (first.rotation, second.rotation) == (0, 1)
        assert first.moves[: len(opening)] == opening
        # Whoever got the opening card, 9s beat 1s: the candidate wins both games of every pair.
        assert first.points(0, 1) == second.points(0, 1) == 1.0
    assert [g[0].opening_group for g in groups] == [5, 6, 7]


def test_pairing_cancels_an_opening_that_favours_one_seat():
    game = HighCard()
    a, b = Card(5, "a"), Card(5, "b")
    groups = play_rotated(game, [a, b], [(9,)], rng=np.random.default_rng(0))
    (first, second) = groups[0]
    # Equal players: the seat that received the opening's 9 wins, so each wins once.
    assert first.returns == (1.0, -1.0) and second.returns == (1.0, -1.0)
    assert first.points(0, 1) + second.points(0, 1) == 1.0


def test_moves_replay_to_the_stored_result():
    game = HighCard(rounds=4)
    played = play_rotated(game, [Card(4, "x"), Card(6, "y")], [(2,), (8,)], rng=np.random.default_rng(1))
    for g in (g for grp in played for g in grp):
        state = game.initial_state()
        for m in g.moves:
            state = game.apply(state, m)
        assert game.is_terminal(state) and g.length == 8
        assert g.returns == tuple(float(r) for r in game.returns(state))


def test_three_player_rotations_and_pairwise_points():
    game = HighCard(num_players=3)
    cand, opp = Card(8, "cand"), Card(2, "opp")
    groups = play_rotated(game, [cand, opp, opp], [()], rng=np.random.default_rng(0))
    (games,) = groups
    assert [g.players for g in games] == [
        ("cand", "opp", "opp"),
        ("opp", "cand", "opp"),
        ("opp", "opp", "cand"),
    ]
    assert [g.seat_of(0) for g in games] == [0, 1, 2]
    assert all(g.points(0, 1) == 1.0 and g.points(1, 0) == 0.0 for g in games)
    # The two opponent copies tie with each other.
    assert all(g.points(1, 2) == 0.5 for g in games)


def test_agents_are_called_once_per_step_for_all_their_games():
    game = HighCard(rounds=3)
    a, b = Card(3, "a"), Card(4, "b")
    play_rotated(game, [a, b], [()] * 10, rng=np.random.default_rng(0))
    # 20 games advance together: each agent moves 3 times per game, in 20 games; seats alternate, so every
    # step the 20 games split 10/10 between the two agents.
    assert sum(a.calls) == sum(b.calls) == 60
    assert len(a.calls) == len(b.calls) == 6 and set(a.calls) == {10}


def test_real_game_with_random_openings():
    from app.search.agents import RandomAgent

    game = make_game("hex5", 2)
    rng = np.random.default_rng(3)
    openings = random_openings(game, 4, num_moves=3, rng=rng)
    assert len(openings) == 4 and all(len(o) == 3 for o in openings)

    class Named(RandomAgent):
        def __init__(self, name):
            self.name = name

    groups = play_rotated(game, [Named("p"), Named("q")], openings, rng=rng)
    for grp in groups:
        for g in grp:
            assert sorted(g.returns) == [-1.0, 1.0]  # Hex: one winner, no draws
            assert g.moves[:3] == grp[0].opening


def test_bad_inputs_are_refused():
    game = HighCard()
    with pytest.raises(InvalidConfig, match="needs 2 agents"):
        play_rotated(game, [Card(1, "a")], [()], rng=np.random.default_rng(0))
    with pytest.raises(InvalidConfig, match="one opening per game"):
        play_games(game, [[Card(1, "a"), Card(2, "b")]], [], rng=np.random.default_rng(0))
    with pytest.raises(InvalidConfig, match="ends the game"):
        play_games(game, [[Card(1, "a"), Card(2, "b")]], [(1,) * 6], rng=np.random.default_rng(0))
    with pytest.raises(InvalidConfig, match="fewer opening moves"):
        random_openings(game, 1, num_moves=6, rng=np.random.default_rng(0))


def test_games_are_persisted_and_feed_the_ratings(settings):
    game = HighCard()
    groups = play_rotated(
        game, [Card(6, "six"), Card(2, "random")], [(0,), (9,)], rng=np.random.default_rng(0)
    )
    games = [g for grp in groups for g in grp]
    assert save_games(settings, "highcard_2p", games, purpose="match") == 4
    rows = load_games(settings, "highcard_2p")
    assert [(r.players, r.returns, r.opening, r.moves, r.length, r.opening_group) for r in rows] == [
        (list(g.players), list(g.returns), list(g.opening), list(g.moves), g.length, g.opening_group)
        for g in games
    ]
    assert (
        rows[0].evaluation_id is None and rows[0].purpose == "match" and rows[0].created_at.tzinfo is not None
    )
    results = game_results(settings, "highcard_2p")
    assert len(results) == 4 and game_results(settings, "other_2p") == []
    table = fit_ratings(results)
    assert table.get("six").elo > 0 == table.get("random").elo
    with pytest.raises(ValueError, match="purpose"):
        save_games(settings, "highcard_2p", games, purpose="nonsense")


def test_played_game_points_from_the_lineup_view():
    g = PlayedGame(("b", "a"), (-1.0, 1.0), (), (1, 2), 0, rotation=1)
    assert g.seat_of(0) == 1 and g.points(0, 1) == 1.0 and g.points(1, 0) == 0.0
