"""``selfplay_jobs``: a cycle's selfplay split into jobs that run side by side, each with its share of the games,
its own seed and shards; merged into one selfplay result, and resumable part by part after a kill."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.config import get_settings
from app.integration import pipeline_stages
from app.integration.pipeline import Pipeline
from app.integration.pipeline_config import CycleSettings
from app.integration.pipeline_state import Cycle
from app.p2p.local_jobs import LocalJobs
from app.selfplay.config import SelfplayResult
from app.storage.db import session_scope
from app.storage.models.jobs import JobRow
from app.storage.models.pipeline import StepRow

from .test_pipeline import KEY, check_invariants, kill_at, tiny_config


def _fleet(parts: int = 2):
    return tiny_config().model_copy(update={"selfplay_jobs": parts})


def _cycle(number: int = 3) -> Cycle:
    return Cycle(
        config_key=KEY, run="main", cycle=number, status="running", settings={}, changes=[],
        candidate_model_id=f"{KEY}_v{number}", opponent="uniform_mcts_4", summary={}, error=None,
    )  # fmt: skip


def test_the_parts_share_the_games_and_each_has_its_own_seed_and_shard():
    config, settings = _fleet(3), CycleSettings(selfplay_games=10, num_simulations=4)
    parts = [
        pipeline_stages.selfplay_config(
            config, _cycle(), settings, board_type="hex5", num_players=2, part=k, parts=3
        )
        for k in (1, 2, 3)
    ]
    assert [p.games for p in parts] == [4, 3, 3]
    assert [p.shard_name for p in parts] == ["cycle0003", "cycle0003-part2", "cycle0003-part3"]
    assert len({p.seed for p in parts}) == 3
    # Part 1 is the unsplit selfplay's first games: same name and seed.
    whole = pipeline_stages.selfplay_config(config, _cycle(), settings, board_type="hex5", num_players=2)
    assert (parts[0].shard_name, parts[0].seed) == (whole.shard_name, whole.seed)
    # Never more parts than games.
    assert pipeline_stages.selfplay_parts(_fleet(16), CycleSettings(selfplay_games=8), lambda: 1) == 8


def test_selfplay_jobs_0_plays_one_job_per_slot_the_job_system_offers():
    games = CycleSettings(selfplay_games=8)
    assert pipeline_stages.selfplay_parts(_fleet(0), games, lambda: 3) == 3
    asynchronous = _fleet(0).model_copy(update={"mode": "async"})
    assert pipeline_stages.selfplay_parts(asynchronous, games, lambda: 3) == 2  # one slot is the other lane's
    assert pipeline_stages.selfplay_parts(_fleet(0), games, lambda: 0) == 1  # no node up yet: one job, queued
    assert pipeline_stages.selfplay_parts(_fleet(0), games, lambda: 64) == 8  # never more parts than games
    assert pipeline_stages.selfplay_parts(_fleet(2), games, lambda: 64) == 2  # a fixed number is kept


def _result(**changes) -> SelfplayResult:
    base = dict(
        config_key=KEY, model_id="uniform_mcts_4", shard_name="cycle0001", shard_path="/x/cycle0001.npz",
        shards=["cycle0001"], games=4, positions=40, reused=False, seconds=2.0, games_per_s=2.0,
        positions_per_s=20.0, mean_length=10.0, wins_by_seat=[3, 1], draws=0, resignations=1,
        false_resignations=0, resign_checks=1,
    )  # fmt: skip
    return SelfplayResult(**{**base, **changes})


def test_merged_results_add_up_over_the_longest_part():
    merged = SelfplayResult.merged(
        [
            _result(),
            _result(shard_name="cycle0001-part2", shards=["cycle0001-part2"], games=2, positions=30,
                    seconds=3.0, mean_length=15.0, wins_by_seat=[0, 2], reused=True),
        ]
    )  # fmt: skip
    assert (merged.games, merged.positions, merged.seconds) == (6, 70, 3.0)
    assert merged.shards == ["cycle0001", "cycle0001-part2"] and merged.shard_name == "cycle0001"
    assert merged.wins_by_seat == [3, 3] and merged.resignations == 2 and not merged.reused
    assert merged.games_per_s == pytest.approx(2.0) and merged.mean_length == pytest.approx(35 / 3)
    with pytest.raises(ValueError):
        SelfplayResult.merged([])


def _part_jobs(settings, cycle: int, parts: int) -> list[JobRow]:
    with session_scope(settings) as s:
        rows = s.scalars(
            select(StepRow).where(
                StepRow.config_key == KEY, StepRow.cycle == cycle, StepRow.step.like("selfplay:%")
            )
        ).all()
        assert sorted(r.step for r in rows) == [f"selfplay:{k}" for k in range(1, parts + 1)]
        jobs = [s.get(JobRow, r.job_id) for r in rows]
        for job in jobs:
            s.expunge(job)
        return jobs


@pytest.mark.slow
def test_two_selfplay_jobs_per_cycle_run_side_by_side_and_the_state_stays_consistent(settings):
    config = _fleet()
    with LocalJobs(settings, slots=config.job_slots) as jobs:
        cycles = Pipeline(KEY, settings=settings, config=config, jobs=jobs).run(2)
    assert [c.status for c in cycles] == ["done", "done"]
    check_invariants(settings, 2, parts=2)
    for cycle in cycles:
        first, second = _part_jobs(settings, cycle.cycle, 2)
        assert first.started_at < second.finished_at and second.started_at < first.finished_at  # overlapped
        assert cycle.summary["selfplay_games"] == 8  # 4 + 4: the cycle's games, not one part's
        assert first.result["positions"] + second.result["positions"] == cycle.summary["positions"]


@pytest.mark.slow
def test_selfplay_jobs_0_splits_a_cycle_over_the_slots_of_the_node(settings):
    config = _fleet(0)
    with LocalJobs(settings, slots=2) as jobs:
        assert jobs.slots() == 2
        (cycle,) = Pipeline(KEY, settings=settings, config=config, jobs=jobs).run(1)
    assert cycle.status == "done"
    check_invariants(settings, 1, parts=2)
    assert len(_part_jobs(settings, 1, 2)) == 2


@pytest.mark.slow
def test_a_kill_while_the_parts_play_then_a_rerun_finishes_consistently(settings, home):
    kill_at(settings, home, ((1, "selfplay:2"), (2, "selfplay:1")), "2", "sync", "2", signal_group=True)
    config = _fleet()
    with LocalJobs(get_settings(), slots=config.job_slots) as jobs:
        cycles = Pipeline(KEY, settings=get_settings(), config=config, jobs=jobs).run(2)
    assert [c.status for c in cycles] == ["done", "done"]
    check_invariants(settings, 2, parts=2)
