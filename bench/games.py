"""Game-rule speed: random playouts and the per-move cost of the protocol, on one core.

    python bench/games.py [--seconds 1.0] [--repeats 3] [--boards hex8_2p,connect4_2p,connect4_3p,connect4_4p]

For each config key it prints (best of ``--repeats`` runs of ``--seconds`` each):
- batch playouts/s: ``game.random_playouts(initial, n, rng)``, the numba loop, from the initial position
  (the issue's target for hex8: at least 20,000 games/s on one core);
- single playouts/s: ``game.random_playout(initial, rng)`` called once per game from Python, as a rollout agent
  calls it per leaf (includes the Python → numba call);
- protocol playouts/s, the baseline measured in the same run: uniformly random games played move by move
  through ``legal_mask`` + ``apply`` (``app.games.base.play_randomly``), what a game without a fast path gets;
- per-move cost in µs of ``apply``, ``legal_mask`` and ``encode`` on positions taken from random games.
All kernels are single-threaded, so the figures are per core.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.games import game_for_key, play_randomly  # noqa: E402
from app.games.base import Game  # noqa: E402


def _best_rate(run: Callable[[], int], seconds: float, repeats: int) -> float:
    """Best items/s over ``repeats`` windows of about ``seconds`` each; ``run`` returns the items it did."""
    best = 0.0
    for _ in range(repeats):
        done, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            done += run()
        best = max(best, done / elapsed)
    return best


def _positions(game: Game, count: int, rng: np.random.Generator) -> list:
    """Non-terminal positions from random games, about evenly spread over game length."""
    out: list = []
    while len(out) < count:
        s = game.initial_state()
        while not game.is_terminal(s) and len(out) < count:
            out.append(s)
            s = game.apply(s, int(rng.choice(np.flatnonzero(game.legal_mask(s)))))
    return out


def _per_call_us(fn: Callable[[object], object], items: list, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for x in items:
            fn(x)
        best = min(best, (time.perf_counter() - start) / len(items))
    return best * 1e6


def bench(key: str, seconds: float, repeats: int) -> None:
    game = game_for_key(key)
    rng = np.random.default_rng(0)
    start = game.initial_state()
    game.random_playouts(start, 10, rng)  # load or compile the numba kernels outside the timing
    batch = 1000

    def batch_run() -> int:
        game.random_playouts(start, batch, rng)
        return batch

    def single_run() -> int:
        for _ in range(100):
            game.random_playout(start, rng)
        return 100

    def protocol_run() -> int:
        play_randomly(game, start, rng)
        return 1

    batch_rate = _best_rate(batch_run, seconds, repeats)
    single_rate = _best_rate(single_run, seconds, repeats)
    protocol_rate = _best_rate(protocol_run, seconds, repeats)

    positions = _positions(game, 2000, rng)
    moves = [int(rng.choice(np.flatnonzero(game.legal_mask(s)))) for s in positions]
    pairs = list(zip(positions, moves, strict=True))
    apply_us = _per_call_us(lambda p: game.apply(p[0], p[1]), pairs, repeats)
    mask_us = _per_call_us(game.legal_mask, positions, repeats)
    encode_us = _per_call_us(game.encode, positions, repeats)

    print(
        f"{key:<13} {batch_rate:>12,.0f} {single_rate:>12,.0f} {protocol_rate:>10,.0f}"
        f" {batch_rate / protocol_rate:>8.0f}x {apply_us:>7.2f} {mask_us:>7.2f} {encode_us:>7.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--boards", default="hex8_2p,hex13_2p,connect4_2p,connect4_3p,connect4_4p")
    args = parser.parse_args()
    print("random playouts from the initial position, games/s (one core); protocol costs, µs per call")
    print(
        f"{'config':<13} {'batch':>12} {'single':>12} {'protocol':>10} {'b/proto':>9}"
        f" {'apply':>7} {'mask':>7} {'encode':>7}"
    )
    for key in args.boards.split(","):
        bench(key.strip(), args.seconds, args.repeats)


if __name__ == "__main__":
    main()
