"""Strength over wall-clock time: the real loop for N minutes, production checked against fixed anchors.

    python bench/loop.py --minutes 10 [--config hex6_2p] [--check-games 100] [--check-simulations 100]
                         [--anchors rollout_mcts_200,rollout_mcts_1000] [--set KEY=VALUE ...] [--home DIR]

Runs the pipeline in a fresh data directory with the embedded defaults (``defaults_for``), changed by each ``--set``
(a PipelineConfig field, ``cycle.FIELD`` for the first cycle's settings; values are JSON, else text), e.g.
``--set solver=true --set full_search_fraction=0.25 --set cycle.num_simulations=64``; the feedback rules'
thresholds come from the environment (``ZEROLOOP_FEEDBACK_FOLLOWUP_Z=1``), and the report names those that differ
from their defaults. Cycles start until ``--minutes`` of loop time have passed. Every model that became production
(at ``--check-simulations`` a move) then plays a fixed match against each anchor: the same openings at every point
and in every run, colours alternating over each opening. Each point prints the loop's elapsed seconds when that
model was promoted, the model, its score against each anchor with a 95% Wilson interval and by seat (moving first
after the opening / second: a score that holds in one seat and not the other points to openings decided by the
colour, which no model can turn), the seconds spent in each stage so far, and the feedback loop's knobs
(``KNOBS``) in the cycle that trained it; each cycle's line names the gate's pairs by points and the knobs that
differ from the first cycle's. The checks run after the loop, so they never pause it
(``--set mode=async`` keeps selfplay running beside the other stages). The report ends with the CPU busy fraction
of the loop from /proc/stat (the whole machine: run it on a quiet one).

``--check-every S`` checks only the last production of each S seconds of loop time (and the final one).
``--defer-checks --home DIR`` runs the loop only and keeps its points in ``DIR/bench_points.json``; a later
``--checks-only --home DIR`` plays their checks and prints the report. Only the loop is timing-sensitive, so
several loops can run back to back on a quiet machine and their checks later, side by side with other work.

To compare two sets of settings at equal wall-clock and the same seeds, run it twice on a quiet machine, once
with each ``--set`` list; everything else (seeds, openings, anchors) is the same.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from app.cli._common import pairs_scoring
from app.integration.pipeline_config import CycleSettings

STAGES = ("selfplay", "training", "evaluation")
POINTS_FILE = "bench_points.json"
KNOBS = tuple(CycleSettings.model_fields)
"""The cycle settings the feedback loop tunes, shown beside strength so that its trajectory can be read off."""
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
    parser.add_argument(
        "--check-every", type=float, default=0.0, metavar="S", help="thin the checks to one per S s"
    )
    parser.add_argument("--defer-checks", action="store_true", help="run the loop only (needs --home)")
    parser.add_argument(
        "--checks-only", action="store_true", help="check a deferred run's points (needs --home)"
    )
    parser.add_argument(
        "--check-solver", action="store_true", help="production searches with the MCTS-solver in the checks"
    )
    args = parser.parse_args()
    if (args.defer_checks or args.checks_only) and args.home is None:
        parser.error("--defer-checks and --checks-only need --home DIR (where the run's points are kept)")
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


class _Budget(Exception):
    """The loop's wall-clock budget is spent (raised from the pipeline's event callback)."""


def thresholds_changed() -> dict[str, float]:
    """The feedback thresholds this process's environment sets away from their defaults."""
    from app.integration.feedback_thresholds import FeedbackThresholds

    fields = FeedbackThresholds.model_fields
    return {k: v for k, v in FeedbackThresholds().model_dump().items() if v != fields[k].default}


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def run(args, config, home: Path) -> None:
    from app.core.config import Settings
    from app.games.registry import game_for_key
    from app.integration.pipeline import Pipeline
    from app.integration.pipeline_config import defaults_for
    from app.p2p.local_jobs import LocalJobs
    from app.registry import ModelLifecycle

    settings = Settings(home=home)
    game = game_for_key(args.config)
    anchors = [a for a in args.anchors.split(",") if a]
    defaults = defaults_for(args.config).model_dump()
    changed = {k: v for k, v in config.model_dump().items() if v != defaults[k]}
    print(
        f"strength over time on {args.config}, {args.minutes:g} min of loop; settings changed: {changed or 'none'}"
    )
    thresholds = thresholds_changed()
    if not args.checks_only:
        print(f"feedback thresholds changed (ZEROLOOP_FEEDBACK_*): {thresholds or 'none'}")
    solver = " with the MCTS-solver" if args.check_solver else ""
    print(
        f"checks: production at {args.check_simulations} simulations{solver}, {args.check_games} games per anchor"
    )
    stage_s: dict[str, float] = defaultdict(float)
    # (loop s, new production, stage seconds so far, knobs of the cycle that trained it)
    points: list[tuple[float, str, dict[str, float], dict[str, float]]] = []
    first: dict[str, float] = {}
    lifecycle, started, cycles = ModelLifecycle(settings), time.perf_counter(), 0

    def cycle_knobs(number: int) -> dict[str, float]:
        cycle = pipeline.state.cycle(number)
        return {k: v for k, v in cycle.settings.items() if k in KNOBS} if cycle else {}

    made: dict[str, float] = defaultdict(
        float
    )  # positions played, samples trained, gate games, over the loop

    def on_event(event) -> None:
        nonlocal cycles
        if event.kind == "step_done" and event.step == "training":
            made["samples"] += event.data.get("samples_trained", 0)
        if event.kind != "cycle_done":
            return
        cycles, summary, loop_s = event.cycle, event.data, time.perf_counter() - started
        made["positions"] += summary["positions"]
        made["gate games"] += summary["gate_games"]
        for stage, seconds in summary["seconds"].items():
            stage_s[stage] += seconds or 0.0
        knobs = cycle_knobs(event.cycle)
        if not first:
            first.update(knobs)
        moved = " ".join(f"{k}={v:g}" for k, v in knobs.items() if v != first[k])
        pairs = summary.get("gate_pentanomial")
        print(
            f"cycle {event.cycle}: {summary['candidate']} {summary['decision']}, loop {loop_s:.0f}s"
            + (f", gate {pairs_scoring(pairs)}" if pairs else "")
            + (f" | {moved}" if moved else ""),
            flush=True,
        )
        production = lifecycle.get_production(args.config)
        if production is not None and production.model_id not in {p[1] for p in points}:
            trained_in = lifecycle.get_model(production.model_id).metadata.get("cycle", event.cycle)
            points.append((loop_s, production.model_id, dict(stage_s), cycle_knobs(trained_in)))
        if loop_s >= args.minutes * 60:
            raise _Budget

    if args.checks_only:
        saved = json.loads((home / POINTS_FILE).read_text())
        print(f"checks of the deferred run in {home}; settings changed: {saved['changed'] or 'none'}")
        print(f"feedback thresholds changed: {saved.get('thresholds') or 'none'}")
        check_and_report(args, settings, game, anchors, saved)
        return
    busy0, total0 = cpu_times()
    with LocalJobs(settings, slots=config.job_slots) as jobs:
        pipeline = Pipeline(args.config, settings=settings, config=config, jobs=jobs, on_event=on_event)
        with contextlib.suppress(_Budget):
            pipeline.run(args.max_cycles)
        loop_s = time.perf_counter() - started
        busy1, total1 = cpu_times()
    saved = {
        "changed": changed,
        "thresholds": thresholds,
        "points": points,
        "loop_s": loop_s,
        "cycles": cycles,
        "stage_s": dict(stage_s),
        "busy": (busy1 - busy0) / max(1, total1 - total0),
        "made": dict(made),
    }
    if args.defer_checks:
        (home / POINTS_FILE).write_text(json.dumps(saved))
        print(
            f"loop done in {loop_s:.0f}s; points kept in {home / POINTS_FILE} (--checks-only --home {home})"
        )
        return
    # The checks run after the loop, so that they never pause it (in mode=async selfplay would stop with it).
    check_and_report(args, settings, game, anchors, saved)


def check_and_report(args, settings, game, anchors: list[str], saved: dict) -> None:
    check_started = time.perf_counter()
    for at, model_id, stages, *knobs in thinned(saved["points"], args.check_every):
        scores = [
            match_score(
                settings, game, model_id, anchor, args.check_games, args.check_simulations, args.check_solver
            )
            for anchor in anchors
        ]
        print(point_line(at, model_id, anchors, scores, stages, knobs[0] if knobs else {}), flush=True)
    report(
        saved["loop_s"],
        saved["cycles"],
        defaultdict(float, saved["stage_s"]),
        saved["busy"],
        time.perf_counter() - check_started,
        saved.get("made", {}),
    )


def thinned(points: list, every: float) -> list:
    """The last point of each ``every``-second window of loop time, and always the last point (all if 0)."""
    if every <= 0 or not points:
        return list(points)
    kept = [
        p for p, nxt in zip(points, points[1:], strict=False) if int(p[0] // every) != int(nxt[0] // every)
    ]
    return kept + [points[-1]]


def report(
    loop_s: float, cycles: int, stage_s, busy: float, check_s: float, made: dict | None = None
) -> None:
    job_s = sum(stage_s.values())
    print(f"\n{loop_s:.0f}s of loop over {cycles} cycles; CPU busy {busy:.2f} of all cores (/proc/stat):")
    if made:
        rates = ", ".join(f"{what}/s {count / max(loop_s, 1e-9):.1f}" for what, count in made.items())
        print(f"  made over the loop's wall-clock: {rates}")
    for stage in STAGES:
        print(f"  {stage:<10} {stage_s[stage]:7.1f}s  ({stage_s[stage] / max(loop_s, 1e-9):.0%} of the loop)")
    print(
        f"  {'overhead':<10} {loop_s - job_s:7.1f}s  (job start-up, promotion, bookkeeping; < 0: stages overlapped)"
    )
    print(f"  strength checks (after the loop, not in its time): {check_s:.1f}s")


def point_line(
    loop_s: float,
    model_id: str,
    anchors: list[str],
    scores: list[tuple[float, int, list[float]]],
    stage_s,
    knobs,
) -> str:
    against = []
    for anchor, (score, games, by_seat) in zip(anchors, scores, strict=True):
        low, high = wilson_interval(score, games)
        seats = " / ".join(f"{s:.0%}" for s in by_seat)
        against.append(f"{anchor} {score:.1%} [{low:.0%}, {high:.0%}] (by seat {seats})")
    stages = ", ".join(f"{s} {stage_s[s]:.0f}s" for s in STAGES)
    line = f"  t={loop_s:.0f}s {model_id}: " + "; ".join(against) + f" | stages so far: {stages}"
    return line + (" | knobs: " + " ".join(f"{k}={v:g}" for k, v in knobs.items()) if knobs else "")


def wilson_interval(score: float, games: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval of a mean score (draws count half) over ``games`` games."""
    if games == 0:
        return 0.0, 1.0
    centre = (score + z * z / (2 * games)) / (1 + z * z / games)
    half = z * math.sqrt(score * (1 - score) / games + z * z / (4 * games * games)) / (1 + z * z / games)
    return max(0.0, centre - half), min(1.0, centre + half)


def check_match(
    settings, game, players: list[str], games: int, simulations: int, solver: bool = False
) -> list:
    """The check's games (``PlayedGame``, grouped by opening, in opening order): ``games // 2`` random two-move
    openings drawn from a fixed seed, each played once per seat rotation of ``players``. A model searches
    ``simulations`` a move (with the MCTS-solver if ``solver``); an anchor plays as named."""
    import numpy as np

    from app.evaluation.arena import play_rotated
    from app.evaluation.players import make_agent
    from app.games.base import random_openings

    rng = np.random.default_rng(MATCH_SEED)
    lineup = [make_agent(p, game, settings, num_simulations=simulations, solver=solver) for p in players]
    openings = random_openings(game, max(1, games // 2), num_moves=2, rng=rng)
    return play_rotated(game, lineup, openings, rng=rng)


def match_score(
    settings, game, model_id: str, anchor: str, games: int, simulations: int, solver: bool = False
) -> tuple[float, int, list[float]]:
    """(mean points of ``model_id`` against ``anchor`` over ``check_match``, games played, its mean points in
    each seat; seat 0 moves first after the opening)."""
    by_seat: dict[int, list[float]] = defaultdict(list)
    for group in check_match(settings, game, [model_id, anchor], games, simulations, solver):
        for g in group:
            by_seat[g.seat_of(0)].append(g.points())  # the model is lineup[0]
    points = [p for seated in by_seat.values() for p in seated]
    return sum(points) / len(points), len(points), [sum(v) / len(v) for _, v in sorted(by_seat.items())]


if __name__ == "__main__":
    main()
