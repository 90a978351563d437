import math

import numpy as np
import pytest
from scipy.optimize import minimize

from app.core.errors import InvalidConfig
from app.evaluation.simulate import pentanomial_probs, simulate_gsprt, trinomial_probs
from app.evaluation.sprt import (
    GSPRT,
    ZERO_COUNT_PRIOR,
    elo_estimate,
    llr_logistic,
    logistic_elo,
    logistic_score,
    wald_bounds,
)

# (counts, elo0, elo1, LLR) from Fishtest's LLR_logistic (server/fishtest/stats/LLRcalc.py) on the same counts.
FISHTEST_REFERENCE = [
    ((10, 20, 40, 20, 10), 0.0, 5.0, -0.03450685095168987),
    ((2, 8, 20, 30, 40), 0.0, 20.0, 5.075977753709384),
    ((0, 0, 3, 5, 12), -5.0, 15.0, 1.134691718982101),
    ((30, 20, 10, 4, 1), 0.0, 10.0, -1.7981986490648514),
    ((120, 40, 10, 0, 0), 0.0, 10.0, -4.963391403752239),
    ((0, 0, 10, 40, 120), 0.0, 10.0, 4.822576907453253),
    ((100, 50, 120), 0.0, 30.0, 0.886057570400582),
]


@pytest.mark.parametrize(("counts", "elo0", "elo1", "expected"), FISHTEST_REFERENCE)
def test_llr_matches_fishtest_reference_values(counts, elo0, elo1, expected):
    assert float(llr_logistic(counts, elo0=elo0, elo1=elo1)) == pytest.approx(expected, abs=1e-9)


def _profile_loglik(counts: np.ndarray, values: np.ndarray, score: float) -> float:
    """max sum_i n_i log q_i over distributions q with sum_i q_i a_i = score, by a generic constrained optimiser."""
    p_hat = counts / counts.sum()
    res = minimize(
        lambda q: -np.sum(counts * np.log(q)),
        x0=p_hat,
        jac=lambda q: -counts / q,
        method="SLSQP",
        bounds=[(1e-12, 1.0)] * len(counts),
        constraints=[
            {"type": "eq", "fun": lambda q: q.sum() - 1.0},
            {"type": "eq", "fun": lambda q: q @ values - score},
        ],
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    assert res.success, res.message
    return -res.fun


@pytest.mark.parametrize(
    ("counts", "elo0", "elo1"),
    [((7, 31, 80, 45, 12), 0.0, 30.0), ((40, 25, 60), -10.0, 20.0), ((3, 9, 14, 9, 5), 0.0, 50.0)],
)
def test_llr_is_the_generalized_likelihood_ratio(counts, elo0, elo1):
    # The definition, computed independently: the ratio of the two constrained maximum likelihoods.
    c = np.asarray(counts, dtype=np.float64)
    values = np.linspace(0.0, 1.0, len(counts))
    s0, s1 = float(logistic_score(elo0)), float(logistic_score(elo1))
    expected = _profile_loglik(c, values, s1) - _profile_loglik(c, values, s0)
    assert float(llr_logistic(counts, elo0=elo0, elo1=elo1)) == pytest.approx(expected, abs=1e-6)


def test_llr_agrees_with_the_gaussian_approximation_for_close_hypotheses():
    counts = np.array([500, 2400, 4100, 2500, 520])
    values = np.linspace(0.0, 1.0, 5)
    p = counts / counts.sum()
    mean = p @ values
    var = p @ (values - mean) ** 2
    s0, s1 = logistic_score(0.0), logistic_score(2.0)
    approx = counts.sum() * (s1 - s0) * (2 * mean - s0 - s1) / (2 * var)
    assert float(llr_logistic(counts, elo0=0.0, elo1=2.0)) == pytest.approx(approx, rel=1e-3)


def test_llr_is_vectorised_over_leading_axes():
    batch = np.array([c for c, *_ in FISHTEST_REFERENCE[:6]])
    got = llr_logistic(batch, elo0=0.0, elo1=10.0)
    assert got.shape == (6,)
    for row, value in zip(batch, got, strict=True):
        assert value == pytest.approx(float(llr_logistic(row, elo0=0.0, elo1=10.0)), abs=1e-12)


def test_llr_sign_follows_the_evidence():
    assert llr_logistic((0, 0, 0, 0, 50), elo0=0.0, elo1=30.0) > 0
    assert llr_logistic((50, 0, 0, 0, 0), elo0=0.0, elo1=30.0) < 0
    assert llr_logistic((10, 0, 10), elo0=-15.0, elo1=15.0) == pytest.approx(0.0, abs=1e-9)


def test_bounds_and_elo_scale():
    lower, upper = wald_bounds(alpha=0.05, beta=0.05)
    assert lower == pytest.approx(math.log(0.05 / 0.95))
    assert upper == pytest.approx(math.log(0.95 / 0.05))
    assert float(logistic_score(0.0)) == 0.5
    assert float(logistic_elo(logistic_score(123.4))) == pytest.approx(123.4)
    assert float(logistic_score(400.0)) == pytest.approx(10 / 11)


def test_elo_estimate_interval_is_centred_on_the_score():
    elo, lo, hi = elo_estimate((100, 50, 150))
    score = (0.5 * 50 + 150) / 300
    assert elo == pytest.approx(float(logistic_elo(score)), abs=1e-3)
    assert lo < elo < hi
    var = (100 * score**2 + 50 * (0.5 - score) ** 2 + 150 * (1 - score) ** 2) / 300
    elo_per_score = 400 / (math.log(10) * score * (1 - score))  # slope of the Elo curve at the score
    assert hi - lo == pytest.approx(2 * 1.96 * math.sqrt(var / 300) * elo_per_score, rel=0.02)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"elo0": 10.0, "elo1": 10.0},
        {"elo0": 0.0, "elo1": 30.0, "alpha": 0.0},
        {"elo0": 0.0, "elo1": 30.0, "alpha": 0.6, "beta": 0.5},
        {"elo0": 0.0, "elo1": 30.0, "max_games": 1},
    ],
)
def test_bad_parameters_are_refused(kwargs):
    base = {"paired": True, "max_games": 100}
    with pytest.raises(InvalidConfig):
        GSPRT(**{**base, **kwargs})


def test_bad_results_are_refused():
    paired = GSPRT(elo0=0, elo1=30, paired=True, max_games=100)
    with pytest.raises(InvalidConfig, match="shape"):
        paired.add_pairs([1.0, 0.0])
    with pytest.raises(InvalidConfig, match="0, 0.5 or 1"):
        paired.add_pairs([[1.0, 0.7]])
    with pytest.raises(InvalidConfig, match="add_pairs"):
        paired.add_games([1.0])
    with pytest.raises(InvalidConfig):
        llr_logistic((1, 2, 3, 4), elo0=0, elo1=5)


def test_paired_test_counts_pentanomial_and_wdl():
    test = GSPRT(elo0=0, elo1=30, paired=True, max_games=100)
    test.add_pairs([[1, 1], [1, 0], [0.5, 0.5], [0.5, 1], [0, 0]])
    r = test.result()
    assert r.pentanomial == [1, 0, 2, 1, 1]
    assert (r.losses, r.draws, r.wins) == (3, 3, 4)
    assert r.games == 10 and r.pairs == 5
    assert r.score == pytest.approx(5.5 / 10)
    assert r.llr == pytest.approx(float(llr_logistic([1, 0, 2, 1, 1], elo0=0, elo1=30)))
    assert r.llr_path == [r.llr]
    assert r.decision == "inconclusive" and not test.finished


def test_clear_difference_stops_early_and_accepts():
    test = GSPRT(elo0=0, elo1=30, paired=True, max_games=1000)
    looks = 0
    while not test.finished:
        test.add_pairs([[1, 1]] * 4)
        looks += 1
    r = test.result()
    assert r.decision == "accept"
    assert r.games < 100
    assert r.llr >= r.llr_upper
    assert len(r.llr_path) == looks and r.llr_path == sorted(r.llr_path)
    with pytest.raises(InvalidConfig, match="already decided"):
        test.add_pairs([[1, 1]])


def test_clear_loss_rejects_and_cap_gives_inconclusive():
    losing = GSPRT(elo0=0, elo1=30, paired=False, max_games=1000)
    while not losing.finished:
        losing.add_games([0.0, 0.5, 0.0, 0.0])
    assert losing.decision == "reject"

    even = GSPRT(elo0=-5, elo1=5, paired=False, max_games=40)
    while not even.finished:
        even.add_games([1.0, 0.0, 0.5, 0.5])
    r = even.result()
    assert r.decision == "inconclusive" and r.games == 40
    assert r.llr_lower < r.llr < r.llr_upper


def test_result_round_trips_through_json():
    test = GSPRT(elo0=0, elo1=30, paired=True, max_games=100)
    test.add_pairs([[1, 0.5], [0, 1]])
    r = test.result()
    assert type(r).model_validate_json(r.model_dump_json()) == r


def test_zero_counts_are_regularised_like_fishtest():
    # All observed outcomes on one side of both hypotheses: without the prior there is no MLE.
    llr = float(llr_logistic((0, 0, 12), elo0=0, elo1=30))
    assert math.isfinite(llr) and llr > 0
    assert ZERO_COUNT_PRIOR == 1e-3


@pytest.mark.parametrize("paired", [True, False])
def test_simulated_error_rates_are_close_to_alpha_and_beta(paired):
    # Wald's bounds are conservative and discrete looks overshoot them, so realised error rates sit at or a bit
    # below the nominal ones; the upper side allows four standard errors of sampling noise.
    alpha, beta, runs = 0.05, 0.10, 3000
    rng = np.random.default_rng(20240601)
    probs = (
        (lambda elo: pentanomial_probs(elo, draw_ratio=0.3, opening_bias=0.1))
        if paired
        else (lambda elo: trinomial_probs(elo, draw_ratio=0.3))
    )
    kwargs = {"elo0": 0.0, "elo1": 40.0, "alpha": alpha, "beta": beta, "max_games": 100_000, "runs": runs}
    at_h0 = simulate_gsprt(probs(0.0), look_every=2, rng=rng, **kwargs)
    at_h1 = simulate_gsprt(probs(40.0), look_every=2, rng=rng, **kwargs)
    assert at_h0.inconclusive_rate == 0.0 and at_h1.inconclusive_rate == 0.0
    for rate, nominal in ((at_h0.accept_rate, alpha), (at_h1.reject_rate, beta)):
        se = math.sqrt(nominal * (1 - nominal) / runs)
        assert 0.5 * nominal <= rate <= nominal + 4 * se, (rate, nominal)
