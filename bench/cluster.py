"""Cluster benchmark: selfplay positions/s on 1 and on 2 worker hosts, and what moving the files costs.

    sudo python bench/cluster.py [--jobs 8] [--games 64] [--rounds 3] [--simulations 32] [--model]

Builds the cluster of ``tests/p2p/test_cluster.py`` on this machine (network namespaces as hosts, a Ray head
without CPUs beside the node, two worker hosts with one CPU each, running as ``nobody``), warms each worker host
with one small job (imports, game kernels), then ``--rounds`` times runs ``--jobs`` selfplay jobs pinned to the
first worker host and the same number again spread over both (new seeds, so nothing is reused). Positions/s is
counted over the wall time from the first submit to the last outcome indexed (the node's record of it); the ratio
is 2 hosts over 1, per pair of rounds and over all of them (on a 2-core machine the issue's target is >= 1.7).
Per job it reads the node's timing line: the task's ``materialize`` (installing the inputs), ``stage``,
``collect`` (reading the outputs back) and the node's ``accept`` (checking and indexing them), and reports each
shard's and each checkpoint's transfer cost as a share of the job's time from claim to finish.
``--model`` plays a registered untrained network (its checkpoint travels with every job) instead of
generation 0. ``--slots`` and ``--tick-s`` set the node's slots and round period (default: ``zeroloop serve``'s,
two slots per CPU of the cluster and its tick).
Needs root (``ip netns``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.p2p.node import TICK_S  # noqa: E402
from tests.p2p.cluster_net import REPO, Cluster, netns_unavailable, ray_env  # noqa: E402

TIMING = re.compile(r"timing (.*)")


def _body(args: argparse.Namespace) -> None:
    """In the head namespace: a node on the cluster, the two rounds, one JSON line of findings."""
    from app.core.config import Settings
    from app.core.jobs import JobCreate, Resources, wait_for
    from app.p2p import paths, store
    from app.p2p.executors.ray_executor import RayExecutor
    from app.p2p.node import Node
    from app.storage.base import utcnow

    settings = Settings(home=Path(args.home))
    model_id = _register_model(settings) if args.model else "uniform"
    executor = RayExecutor(settings, args.address)
    slots = executor.default_slots() if args.slots is None else args.slots
    node = Node(settings, executor, node_id="bench", slots=slots, tick_s=args.tick_s)
    node.start()

    def round_(name: str, seeds: range, custom: dict[str, float]) -> dict:
        config = {"board_type": "hex5", "num_players": 2, "num_simulations": args.simulations,
                  "parallel_games": min(8, args.games), "model_id": model_id}  # fmt: skip
        submitted = utcnow()
        ids = [
            store.submit(
                settings,
                JobCreate(type="selfplay", config={**config, "games": args.games if name != "warm" else 2,
                          "seed": seed}, resources=Resources(cpus=1, custom=custom)),
            ).id
            for seed in seeds
        ]  # fmt: skip
        node.wake()
        jobs = [wait_for(lambda i: store.get_job(settings, i), i, timeout=1800) for i in ids]
        failed = [j.error for j in jobs if not j.succeeded]
        if failed:
            raise RuntimeError(f"{name}: {len(failed)} jobs failed: {failed[0]}")
        # Up to the last outcome's indexing as the node recorded it, not this loop's polling of the jobs.
        wall = (max(j.finished_at for j in jobs) - submitted).total_seconds()
        per_job = [_job_figures(j, paths.log_tail(settings, j.id, 8000)) for j in jobs]
        return {"wall_s": wall, "positions": sum(j.result["positions"] for j in jobs), "jobs": per_job}

    pairs = []
    try:
        for i in range(2):
            round_("warm", range(10_000 + i, 10_001 + i), {f"zl_w{i}": 1})
        # The rounds alternate, so a drift of the machine's speed (a neighbour on the VM) hits both sides alike.
        for r in range(args.rounds):
            base = 1000 * r
            pairs.append({
                "one": round_("one", range(base, base + args.jobs), {"zl_w0": 1}),
                "two": round_("two", range(base + 500, base + 500 + args.jobs), {}),
            })  # fmt: skip
    finally:
        node.stop()
    print(json.dumps({"pairs": pairs, "model": model_id, "slots": slots}))


def _job_figures(job, log: str) -> dict:
    laps = dict(pair.split("=") for pair in TIMING.findall(log)[-1].split())
    sizes = [int(n) for n in re.findall(r"shard:\S+ \((\d+) bytes\)", log)]
    model = re.findall(r"inputs: model:\S+ \((\d+) bytes\)", log)
    return {
        "job_s": (job.finished_at - job.started_at).total_seconds(),
        "host": job.worker_host,
        "shards": len(sizes),
        "shard_bytes": sum(sizes),
        "checkpoint_bytes": int(model[-1]) if model else 0,
        **{k: float(v) for k, v in laps.items()},
    }


def _register_model(settings) -> str:
    from app.games.registry import make_game
    from app.nn import Lineage, NetConfig, PolicyValueNet, save_checkpoint
    from app.registry import ModelLifecycle

    model_id = "hex5_2p_v1"
    net = PolicyValueNet.for_game(make_game("hex5", 2), NetConfig())
    path = settings.path("models", "hex5_2p", f"{model_id}.safetensors")
    meta = save_checkpoint(path, net, Lineage(config_key="hex5_2p", model_id=model_id))
    ModelLifecycle(settings).register_model(model_id, "STAGING", artifact_path=str(path), sha256=meta.sha256)
    return model_id


def _rate(rounds: list[dict]) -> float:
    return sum(r["positions"] for r in rounds) / sum(r["wall_s"] for r in rounds)


def _report(found: dict) -> None:
    pairs = found["pairs"]
    for i, pair in enumerate(pairs):
        one, two = _rate([pair["one"]]), _rate([pair["two"]])
        hosts = dict(sorted(Counter(j["host"] for j in pair["two"]["jobs"]).items()))
        print(f"round {i + 1}: 1 worker host {one:.1f} positions/s ({pair['one']['wall_s']:.1f} s), 2 hosts "
              f"{two:.1f} positions/s ({pair['two']['wall_s']:.1f} s, jobs by host {hosts}), ratio {two / one:.2f}")  # fmt: skip
    one, two = (_rate([p[k] for p in pairs]) for k in ("one", "two"))
    print(f"selfplay ({found['model']}, node slots {found['slots']}, {len(pairs)} rounds): 1 worker host {one:.1f} "
          f"positions/s, 2 hosts {two:.1f} positions/s, ratio {two / one:.2f} (target >= 1.7)")  # fmt: skip
    jobs = [j for p in pairs for k in ("one", "two") for j in p[k]["jobs"]]
    total = sum(j["job_s"] for j in jobs)
    shards = sum(j["shards"] for j in jobs)
    shard_s = sum(j["collect"] + j["accept"] for j in jobs)
    mean_bytes = sum(j["shard_bytes"] for j in jobs) / max(1, shards)
    print(f"per shard ({mean_bytes / 1024:.1f} KiB): collect + accept {1000 * shard_s / max(1, shards):.1f} ms, "
          f"{100 * shard_s / total:.2f}% of job time")  # fmt: skip
    stage = sum(j["stage"] for j in jobs)
    other = total - stage - shard_s - sum(j["materialize"] for j in jobs)
    print(
        f"job time {total:.1f} s over {len(jobs)} jobs: stage {100 * stage / total:.1f}%, the rest "
        f"(scheduling, Ray's transfer of arguments and results, scratch installation) {100 * other / total:.1f}%"
    )
    if found["model"] != "uniform":
        ckpt = jobs[0]["checkpoint_bytes"]
        mat = sum(j["materialize"] for j in jobs)
        print(f"per checkpoint ({ckpt / 1024:.0f} KiB): materialize {1000 * mat / len(jobs):.1f} ms, "
              f"{100 * mat / total:.2f}% of job time")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8, help="Selfplay jobs per round.")
    parser.add_argument("--games", type=int, default=64, help="Games per job.")
    parser.add_argument("--rounds", type=int, default=3, help="Pairs of rounds (1 host, then 2 hosts).")
    parser.add_argument("--simulations", type=int, default=32, help="MCTS simulations per move.")
    parser.add_argument(
        "--slots",
        type=int,
        help="The node's slots, jobs handed to Ray at once (default: as zeroloop serve's).",
    )
    parser.add_argument(
        "--tick-s", type=float, default=TICK_S, help="The node's round period (default: as zeroloop serve's)."
    )
    parser.add_argument("--model", action="store_true", help="Play a registered network, not generation 0.")
    parser.add_argument("--body", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.body:
        _body(args)
        return
    why = netns_unavailable()
    if why:
        sys.exit(f"bench/cluster.py: {why}")
    cluster = Cluster.up(2, f"b{os.getpid() % 10_000}")
    try:
        with tempfile.TemporaryDirectory(prefix="zlbench") as home:
            os.chmod(home, 0o700)
            flags = [f"--jobs={args.jobs}", f"--games={args.games}", f"--simulations={args.simulations}",
                     f"--rounds={args.rounds}"]  # fmt: skip
            flags += [f"--slots={args.slots}"] if args.slots is not None else []
            flags += [f"--tick-s={args.tick_s}"]
            done = subprocess.run(
                ["ip", "netns", "exec", cluster.head.netns, sys.executable, __file__, "--body", "--home", home,
                 "--address", cluster.address, *flags, *(["--model"] if args.model else [])],
                cwd=REPO, env=ray_env(str(cluster.root / "head" / "ray")), capture_output=True, text=True,
            )  # fmt: skip
    finally:
        cluster.down()
    if done.returncode != 0:
        sys.exit(done.stdout[-2000:] + done.stderr[-4000:])
    _report(json.loads(done.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
