"""How close batched search comes to the network's own speed, on hex8_2p with the default CPU network.

    python bench/search.py [--games 64 --simulations 64 --rounds 3 --seconds 4 --threads N --leaves-per-step K]
                           [--mode auto|eager|jit|compile|onnx]

Prints, from one run:
  (a) raw network positions/s at the batch size the search sends per call,
  (b) selfplay MCTS simulations/s with ``--games`` games in parallel (PUCT, Dirichlet noise, temperature-1
      opening moves, finished games restarted: what selfplay does),
  (c) the ratio b/a (target >= 0.85),
  (d) simulations/s of the same search evaluating one leaf per network call (one game; target: b >= 5x d).

Two ways of running the batched search are timed side by side: ``serial`` (every network call on this thread:
the default for a CPU network) and ``overlap`` (two halves of the games; one half's network call runs on a worker
thread while the other half's tree work runs here: the default for a network on an accelerator). Each has its own (a), at its own call size. All timings run in interleaved
rounds so that load from other processes on a shared machine hits each alike; each figure is the total over the
rounds. The raw network runs on planes of real selfplay positions. A simulation is one leaf evaluation (the roots'
own evaluations are not counted, though (b) pays for them).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from app.games.registry import make_game
from app.nn import NetConfig, NetworkEvaluator, PolicyValueNet
from app.nn.evaluator import MODES
from app.search import BatchedMCTS, MCTSConfig, select_action
from app.selfplay.config import SelfplayConfig


class CountingEvaluator:
    """Passes calls through to the network; records each call's batch size and the time spent inside."""

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

    def timed(self, seconds: float) -> tuple[float, float, float]:
        """(simulations, wall seconds, this thread's CPU seconds) of whole moves for about ``seconds``."""
        sims, start, cpu = 0, time.perf_counter(), time.thread_time()
        while time.perf_counter() - start < seconds:
            sims += self.move()
        return sims, time.perf_counter() - start, time.thread_time() - cpu


@dataclass
class Contender:
    """One way of running the batched search, with its own raw-network reference at its own call size."""

    name: str
    loop: SelfplayLoop
    counting: CountingEvaluator
    batch: int = 0
    positions: int = 0
    planes: np.ndarray | None = None
    legal: np.ndarray | None = None
    totals: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("raw_n", "raw_t", "sims", "t", "cpu"), 0.0)
    )


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
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one timing of (a) or (b)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the evaluator's)")
    parser.add_argument(
        "--mode", choices=MODES, default="auto", help="evaluator mode (auto: the CPU default)"
    )
    args = parser.parse_args()

    game = make_game("hex8", 2)
    torch.manual_seed(0)
    net = PolicyValueNet.for_game(game, NetConfig.cpu()).eval()
    network = NetworkEvaluator(net, num_threads=args.threads, mode=args.mode)
    config = MCTSConfig(num_simulations=args.simulations, leaves_per_step=args.leaves_per_step)
    contenders = []
    for name, overlap in (("serial", False), ("overlap", True)):
        counting = CountingEvaluator(network)
        loop = SelfplayLoop(game, BatchedMCTS(game, counting, config, overlap=overlap), args.games, seed=0)
        contenders.append(Contender(name, loop, counting))
    single = SelfplayLoop(game, BatchedMCTS(game, network, config, overlap=False), 1, seed=2)
    print(
        f"hex8_2p, net cpu ({net.cfg.blocks}x{net.cfg.channels}, {network.mode}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch thread(s); {args.games} games x {args.simulations} simulations, "
        f"leaves/step {args.leaves_per_step}"
    )

    # Warm-up (numba compilation, torch's first calls), the call size of each contender, and real positions.
    for c in contenders:
        c.loop.move()
        c.loop.move()
        c.batch = int(statistics.median(c.counting.batches[1:]))  # the first call of a search holds the roots
        pool = c.loop.positions
        c.planes = np.resize(
            np.stack([game.encode(s) for s in pool]), (c.batch, game.num_planes, *game.board_shape)
        )
        c.legal = np.resize(np.stack([game.legal_mask(s) for s in pool]), (c.batch, game.action_size))
        c.counting.busy = 0.0
    single.move()

    single_sims = single_t = raw1_n = raw1_t = 0.0
    one_planes, one_legal = contenders[0].planes[:1], contenders[0].legal[:1]
    for _ in range(args.rounds):
        for c in contenders:
            n, t = raw_rate(network, c.planes, c.legal, args.seconds)
            calls = len(c.counting.batches)
            sims, wall, cpu = c.loop.timed(args.seconds)
            c.positions += sum(c.counting.batches[calls:])
            for key, value in zip(c.totals, (n, t, sims, wall, cpu), strict=True):
                c.totals[key] += value
        sims, wall, _ = single.timed(args.seconds / 2)
        single_sims, single_t = single_sims + sims, single_t + wall
        n, t = raw_rate(network, one_planes, one_legal, args.seconds / 4)
        raw1_n, raw1_t = raw1_n + n, raw1_t + t

    d = single_sims / single_t
    print(
        f"(d) one leaf per call:     {d:9.0f} simulations/s (the raw network alone at batch 1: "
        f"{raw1_n / raw1_t:.0f} positions/s)"
    )
    for c in contenders:
        t = c.totals
        a, b = t["raw_n"] / t["raw_t"], t["sims"] / t["t"]
        print(f"{c.name}:")
        print(f"  (a) raw network:         {a:9.0f} positions/s at batch {c.batch} (this search's calls)")
        print(
            f"  (b) selfplay search:     {b:9.0f} simulations/s; network busy {c.counting.busy / t['t']:.0%} of "
            f"the time at {c.positions / c.counting.busy:.0f} positions/s; search thread "
            f"{t['cpu'] / t['sims'] * 1e6:.0f} CPU-us per simulation"
        )
        print(f"  (c) b / a:               {b / a:9.2f}   (target >= 0.85)")
        print(f"      b / d:               {b / d:9.1f}x  (target >= 5x)")


if __name__ == "__main__":
    main()
