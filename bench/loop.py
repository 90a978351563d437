"""Strength over wall-clock time: the real loop for N minutes, production checked against fixed anchors.

    python bench/loop.py --minutes 10 [--config hex6_2p] [--check-games 100] [--check-simulations 100]
                         [--anchors rollout_mcts_200,rollout_mcts_1000] [--set KEY=VALUE ...] [--home DIR]

Runs the pipeline in a fresh data directory with the embedded defaults (``defaults_for``), changed by each
``--set`` (a PipelineConfig field, ``cycle.FIELD`` for the first cycle's settings; values are JSON, else text),
e.g. ``--set solver=true --set full_search_fraction=0.25 --set cycle.num_simulations=64``. Cycles start until
``--minutes`` of loop time have passed. After every cycle that changed the production model, production (at
``--check-simulations`` a move) plays a fixed match against each anchor: the same openings at every point and in
every run, colours alternating over each opening. Each point prints the loop's elapsed seconds, the model, its
score against each anchor with a 95% Wilson interval, and the seconds spent in each stage so far; the checks
are timed apart and not counted in the loop's time.

To compare two sets of settings at equal wall-clock and the same seeds, run it twice on a quiet machine, once
with each ``--set`` list; everything else (seeds, openings, anchors) is the same.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections import defaultdict
from pathlib import Path

STAGES = ("selfplay", "training", "evaluation")
MATCH_SEED = 10_000
"""Seed of the check openings: the same match at every evaluation point and in every run."""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="hex6_2p")
    parser.add_argument(
        "--minutes", type=float, default=10.0, help="loop wall-clock budget (checks excluded)"
    )
    parser.add_argument("--max-cycles", type=int, default=1000)
    parser.add_argument("--check-games", type=int, default=100, help="games of each check match (even)")
    parser.add_argument("--check-simulations", type=int, default=100, help="production's simulations a move")
    parser.add_argument("--anchors", default="rollout_mcts_200,rollout_mcts_1000")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args()
    from app.core.errors import InvalidConfig

    try:
        config = pipeline_config(args.config, args.overrides)
    except InvalidConfig as exc:
        parser.error(str(exc))
    with tempfile.TemporaryDirectory(prefix="zl-loop-") as tmp:
        run(args, config, args.home or Path(tmp))


def pipeline_config(config_key: str, overrides: list[str]):
    """The embedded defaults of ``config_key`` with each ``KEY=VALUE`` applied, as ``zeroloop run --set`` does."""
    from app.integration.run_settings import resolve

    return resolve(config_key, pairs=overrides).config


def run(args, config, home: Path) -> None:
    from app.core.config import Settings
    from app.games.registry import game_for_key
    from app.integration.pipeline import Pipeline
    from app.p2p.local_jobs import LocalJobs
    from app.registry import ModelLifecycle

    settings = Settings(home=home)
    game = game_for_key(args.config)
    anchors = [a for a in args.anchors.split(",") if a]
    from app.integration.pipeline_config import defaults_for

    defaults = defaults_for(args.config).model_dump()
    changed = {k: v for k, v in config.model_dump().items() if v != defaults[k]}
    print(
        f"strength over time on {args.config}, {args.minutes:g} min of loop; settings changed: {changed or 'none'}"
    )
    print(f"checks: production at {args.check_simulations} simulations, {args.check_games} games per anchor")
    stage_s: dict[str, float] = defaultdict(float)
    loop_s = check_s = 0.0
    checked: set[str] = set()
    cycle = 0
    with (
        LocalJobs(settings) as jobs,
        Pipeline(args.config, settings=settings, config=config, jobs=jobs) as pipeline,
    ):
        for number in range(1, args.max_cycles + 1):
            if loop_s >= args.minutes * 60:
                break
            cycle = number
            started = time.perf_counter()
            summary = pipeline.run(cycle)[-1].summary
            loop_s += time.perf_counter() - started
            for stage, seconds in summary["seconds"].items():
                stage_s[stage] += seconds or 0.0
            production = ModelLifecycle(settings).get_production(args.config)
            print(
                f"cycle {cycle}: {summary['candidate']} {summary['decision']}, loop {loop_s:.0f}s", flush=True
            )
            if production is None or production.model_id in checked:
                continue
            checked.add(production.model_id)
            started = time.perf_counter()
            scores = [
                match_score(
                    settings, game, production.model_id, anchor, args.check_games, args.check_simulations
                )
                for anchor in anchors
            ]
            check_s += time.perf_counter() - started
            print(point_line(loop_s, production.model_id, anchors, scores, stage_s), flush=True)
    job_s = sum(stage_s.values())
    print(f"\n{loop_s:.0f}s of loop over {cycle} cycles:")
    for stage in STAGES:
        print(f"  {stage:<10} {stage_s[stage]:7.1f}s  ({stage_s[stage] / max(loop_s, 1e-9):.0%} of the loop)")
    print(f"  {'overhead':<10} {loop_s - job_s:7.1f}s  (job start-up, promotion, bookkeeping)")
    print(f"  strength checks (not in the loop time): {check_s:.1f}s")


def point_line(
    loop_s: float, model_id: str, anchors: list[str], scores: list[tuple[float, int]], stage_s
) -> str:
    against = []
    for anchor, (score, games) in zip(anchors, scores, strict=True):
        low, high = wilson_interval(score, games)
        against.append(f"{anchor} {score:.1%} [{low:.0%}, {high:.0%}]")
    stages = ", ".join(f"{s} {stage_s[s]:.0f}s" for s in STAGES)
    return f"  t={loop_s:.0f}s {model_id}: " + "; ".join(against) + f" | stages so far: {stages}"


def wilson_interval(score: float, games: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval of a mean score (draws count half) over ``games`` games."""
    if games == 0:
        return 0.0, 1.0
    centre = (score + z * z / (2 * games)) / (1 + z * z / games)
    half = z * math.sqrt(score * (1 - score) / games + z * z / (4 * games * games)) / (1 + z * z / games)
    return max(0.0, centre - half), min(1.0, centre + half)


def match_score(
    settings, game, model_id: str, anchor: str, games: int, simulations: int
) -> tuple[float, int]:
    """(mean points of ``model_id`` against ``anchor``, games played): ``games // 2`` random two-move openings,
    each played twice with the colours swapped, drawn from a fixed seed."""
    import numpy as np

    from app.evaluation.arena import play_rotated, random_openings
    from app.evaluation.players import make_agent

    rng = np.random.default_rng(MATCH_SEED)
    lineup = [
        make_agent(model_id, game, settings, num_simulations=simulations),
        make_agent(anchor, game, settings, num_simulations=0),
    ]
    openings = random_openings(game, max(1, games // 2), num_moves=2, rng=rng)
    played = [g for group in play_rotated(game, lineup, openings, rng=rng) for g in group]
    points = []
    for g in played:
        seat = g.players.index(model_id)
        best, worst = max(g.returns), min(g.returns)
        points.append(0.5 if best == worst else float(g.returns[seat] == best))
    return float(np.mean(points)), len(points)


if __name__ == "__main__":
    main()
