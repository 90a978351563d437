"""How close batched search comes to the network's own speed, on hex8_2p with the default CPU network.

    python bench/search.py [--games 64 --simulations 64 --rounds 3 --seconds 4]

Prints, from one run:
  (a) raw network positions/s at the batch size the search sends per call (and at the number of games),
  (b) selfplay MCTS simulations/s with ``--games`` games in parallel (PUCT, Dirichlet noise, temperature-1
      moves, finished games restarted: what selfplay does),
  (c) the ratio b/a (target >= 0.85),
  (d) simulations/s of the same search evaluating one leaf per network call (one game; target: b >= 5x d).

(a) and (b) are measured in interleaved rounds so that load from other processes on a shared machine hits both
alike; each is the total over all rounds. The raw network runs on planes of real selfplay positions.
A simulation is one leaf evaluation (the roots' own evaluations are not counted, though (b) pays for them).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from app.games.registry import make_game
from app.nn import NetConfig, NetworkEvaluator, PolicyValueNet
from app.search import BatchedMCTS, MCTSConfig, select_action
from app.selfplay.config import SelfplayConfig


class CountingEvaluator:
    """Passes calls through to the network and records each call's batch size and the time spent inside."""

    def __init__(self, evaluate) -> None:
        self.evaluate = evaluate
        self.batches: list[int] = []
        self.busy = 0.0

    def __call__(self, planes: np.ndarray, legal: np.ndarray):
        self.batches.append(len(planes))
        start = time.perf_counter()
        try:
            return self.evaluate(planes, legal)
        finally:
            self.busy += time.perf_counter() - start


class SelfplayLoop:
    """``games`` games advanced one search per move; finished games start again."""

    def __init__(self, game, search: BatchedMCTS, games: int, seed: int) -> None:
        self.game = game
        self.search = search
        self.rng = np.random.default_rng(seed)
        self.states = [game.initial_state() for _ in range(games)]
        self.moves = [0] * games
        self.positions: list = []

    def move(self) -> int:
        """Play one move in every game; returns the simulations spent."""
        game = self.game
        out = self.search.run(self.states, self.rng, add_noise=True)
        for i, state in enumerate(self.states):
            temperature = 1.0 if self.moves[i] < 8 else 0.0
            state = game.apply(state, int(select_action(out.visit_counts[i], temperature, self.rng)))
            if game.is_terminal(state):
                state, self.moves[i] = game.initial_state(), 0
            else:
                self.moves[i] += 1
                self.positions.append(state)
            self.states[i] = state
        return len(self.states) * self.search.config.num_simulations


def raw_rate(evaluate, planes: np.ndarray, legal: np.ndarray, seconds: float) -> tuple[int, float]:
    """(positions evaluated, seconds) calling ``evaluate`` on the same batch for about ``seconds``."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        evaluate(planes, legal)
        count += len(planes)
    return count, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_sims = SelfplayConfig.model_fields["num_simulations"].default
    parser.add_argument("--games", type=int, default=64, help="games searched in parallel")
    parser.add_argument("--simulations", type=int, default=default_sims, help="simulations per move")
    parser.add_argument("--leaves-per-step", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one round of (a) and of (b)")
    parser.add_argument("--single-seconds", type=float, default=6.0, help="length of (d)")
    parser.add_argument("--no-overlap", action="store_true", help="keep network calls on the search thread")
    args = parser.parse_args()

    game = make_game("hex8", 2)
    torch.manual_seed(0)
    net = PolicyValueNet.for_game(game, NetConfig.cpu()).eval()
    network = NetworkEvaluator(net)
    config = MCTSConfig(num_simulations=args.simulations, leaves_per_step=args.leaves_per_step)
    counting = CountingEvaluator(network)
    search = BatchedMCTS(game, counting, config, overlap=not args.no_overlap)
    loop = SelfplayLoop(game, search, args.games, seed=0)
    print(
        f"hex8_2p, net cpu ({net.cfg.blocks}x{net.cfg.channels}, {network.mode}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; {args.games} games x {args.simulations} simulations, "
        f"leaves/step {args.leaves_per_step}, overlap {not args.no_overlap}"
    )

    # Warm-up: numba compilation, torch's first calls, and a pool of real positions for the raw timing.
    loop.move()
    loop.move()
    step_batches = counting.batches[1:]  # the first call of each search holds the roots
    batch = int(statistics.median(step_batches))
    pool = np.stack([game.encode(s) for s in loop.positions])
    pool_legal = np.stack([game.legal_mask(s) for s in loop.positions])
    planes, legal = pool[:batch], pool_legal[:batch]
    planes_g = np.resize(pool, (args.games, *pool.shape[1:]))
    legal_g = np.resize(pool_legal, (args.games, pool_legal.shape[1]))

    raw_n = raw_t = raw_g_n = raw_g_t = 0.0
    sims = sims_t = 0.0
    calls_before = len(counting.batches)
    counting.busy = 0.0
    for _ in range(args.rounds):
        n, t = raw_rate(network, planes, legal, args.seconds)
        raw_n, raw_t = raw_n + n, raw_t + t
        n, t = raw_rate(network, planes_g, legal_g, args.seconds / 4)
        raw_g_n, raw_g_t = raw_g_n + n, raw_g_t + t
        start = time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            sims += loop.move()
        sims_t += time.perf_counter() - start
    network_positions = sum(counting.batches[calls_before:])

    single = BatchedMCTS(game, network, config, overlap=False)
    single_loop = SelfplayLoop(game, single, 1, seed=2)
    single_loop.move()
    single_sims, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.single_seconds:
        single_sims += single_loop.move()
    single_t = time.perf_counter() - start

    a = raw_n / raw_t
    b = sims / sims_t
    d = single_sims / single_t
    print(f"(a) raw network:           {a:9.0f} positions/s at batch {batch} (the search's calls)")
    print(f"                           {raw_g_n / raw_g_t:9.0f} positions/s at batch {args.games}")
    print(
        f"(b) selfplay search:       {b:9.0f} simulations/s ({network_positions / sims_t:.0f} network positions/s)"
    )
    print(f"                           network busy {counting.busy / sims_t:.0%} of the time")
    print(f"(c) b / a:                 {b / a:9.2f}   (target >= 0.85)")
    print(f"(d) one leaf per call:     {d:9.0f} simulations/s; b / d = {b / d:.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()
