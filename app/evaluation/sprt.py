"""The promotion gate: a generalized sequential probability ratio test (GSPRT) on logistic Elo, as Fishtest runs it.

The hypotheses are ``H0: elo = elo0`` and ``H1: elo = elo1`` in *logistic* Elo (expected score
``1 / (1 + 10 ** (-elo / 400))``). We do not offer Fishtest's normalized Elo: logistic Elo means the same expected
score whatever the game's draw rate, which keeps gates comparable between games as different as Hex (no draws)
and Connect (many).

The statistic is the exact generalized log-likelihood ratio of Michel Van den Bergh's GSPRT: the outcome
distribution is a free multinomial over the outcome values, and each hypothesis is the maximum-likelihood
multinomial whose expected score equals that hypothesis's score. That MLE is ``p_i / (1 + x (a_i - s))`` where
``x`` solves the secular equation ``sum_i p_i (a_i - s) / (1 + x (a_i - s)) = 0``. The well-known approximation
``N (s1 - s0) (2 s_hat - s0 - s1) / (2 var)`` is this statistic to second order.

Outcomes are pentanomial when openings are paired (the candidate's points over a pair of games with seats swapped:
0, 0.5, 1, 1.5 or 2; the sample is the pair, whose two games are correlated through the opening) and trinomial
(loss, draw, win) otherwise. As in Fishtest, outcome classes never observed get a count of ``ZERO_COUNT_PRIOR`` so
that the MLE exists; our numbers therefore match Fishtest's ``LLR_logistic`` on the same counts.

Stopping: after each look, accept H1 when ``LLR >= log((1 - beta) / alpha)``, reject when
``LLR <= log(beta / (1 - alpha))``, and give up as inconclusive when the game cap is reached.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import InvalidConfig
from app.core.records import from_attributes

PENTANOMIAL_VALUES = np.array([0.0, 0.25, 0.5, 0.75, 1.0])  # a pair's points / 2, ascending
TRINOMIAL_VALUES = np.array([0.0, 0.5, 1.0])  # loss, draw, win
ZERO_COUNT_PRIOR = 1e-3  # Fishtest's regularisation of empty outcome classes
Z_95 = 1.959963984540054  # two-sided 95% normal quantile

Decision = Literal["accept", "reject", "inconclusive"]


def logistic_score(elo: ArrayLike) -> np.ndarray:
    """Expected score for a logistic Elo difference."""
    return 1.0 / (1.0 + 10.0 ** (-np.asarray(elo, dtype=np.float64) / 400.0))


def logistic_elo(score: ArrayLike) -> np.ndarray:
    """Logistic Elo difference for an expected score in (0, 1)."""
    s = np.asarray(score, dtype=np.float64)
    return -400.0 * np.log10(1.0 / s - 1.0)


def wald_bounds(*, alpha: float, beta: float) -> tuple[float, float]:
    """(lower, upper) LLR bounds: ``log(beta / (1 - alpha))`` and ``log((1 - beta) / alpha)``."""
    check_error_rates(alpha, beta)
    return math.log(beta / (1.0 - alpha)), math.log((1.0 - beta) / alpha)


def check_error_rates(alpha: float, beta: float) -> None:
    if not (0.0 < alpha < 1.0 and 0.0 < beta < 1.0 and alpha + beta < 1.0):
        raise InvalidConfig(
            f"error rates alpha={alpha}, beta={beta} are invalid: both must lie in (0, 1) with alpha + beta < 1"
        )


def _values_for(num_classes: int) -> np.ndarray:
    if num_classes == 5:
        return PENTANOMIAL_VALUES
    if num_classes == 3:
        return TRINOMIAL_VALUES
    raise InvalidConfig(
        f"outcome counts have {num_classes} classes; expected 5 (pentanomial: pairs scoring 0, 0.5, 1, 1.5, 2) "
        "or 3 (trinomial: losses, draws, wins)"
    )


def regularized_pdf(counts: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Counts float [..., K] → (samples [...], probabilities [..., K]) with empty classes set to ZERO_COUNT_PRIOR."""
    c = np.asarray(counts, dtype=np.float64)
    if np.any(c < 0):
        raise InvalidConfig(f"outcome counts must be non-negative, got {c.tolist()}")
    c = np.where(c == 0.0, ZERO_COUNT_PRIOR, c)
    n = c.sum(axis=-1)
    return n, c / n[..., None]


def _secular_root(a: np.ndarray, p: np.ndarray, *, max_iter: int = 200) -> np.ndarray:
    """Solve ``sum_i p_i a_i / (1 + x a_i) = 0`` for x, elementwise over leading axes.

    ``a`` float [..., K] with min < 0 < max on every row; ``p`` float [..., K] positive. The left side decreases
    strictly in x between its poles ``-1/max(a)`` and ``-1/min(a)``, so Newton steps safeguarded by bisection on
    that bracket always converge.
    """
    pole_lo = -1.0 / a.max(axis=-1)
    pole_hi = -1.0 / a.min(axis=-1)
    lo, hi = pole_lo, pole_hi
    # Start from the second-order solution, which is the answer when outcomes are nearly balanced.
    x = np.clip(np.sum(p * a, axis=-1) / np.sum(p * a * a, axis=-1), 0.5 * pole_lo, 0.5 * pole_hi)
    for _ in range(max_iter):
        d = 1.0 + x[..., None] * a
        f = np.sum(p * a / d, axis=-1)
        fp = -np.sum(p * a * a / (d * d), axis=-1)
        lo = np.where(f > 0.0, x, lo)
        hi = np.where(f > 0.0, hi, x)
        newton = x - f / fp
        # Non-strict on the moving bracket: a converged Newton step lands on it; never on a pole.
        ok = (newton >= lo) & (newton <= hi) & (newton > pole_lo) & (newton < pole_hi)
        x_new = np.where(ok, newton, 0.5 * (lo + hi))
        done = np.all(np.abs(x_new - x) <= 1e-13 * (1.0 + np.abs(x)))
        x = x_new
        if done:
            break
    return x


def llr_logistic(counts: ArrayLike, *, elo0: float, elo1: float) -> np.ndarray:
    """The GSPRT log-likelihood ratio of H1 (elo1) against H0 (elo0) for outcome counts.

    ``counts``: int or float [..., 5] pentanomial (pairs scoring 0, 0.5, 1, 1.5, 2 points) or [..., 3] trinomial
    (losses, draws, wins), from the candidate's side. Returns float64 [...] (a 0-d array for one test).
    """
    c = np.asarray(counts, dtype=np.float64)
    values = _values_for(c.shape[-1])
    n, p = regularized_pdf(c)
    llr = np.zeros(n.shape)
    for sign, elo in ((-1.0, elo0), (1.0, elo1)):
        a = values - float(logistic_score(elo))
        a = np.broadcast_to(a, p.shape)
        x = _secular_root(a, p)
        # The MLE is p_i / (1 + x a_i), so log(mle_1 / mle_0) = log(1 + x0 a0_i) - log(1 + x1 a1_i).
        llr = llr - sign * np.sum(p * np.log1p(x[..., None] * a), axis=-1)
    return n * llr


def elo_estimate(counts: ArrayLike) -> tuple[float, float, float]:
    """(elo, ci_low, ci_high): logistic Elo of the mean score with a 95% normal interval on the score.

    The sample is a pair for pentanomial counts (so the interval accounts for the correlation that an opening
    induces between its two games) and a game for trinomial counts. Empty classes are regularised as for the LLR,
    so an all-win record gives a large finite Elo, not infinity.
    """
    c = np.asarray(counts, dtype=np.float64)
    values = _values_for(c.shape[-1])
    n, p = regularized_pdf(c)
    mean = float(np.sum(p * values))
    var = float(np.sum(p * (values - mean) ** 2))
    half = Z_95 * math.sqrt(var / n)
    lo, hi = (float(np.clip(s, 1e-9, 1.0 - 1e-9)) for s in (mean - half, mean + half))
    return float(logistic_elo(mean)), float(logistic_elo(lo)), float(logistic_elo(hi))


class SPRTResult(BaseModel):
    """What a gate decided and the evidence for it."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")

    decision: Decision = Field(
        description="accept: candidate is elo1 stronger; reject; inconclusive at the cap."
    )
    llr: float
    llr_lower: float
    llr_upper: float
    elo0: float
    elo1: float
    alpha: float
    beta: float
    paired: bool = Field(
        description="Pentanomial (pairs of games with seats swapped) or trinomial statistic."
    )
    games: int = Field(description="Gate games played (anchor games not included).")
    pairs: int = Field(description="Pairs of games with seats swapped; 0 when openings are not paired.")
    score: float = Field(
        description="Candidate's mean points per gate game (pairwise vs opponent for 3-4 players), raw counts."
    )
    elo_delta: float = Field(
        description="Logistic Elo of the candidate over the opponent from the gate games."
    )
    elo_ci_low: float
    elo_ci_high: float
    wins: int
    draws: int
    losses: int
    pentanomial: list[int] | None = Field(
        description="Pairs scoring 0, 0.5, 1, 1.5, 2 points (paired gates)."
    )
    llr_path: list[float] = Field(description="LLR after each look of the gate, for plots.")

    @property
    def trinomial(self) -> list[int]:
        return [self.losses, self.draws, self.wins]


class GSPRT:
    """A running sequential test. Each ``add_*`` call is one look: the LLR is recomputed and checked there.

    ``paired=True`` takes results as pairs (pentanomial statistic), ``paired=False`` as single games
    (trinomial statistic). ``max_games`` is the cap after which an undecided test is inconclusive.
    """

    def __init__(
        self,
        *,
        elo0: float,
        elo1: float,
        alpha: float = 0.05,
        beta: float = 0.05,
        paired: bool,
        max_games: int,
    ) -> None:
        if not elo1 > elo0:
            raise InvalidConfig(f"elo1 ({elo1}) must be greater than elo0 ({elo0})")
        if max_games < (2 if paired else 1):
            raise InvalidConfig(
                f"max_games must allow at least one {'pair' if paired else 'game'}, got {max_games}"
            )
        self.elo0, self.elo1, self.alpha, self.beta = float(elo0), float(elo1), float(alpha), float(beta)
        self.lower, self.upper = wald_bounds(alpha=alpha, beta=beta)
        self.paired = paired
        self.max_games = int(max_games)
        self.pentanomial = np.zeros(5, dtype=np.int64)
        self.wdl = np.zeros(3, dtype=np.int64)  # losses, draws, wins
        self.llr = 0.0
        self.llr_path: list[float] = []
        self._decision: Decision | None = None

    @property
    def games(self) -> int:
        return int(self.wdl.sum())

    @property
    def pairs(self) -> int:
        return int(self.pentanomial.sum())

    @property
    def finished(self) -> bool:
        return self._decision is not None

    @property
    def decision(self) -> Decision:
        return self._decision or "inconclusive"

    def counts(self) -> np.ndarray:
        """The statistic's counts: pentanomial [5] when paired, trinomial [3] otherwise."""
        return self.pentanomial.copy() if self.paired else self.wdl.copy()

    def add_games(self, points: ArrayLike) -> Decision | None:
        """Add unpaired games: the candidate's points float [n] in {0, 0.5, 1}. Returns the decision, if any."""
        if self.paired:
            raise InvalidConfig("this test is paired; add results with add_pairs(points [n, 2])")
        pts = self._check_points(np.asarray(points, dtype=np.float64).reshape(-1))
        self.wdl += np.bincount((pts * 2).astype(np.int64), minlength=3)
        return self._look()

    def add_pairs(self, points: ArrayLike) -> Decision | None:
        """Add pairs of games with seats swapped: the candidate's points float [n, 2]. Returns the decision, if any."""
        if not self.paired:
            raise InvalidConfig("this test is unpaired; add results with add_games(points [n])")
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2:
            raise InvalidConfig(f"pair results must have shape [n, 2], got {list(pts.shape)}")
        pts = self._check_points(pts)
        self.wdl += np.bincount((pts.reshape(-1) * 2).astype(np.int64), minlength=3)
        self.pentanomial += np.bincount((pts.sum(axis=1) * 2).astype(np.int64), minlength=5)
        return self._look()

    def _check_points(self, pts: np.ndarray) -> np.ndarray:
        if self.finished:
            raise InvalidConfig(f"the test has already decided ({self.decision}); start a new one")
        if not np.all(np.isin(pts, (0.0, 0.5, 1.0))):
            raise InvalidConfig(
                f"game points must be 0, 0.5 or 1 for the candidate, got {np.unique(pts).tolist()}"
            )
        return pts

    def _look(self) -> Decision | None:
        counts = self.counts()
        if counts.sum() == 0:
            return self._decision
        self.llr = float(llr_logistic(counts, elo0=self.elo0, elo1=self.elo1))
        self.llr_path.append(self.llr)
        if self.llr >= self.upper:
            self._decision = "accept"
        elif self.llr <= self.lower:
            self._decision = "reject"
        elif self.games >= self.max_games:
            self._decision = "inconclusive"
        return self._decision

    def result(self) -> SPRTResult:
        counts = self.counts()
        losses, draws, wins = (int(v) for v in self.wdl)
        games = self.games
        score = (wins + 0.5 * draws) / games if games else 0.5
        elo, lo, hi = elo_estimate(counts) if counts.sum() else (0.0, -math.inf, math.inf)
        # decision, llr, elo0/elo1, alpha/beta, paired, games, pairs and llr_path are the test's own attributes
        return from_attributes(
            SPRTResult, self,
            llr_lower=self.lower, llr_upper=self.upper, score=score, elo_delta=elo, elo_ci_low=lo, elo_ci_high=hi,
            wins=wins, draws=draws, losses=losses,
            pentanomial=[int(v) for v in self.pentanomial] if self.paired else None,
        )  # fmt: skip
