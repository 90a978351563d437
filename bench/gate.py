"""How many games the GSPRT gate needs at ±30 Elo, against a fixed 400-game match with the same error rates.

    python bench/gate.py [--runs 4000 --draw-ratio 0.0 --opening-bias 0.1 --look-every 1 --seed 0]

Set-up (all by simulation of the statistics, no games are played):
- The gate tests H0: elo = 0 against H1: elo = +30 (logistic Elo), paired openings (pentanomial), as the arena runs
  it. Truths are +30 (the candidate really is H1) and -30 (it is worse by as much).
- Outcomes: Hex-like by default (no draws); each opening favours one seat by ``--opening-bias`` in expected score,
  which correlates the two games of a pair (``app.evaluation.simulate.pentanomial_probs``).
- The fixed match plays its games in the same pairs and accepts when the candidate's total score exceeds the midpoint
  between the two hypotheses' expected scores. Its error rates are computed exactly (the distribution of a sum of
  pairs is a repeated convolution), not simulated.

Two readings of "with the same error rates" are printed, since they answer different questions:
- A: take the alpha/beta that a fixed 400-game match achieves, give the SPRT the same alpha/beta, and compare its
  average games with 400.
- B: fix alpha = beta = 0.05, find the smallest fixed match reaching both, and compare with the SPRT's average.
Finally the gate as configured by default (alpha = beta = 0.05, capped at 400 games) is set beside the fixed
400-game match: acceptance rates at -30, 0 and +30 and average games.

Theory to read the figures by: at the hypothesis points themselves Wald's SPRT needs about half the games of the
equivalent fixed test; the saving grows as the truth moves away from the hypotheses, so it is largest at -30.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from app.evaluation.simulate import pentanomial_probs, simulate_gsprt
from app.evaluation.sprt import logistic_score

ELO0, ELO1 = 0.0, 30.0
TRUTHS = (30.0, -30.0)
FIXED_GAMES = 400


def fixed_match_errors(pairs: int, *, draw_ratio: float, opening_bias: float) -> tuple[float, float]:
    """(alpha, beta) of a fixed match of ``pairs`` pairs that accepts above the hypotheses' midpoint score."""
    p0 = pentanomial_probs(ELO0, draw_ratio=draw_ratio, opening_bias=opening_bias)
    p1 = pentanomial_probs(ELO1, draw_ratio=draw_ratio, opening_bias=opening_bias)
    d0, d1 = np.array([1.0]), np.array([1.0])
    for _ in range(pairs):
        d0, d1 = np.convolve(d0, p0), np.convolve(d1, p1)
    # Index k of the sum is the total in half points; a pair is worth at most 4 of them.
    midpoint = 0.5 * float(logistic_score(ELO0) + logistic_score(ELO1)) * 4 * pairs
    accept = np.arange(d0.size) > midpoint
    return float(d0[accept].sum()), float(d1[~accept].sum())


def fixed_games_for(alpha: float, beta: float, *, draw_ratio: float, opening_bias: float) -> int:
    """The smallest fixed match (in games, whole pairs) whose error rates are both at most alpha and beta."""
    lo, hi = 1, 1
    while (
        max(
            e - t
            for e, t in zip(
                fixed_match_errors(hi, draw_ratio=draw_ratio, opening_bias=opening_bias),
                (alpha, beta),
                strict=True,
            )
        )
        > 0
    ):
        lo, hi = hi, hi * 2
    while (
        lo < hi
    ):  # error rates fall with the number of pairs (up to lattice wobble, which bisection ignores)
        mid = (lo + hi) // 2
        a, b = fixed_match_errors(mid, draw_ratio=draw_ratio, opening_bias=opening_bias)
        lo, hi = (mid + 1, hi) if (a > alpha or b > beta) else (lo, mid)
    return 2 * hi


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=4000, help="simulated tests per truth")
    parser.add_argument("--draw-ratio", type=float, default=0.0)
    parser.add_argument("--opening-bias", type=float, default=0.1)
    parser.add_argument("--look-every", type=int, default=1, help="pairs between LLR looks")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    model = {"draw_ratio": args.draw_ratio, "opening_bias": args.opening_bias}
    started = time.perf_counter()

    def sprt(truth: float, alpha: float, beta: float, max_games: int = 10**7):
        return simulate_gsprt(
            pentanomial_probs(truth, **model),
            elo0=ELO0,
            elo1=ELO1,
            alpha=alpha,
            beta=beta,
            max_games=max_games,
            look_every=args.look_every,
            runs=args.runs,
            rng=rng,
        )

    print(
        f"gate H0: elo={ELO0:+.0f}  H1: elo={ELO1:+.0f}  (logistic, paired openings); draw ratio "
        f"{args.draw_ratio}, opening bias {args.opening_bias}, look every {args.look_every} pair(s), "
        f"{args.runs} runs per truth"
    )

    alpha, beta = fixed_match_errors(FIXED_GAMES // 2, **model)
    print(
        f"\nA. fixed {FIXED_GAMES}-game match: alpha={alpha:.4f} beta={beta:.4f}; SPRT with the same alpha/beta:"
    )
    means = []
    for truth in TRUTHS:
        r = sprt(truth, alpha, beta)
        means.append(r.mean_games)
        print(
            f"   truth {truth:+.0f}: SPRT {r.mean_games:7.1f} games (accepts {r.accept_rate:.3f}), "
            f"{FIXED_GAMES / r.mean_games:4.2f}x fewer than {FIXED_GAMES}"
        )
    print(f"   mean over ±30: {np.mean(means):7.1f} games, {FIXED_GAMES / np.mean(means):4.2f}x fewer")

    fixed_n = fixed_games_for(0.05, 0.05, **model)
    print(f"\nB. alpha=beta=0.05: a fixed match needs {fixed_n} games; SPRT:")
    means = []
    for truth in TRUTHS:
        r = sprt(truth, 0.05, 0.05)
        means.append(r.mean_games)
        print(
            f"   truth {truth:+.0f}: SPRT {r.mean_games:7.1f} games (accepts {r.accept_rate:.3f}), "
            f"{fixed_n / r.mean_games:4.2f}x fewer than {fixed_n}"
        )
    print(f"   mean over ±30: {np.mean(means):7.1f} games, {fixed_n / np.mean(means):4.2f}x fewer")

    print(
        f"\nC. default gate (alpha=beta=0.05, cap {FIXED_GAMES} games) beside the fixed {FIXED_GAMES}-game match:"
    )
    for truth in (-30.0, 0.0, 30.0):
        r = sprt(truth, 0.05, 0.05, max_games=FIXED_GAMES)
        p = pentanomial_probs(truth, **model)
        d = np.array([1.0])
        for _ in range(FIXED_GAMES // 2):
            d = np.convolve(d, p)
        midpoint = 0.5 * float(logistic_score(ELO0) + logistic_score(ELO1)) * 2 * FIXED_GAMES
        fixed_accept = float(d[np.arange(d.size) > midpoint].sum())
        print(
            f"   truth {truth:+.0f}: gate accepts {r.accept_rate:.3f}, rejects {r.reject_rate:.3f}, "
            f"undecided {r.inconclusive_rate:.3f} after {r.mean_games:6.1f} games on average; "
            f"fixed match accepts {fixed_accept:.3f} after {FIXED_GAMES}"
        )
    print(f"\n({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
