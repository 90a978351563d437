"""Operating characteristics of the gate by simulation: how often it accepts, and after how many games.

Used to check the GSPRT's error rates and to size gates (bench/gate.py). Outcomes come from a known model:
game results with a given expected score and draw ratio, and, for pairs, an opening bias that pushes the two games
of a pair in opposite directions (an opening that favours one seat), which is what makes pairs worth modelling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.errors import InvalidConfig
from app.evaluation.sprt import llr_logistic, logistic_score, wald_bounds


def trinomial_probs(elo: float, *, draw_ratio: float) -> np.ndarray:
    """float64 [3]: P(loss), P(draw), P(win) for a logistic Elo difference and a draw ratio."""
    s = float(logistic_score(elo))
    win, loss = s - draw_ratio / 2.0, 1.0 - s - draw_ratio / 2.0
    if not (0.0 <= draw_ratio < 1.0) or win < 0.0 or loss < 0.0:
        raise InvalidConfig(
            f"draw_ratio {draw_ratio} is impossible at {elo} Elo (score {s:.4f}): need 0 <= draw_ratio <= "
            f"{2 * min(s, 1 - s):.4f}"
        )
    return np.array([loss, draw_ratio, win])


def pentanomial_probs(elo: float, *, draw_ratio: float, opening_bias: float = 0.0) -> np.ndarray:
    """float64 [5]: P(pair scores 0, 0.5, 1, 1.5, 2) when half the openings favour the first game of the pair.

    An opening shifts the candidate's expected score by ``+opening_bias`` in one game of its pair and by
    ``-opening_bias`` in the other (seats swapped), so the mean score is that of ``elo`` and the pair's games are
    negatively correlated, as openings that favour one seat make them.
    """
    s = float(logistic_score(elo))
    first = trinomial_probs(_elo_of(s + opening_bias), draw_ratio=draw_ratio)
    second = trinomial_probs(_elo_of(s - opening_bias), draw_ratio=draw_ratio)
    return np.convolve(first, second)


def _elo_of(score: float) -> float:
    if not 0.0 < score < 1.0:
        raise InvalidConfig(f"opening bias pushes the expected score to {score:.4f}, outside (0, 1)")
    return float(-400.0 * np.log10(1.0 / score - 1.0))


@dataclass(frozen=True)
class GateSimulation:
    """Outcome of many simulated tests. Samples are pairs for pentanomial tests and games for trinomial ones."""

    runs: int
    accept_rate: float
    reject_rate: float
    inconclusive_rate: float
    mean_samples: float
    mean_games: float


def simulate_gsprt(
    outcome_probs: np.ndarray,
    *,
    elo0: float,
    elo1: float,
    alpha: float,
    beta: float,
    max_games: int,
    look_every: int = 1,
    runs: int,
    rng: np.random.Generator,
) -> GateSimulation:
    """Run ``runs`` independent GSPRTs on outcomes drawn from ``outcome_probs``, all at once.

    ``outcome_probs``: float [5] (pentanomial: samples are pairs of games) or [3] (trinomial: samples are games).
    Each test looks at its LLR every ``look_every`` samples, like the arena after each batch, and stops at its
    bounds or when ``max_games`` games have been played.
    """
    probs = np.asarray(outcome_probs, dtype=np.float64)
    games_per_sample = 2 if probs.shape == (5,) else 1
    if probs.shape not in ((5,), (3,)) or abs(probs.sum() - 1.0) > 1e-9 or np.any(probs < 0):
        raise InvalidConfig(
            f"outcome_probs must be a probability vector of length 3 or 5, got {probs.tolist()}"
        )
    lower, upper = wald_bounds(alpha=alpha, beta=beta)
    max_samples = max_games // games_per_sample
    counts = np.zeros((runs, probs.size), dtype=np.int64)
    active = np.ones(runs, dtype=bool)
    decision = np.zeros(runs, dtype=np.int8)  # +1 accept, -1 reject, 0 inconclusive
    samples = np.zeros(runs, dtype=np.int64)
    while active.any():
        idx = np.flatnonzero(active)
        step = np.minimum(look_every, max_samples - samples[idx])
        # A multinomial per run; runs near the cap take a shorter last step.
        for k in np.unique(step):
            rows = idx[step == k]
            counts[rows] += rng.multinomial(int(k), probs, size=rows.size)
        samples[idx] += step
        llr = llr_logistic(counts[idx], elo0=elo0, elo1=elo1)
        decision[idx[llr >= upper]] = 1
        decision[idx[llr <= lower]] = -1
        stopped = (llr >= upper) | (llr <= lower) | (samples[idx] >= max_samples)
        active[idx[stopped]] = False
    return GateSimulation(
        runs=runs,
        accept_rate=float(np.mean(decision == 1)),
        reject_rate=float(np.mean(decision == -1)),
        inconclusive_rate=float(np.mean(decision == 0)),
        mean_samples=float(samples.mean()),
        mean_games=float(samples.mean() * games_per_sample),
    )
