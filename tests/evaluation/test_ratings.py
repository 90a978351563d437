import itertools
import math

import numpy as np
import pytest
from openskill.models import PlackettLuce
from scipy.stats import spearmanr

from app.core.errors import InvalidConfig
from app.evaluation.ratings import ELO_PER_NAT, GameResult, fit_ratings

TRUE_ELO = {"random": 0.0, "weak": -120.0, "a": 150.0, "b": 300.0, "c": 420.0}


def _two_player_games(rng: np.random.Generator, games_per_pair: int, draw_ratio: float) -> list[GameResult]:
    games = []
    for x, y in itertools.combinations(TRUE_ELO, 2):
        s = 1.0 / (1.0 + 10 ** ((TRUE_ELO[y] - TRUE_ELO[x]) / 400))
        d = min(draw_ratio, 2 * min(s, 1 - s))  # a draw ratio the expected score allows
        outcome = rng.choice(3, size=games_per_pair, p=[1 - s - d / 2, d, s - d / 2])  # loss, draw, win for x
        for k, o in enumerate(outcome):
            ret = {0: (-1.0, 1.0), 1: (0.0, 0.0), 2: (1.0, -1.0)}[int(o)]
            seats = (x, y) if k % 2 == 0 else (y, x)
            games.append(GameResult(seats, ret if k % 2 == 0 else ret[::-1]))
    return games


def _plackett_luce_games(rng: np.random.Generator, num_games: int, seats: int) -> list[GameResult]:
    names = list(TRUE_ELO)
    theta = np.array([TRUE_ELO[n] for n in names]) / ELO_PER_NAT
    games = []
    for _ in range(num_games):
        table = rng.choice(len(names), size=seats, replace=False)
        # Sorting utilities perturbed by Gumbel noise samples a Plackett-Luce order exactly.
        order = np.argsort(-(theta[table] + rng.gumbel(size=seats)))
        returns = np.empty(seats)
        returns[order] = np.linspace(1.0, -1.0, seats)
        games.append(GameResult(tuple(names[i] for i in table), tuple(returns)))
    return games


def _assert_recovers(table, games_tolerance_sigmas: float = 3.5):
    assert table.get("random").elo == 0.0
    assert table.get("random").ci_low == table.get("random").ci_high == 0.0
    for name, truth in TRUE_ELO.items():
        r = table.get(name)
        sigma = r.ci_half_width / 1.96
        assert abs(r.elo - truth) <= games_tolerance_sigmas * sigma, (name, r, truth)
        assert 5.0 < r.ci_half_width < 60.0 or name == "random"
    assert [r.name for r in table.ratings] == sorted(TRUE_ELO, key=lambda n: -TRUE_ELO[n])


def test_bradley_terry_recovers_known_ratings_with_draws():
    table = fit_ratings(_two_player_games(np.random.default_rng(7), 800, 0.25))
    _assert_recovers(table)
    assert table.get("a").games == 4 * 800


@pytest.mark.parametrize("seats", [3, 4])
def test_plackett_luce_recovers_known_ratings_in_multiplayer_games(seats):
    table = fit_ratings(_plackett_luce_games(np.random.default_rng(seats), 5000, seats))
    _assert_recovers(table)


def test_confidence_intervals_cover_the_truth_at_about_the_nominal_rate():
    rng = np.random.default_rng(11)
    covered = total = 0
    for _ in range(40):
        table = fit_ratings(_two_player_games(rng, 60, 0.2), prior_draws=0.0)
        for name, truth in TRUE_ELO.items():
            if name != "random":
                r = table.get(name)
                covered += r.ci_low <= truth <= r.ci_high
                total += 1
    assert 0.88 <= covered / total <= 0.99


def test_a_draw_is_half_a_win_and_half_a_loss():
    split = [GameResult(("x", "random"), (1.0, -1.0)), GameResult(("random", "x"), (1.0, -1.0))] * 5
    drawn = [GameResult(("x", "random"), (0.0, 0.0))] * 10
    more = [GameResult(("x", "random"), (1.0, -1.0))] * 7
    a = fit_ratings(split + more, prior_draws=0.0).get("x")
    b = fit_ratings(drawn + more, prior_draws=0.0).get("x")
    assert a.elo == pytest.approx(b.elo, abs=1e-6)
    # 12 points of 17 against the anchor: the MLE is the logit of the score.
    assert a.elo == pytest.approx(ELO_PER_NAT * math.log(12 / 5), abs=1e-6)


def test_multiplayer_ties_average_over_the_tied_orders():
    # x ties y for first ahead of random, twice: the same likelihood as x first once and y first once.
    tied = [GameResult(("x", "y", "random"), (0.5, 0.5, -1.0))] * 2
    split = [
        GameResult(("x", "y", "random"), (1.0, 0.0, -1.0)),
        GameResult(("x", "y", "random"), (0.0, 1.0, -1.0)),
    ]
    extra = [GameResult(("x", "random"), (-1.0, 1.0))]
    a, b = fit_ratings(tied + extra), fit_ratings(split + extra)
    for name in ("x", "y"):
        assert a.get(name).elo == pytest.approx(b.get(name).elo, abs=1e-6)


def test_prior_keeps_a_perfect_record_finite_and_zero_prior_refuses_it():
    games = [GameResult(("strong", "random"), (1.0, -1.0))] * 50
    r = fit_ratings(games, prior_draws=1.0).get("strong")
    assert r.elo == pytest.approx(ELO_PER_NAT * math.log(50.5 / 0.5), abs=1e-6)
    with pytest.raises(InvalidConfig, match="prior_draws"):
        fit_ratings(games, prior_draws=0.0)


def test_players_not_connected_to_the_anchor_are_unrated():
    games = [
        GameResult(("a", "random"), (1.0, -1.0)),
        GameResult(("a", "random"), (-1.0, 1.0)),
        GameResult(("island1", "island2"), (1.0, -1.0)),
        GameResult(("random", "random"), (1.0, -1.0)),
    ]
    table = fit_ratings(games)
    assert {r.name for r in table.ratings} == {"a", "random"}
    assert table.unrated == ["island1", "island2"]
    assert table.games == 3
    assert fit_ratings(games, anchor="nobody").ratings == []


def test_fit_does_not_depend_on_game_order():
    games = _plackett_luce_games(np.random.default_rng(3), 400, 3)
    a = fit_ratings(games)
    b = fit_ratings(list(reversed(games)))
    for r in a.ratings:
        assert b.get(r.name).elo == pytest.approx(r.elo, abs=1e-8)


def test_ordering_agrees_with_openskill_plackett_luce():
    # An independent implementation of the same model (online, so only the ordering is comparable).
    games = _plackett_luce_games(np.random.default_rng(5), 3000, 4)
    model = PlackettLuce()
    ratings = {n: model.rating(name=n) for n in TRUE_ELO}
    for g in games:
        ranks = [-r for r in g.returns]
        new = model.rate([[ratings[p]] for p in g.players], ranks=ranks)
        for p, (rating,) in zip(g.players, new, strict=True):
            ratings[p] = rating
    ours = fit_ratings(games)
    names = list(TRUE_ELO)
    rho = spearmanr([ours.get(n).elo for n in names], [ratings[n].mu for n in names]).statistic
    assert rho == pytest.approx(1.0)


def test_bad_games_are_refused():
    with pytest.raises(InvalidConfig, match="at least 2 seats"):
        GameResult(("a",), (1.0,))
    with pytest.raises(InvalidConfig):
        GameResult(("a", "b"), (1.0,))
    with pytest.raises(InvalidConfig, match="prior_draws"):
        fit_ratings([], prior_draws=-1)
