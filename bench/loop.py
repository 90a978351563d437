"""Time to strength: wall time until the production model of hex6_2p first scores at least 60% against the
rollout-MCTS anchor at 200 simulations, with the time spent in each stage.

    python bench/loop.py [--config hex6_2p] [--max-cycles 10] [--check-games 40] [--home DIR]

Runs the real pipeline with the embedded CPU defaults (``defaults_for``) in a fresh data directory. After every
cycle that promoted a model, production plays a fixed match against the anchor (seats swapped over paired
openings); the clock includes everything but those checks, which are reported separately.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ANCHOR = "rollout_mcts_200"
TARGET = 0.60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="hex6_2p")
    parser.add_argument("--max-cycles", type=int, default=10)
    parser.add_argument("--check-games", type=int, default=40)
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zl-loop-") as tmp:
        run(args, args.home or Path(tmp))


def run(args, home: Path) -> None:
    from app.core.config import Settings
    from app.games.registry import game_for_key
    from app.integration.lifecycle import ModelLifecycle
    from app.integration.pipeline import Pipeline

    settings = Settings(home=home)
    game = game_for_key(args.config)
    stage_s: dict[str, float] = defaultdict(float)
    loop_s = check_s = 0.0
    checked: set[str] = set()
    print(
        f"time to strength on {args.config}: production vs {ANCHOR} >= {TARGET:.0%} ({args.check_games} games)"
    )
    with Pipeline(args.config, settings=settings) as pipeline:
        for cycle in range(1, args.max_cycles + 1):
            started = time.perf_counter()
            summary = pipeline.run(cycle)[-1].summary
            loop_s += time.perf_counter() - started
            for stage, seconds in summary["seconds"].items():
                stage_s[stage] += seconds or 0.0
            production = ModelLifecycle(settings).get_production(args.config)
            line = f"cycle {cycle}: {summary['candidate']} {summary['decision']}, loop {loop_s:.0f}s"
            if production is None or production.model_id in checked:
                print(line)
                continue
            checked.add(production.model_id)
            started = time.perf_counter()
            score = match_score(settings, game, production.model_id, args.check_games, seed=10_000 + cycle)
            check_s += time.perf_counter() - started
            print(
                f"{line}; {production.model_id} scores {score:.1%} vs {ANCHOR} over {args.check_games} games"
            )
            if score >= TARGET:
                print(f"\nreached after {cycle} cycles: {loop_s:.0f}s of loop wall time")
                break
        else:
            print(f"\nnot reached within {args.max_cycles} cycles ({loop_s:.0f}s of loop wall time)")
    job_s = sum(stage_s.values())
    for stage in ("selfplay", "training", "evaluation"):
        print(f"  {stage:<10} {stage_s[stage]:7.1f}s  ({stage_s[stage] / max(loop_s, 1e-9):.0%} of the loop)")
    print(f"  {'overhead':<10} {loop_s - job_s:7.1f}s  (job start-up, promotion, bookkeeping)")
    print(f"  strength checks (not in the loop time): {check_s:.1f}s")


def match_score(settings, game, model_id: str, games: int, *, seed: int) -> float:
    """Mean points of ``model_id`` against the anchor over paired openings with seats swapped (fixed length)."""
    import numpy as np

    from app.evaluation.arena import play_rotated, random_openings
    from app.evaluation.players import make_agent

    rng = np.random.default_rng(seed)
    lineup = [
        make_agent(model_id, game, settings, num_simulations=48),
        make_agent(ANCHOR, game, settings, num_simulations=0),
    ]
    openings = random_openings(game, max(1, games // 2), num_moves=2, rng=rng)
    played = [g for group in play_rotated(game, lineup, openings, rng=rng) for g in group]
    points = []
    for g in played:
        seat = g.players.index(model_id)
        best, worst = max(g.returns), min(g.returns)
        points.append(0.5 if best == worst else float(g.returns[seat] == best))
    return float(np.mean(points))


if __name__ == "__main__":
    main()
