"""Network inference speed on this machine: positions/s per evaluator mode and batch size.

    python bench/nn.py [--board hex8 --players 2 --preset cpu --threads 2 --modes eager,jit,onnx,compile]

Each figure is the best of ``--repeats`` interleaved timings of ``NetworkEvaluator.__call__`` (network forward,
masked softmax, numpy in and out: what search pays per call). Eager is the baseline measured in the same run;
the other modes are also printed as a ratio to it. Outputs of every mode are checked against eager first.

Two tables: positions per wall-clock second, and positions per CPU-second of this process. On a machine shared
with other work the wall-clock figures swing with the load; with ``--threads 1`` the CPU-second figures do not,
so they are the ones to compare modes by.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from app.games.registry import make_game
from app.nn import NetConfig, NetworkEvaluator, PolicyValueNet, configure_threads


def _rates(evaluate, planes, legal, seconds: float) -> tuple[float, float]:
    """(positions per wall second, positions per CPU second of this process)."""
    evaluate(planes, legal)
    n, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - start) < seconds:
        evaluate(planes, legal)
        n += 1
    cpu = max(time.process_time() - cpu_start, 1e-9)
    return n * len(planes) / elapsed, n * len(planes) / cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--board", default="hex8")
    parser.add_argument("--players", type=int, default=2)
    parser.add_argument("--preset", default="cpu", choices=["cpu", "gpu"])
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: $ZEROLOOP_TORCH_THREADS, else 1)"
    )
    parser.add_argument("--modes", default="eager,jit,onnx,compile")
    parser.add_argument("--batch-sizes", default="1,8,32,64,128,256")
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one timing")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()

    game = make_game(args.board, args.players)
    threads = configure_threads(args.threads)
    torch.manual_seed(0)
    net = PolicyValueNet.for_game(game, NetConfig.preset(args.preset)).eval()
    modes = args.modes.split(",")
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    rng = np.random.default_rng(0)
    biggest = max(batch_sizes)
    planes = rng.integers(0, 2, size=(biggest, game.num_planes, *game.board_shape)).astype(np.float32)
    legal = rng.random((biggest, game.action_size)) < 0.7

    evaluators = {}
    for mode in modes:
        start = time.perf_counter()
        ev = NetworkEvaluator(net, args.device, mode=mode)
        p, v = ev(planes[:3], legal[:3])  # torch.compile compiles on the first call
        evaluators[mode] = ev
        build = time.perf_counter() - start
        ref = evaluators[modes[0]](planes[:3], legal[:3])
        err = max(np.abs(p - ref[0]).max(), np.abs(v - ref[1]).max())
        print(f"{mode:>8}: ready in {build:6.1f} s, max |diff| vs {modes[0]} = {err:.1e}")

    device = next(iter(evaluators.values())).device
    print(
        f"\n{args.board}_{args.players}p, net {args.preset} ({net.cfg.blocks}x{net.cfg.channels}), "
        f"device {device}, torch {torch.__version__}, threads {threads}; positions/s (best of {args.repeats})"
    )
    wall = {b: dict.fromkeys(modes, 0.0) for b in batch_sizes}
    cpu = {b: dict.fromkeys(modes, 0.0) for b in batch_sizes}
    for b in batch_sizes:
        for _ in range(args.repeats):  # interleaved so that load from other processes hits every mode alike
            for mode in modes:
                w, c = _rates(evaluators[mode], planes[:b], legal[:b], args.seconds)
                wall[b][mode], cpu[b][mode] = max(wall[b][mode], w), max(cpu[b][mode], c)
    for title, table in (("positions / wall second", wall), ("positions / CPU second", cpu)):
        print(f"\n{title}")
        print(f"{'batch':>6} " + " ".join(f"{m:>16}" for m in modes))
        for b in batch_sizes:
            base = table[b][modes[0]]
            cells = [f"{table[b][m]:9.0f} ({table[b][m] / base:4.2f}x)" for m in modes]
            print(f"{b:>6} " + " ".join(f"{c:>16}" for c in cells))


if __name__ == "__main__":
    main()
