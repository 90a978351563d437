"""Selfplay throughput with 1 and with N selfplay jobs side by side on this machine, through the job system.

    python bench/selfplay_jobs.py [--config hex6_2p] [--jobs 2] [--games 64] [--simulations 16]

In a throw-away data directory an untrained network of the default preset is registered (the network's cost, not
its strength, sets the rate); then one selfplay job plays ``--games`` games, and after it ``--jobs`` jobs play
``--games`` games each at once on an in-process node with that many slots. Each line gives the games and positions
per second of wall-clock (submission to the last job's end, job start-up included) and the ratio to one job: what
a fleet of that many long-running jobs (``mode=continuous``) can make here.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="hex6_2p")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--games", type=int, default=64)
    parser.add_argument("--simulations", type=int, default=16)
    args = parser.parse_args()

    from app.core.config import Settings
    from app.core.names import parse_config_key
    from app.games.registry import game_for_key
    from app.nn import Lineage, NetConfig, PolicyValueNet, save_checkpoint
    from app.p2p.local_jobs import LocalJobs
    from app.registry import ModelLifecycle

    key = parse_config_key(args.config)
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        model_id = f"{args.config}_v1"
        net = PolicyValueNet.for_game(game_for_key(args.config), NetConfig.cpu())
        path = settings.path("models", args.config, f"{model_id}.safetensors")
        meta = save_checkpoint(path, net, Lineage(config_key=args.config, model_id=model_id))
        ModelLifecycle(settings).register_model(
            model_id, "STAGING", artifact_path=str(path), sha256=meta.sha256
        )
        config = {
            "board_type": key.board_type,
            "num_players": key.num_players,
            "games": args.games,
            "model_id": model_id,
            "num_simulations": args.simulations,
            "gumbel": True,
        }
        print(f"selfplay on {args.config}: {args.games} games a job at {args.simulations} simulations")
        baseline = None
        for jobs in (1, args.jobs):
            with LocalJobs(settings, slots=jobs) as client:
                started = time.perf_counter()
                ids = [client.submit("selfplay", {**config, "seed": jobs * 100 + k}) for k in range(jobs)]
                results = [client.wait(job_id, timeout=3600) for job_id in ids]
                seconds = time.perf_counter() - started
            failed = [r.error_summary for r in results if not r.succeeded]
            if failed:
                raise SystemExit(f"a selfplay job failed: {failed[0]}")
            games = sum(r.result["games"] for r in results)
            positions = sum(r.result["positions"] for r in results)
            rate = positions / seconds
            baseline = baseline or rate
            print(
                f"  {jobs} job(s): {games / seconds:.2f} games/s, {rate:.0f} positions/s "
                f"({rate / baseline:.2f}x one job) over {seconds:.1f}s"
            )


if __name__ == "__main__":
    main()
