"""``Pipeline.run(cycles, minutes=...)`` and ``zeroloop run --minutes``: once the wall-clock budget is spent no new
cycle starts, the cycles under way finish (nothing half-done is left), and a later run continues from there."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.integration.pipeline import Pipeline
from app.integration.pipeline_state import PipelineState
from app.p2p.local_jobs import LocalJobs
from tests.cli.zl import run_cli

from .test_pipeline import KEY, check_invariants, tiny_config

TINY = [
    "cycle.selfplay_games=8", "cycle.num_simulations=4", "cycle.epochs=1", "cycle.batch_size=32",
    "cycle.replay_window=5000", "parallel_games=8", "gate_max_games=4", 'anchors=["random"]', "anchors_games=2",
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sync", "async", "gate_async"])
def test_a_spent_budget_starts_no_new_cycle_and_finishes_the_ones_under_way(settings, mode):
    config = tiny_config().model_copy(update={"mode": mode})
    events = []
    with LocalJobs(settings, slots=config.job_slots) as jobs:
        # A budget far shorter than one cycle: the first cycle of the call starts all the same, no other does.
        pipeline = Pipeline(KEY, settings=settings, config=config, jobs=jobs, on_event=events.append)
        cycles = pipeline.run(3, minutes=1e-6)
        assert [(c.cycle, c.status) for c in cycles] == [(1, "done")]
        assert [e.message for e in events if e.kind == "budget"] == [
            "1e-06 minutes spent; run again to continue"
        ]
        # The next call continues from there, and with time to spare runs to the end.
        assert [c.status for c in pipeline.run(3, minutes=60)] == ["done"] * 3
    check_invariants(settings, 3)


def test_a_budget_must_be_positive(settings, capsys, monkeypatch):
    pipeline = Pipeline(KEY, settings=settings, config=tiny_config(), jobs=object())
    with pytest.raises(ValueError, match="minutes must be > 0"):
        pipeline.run(2, minutes=0)
    result = run_cli(capsys, monkeypatch, "run", KEY, "--minutes", "-5")
    assert result.code == 2
    assert "--minutes must be a positive number of minutes, got -5" in " ".join(result.err.split())
    assert PipelineState(settings, KEY).cycles() == []  # refused before anything was stored


@pytest.mark.slow
def test_zeroloop_run_minutes_stops_starting_cycles_and_says_so(settings):
    args = ["run", KEY, "--cycles", "3", "--minutes", "0.000001", *[a for p in TINY for a in ("--set", p)]]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "3 cycles or 1e-06 minutes, whichever comes first" in said
    assert "time budget: 1e-06 minutes spent; run again to continue" in said
    assert [c.status for c in PipelineState(settings, KEY).cycles()] == ["done"]
