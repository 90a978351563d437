"""``zeroloop run``'s output into a pipe: one whole line per finished step and cycle, in the order they happen."""

import io

from rich.console import Console

from app.cli.run import _View
from app.integration.pipeline import PipelineEvent

CYCLE = {
    "cycle": 1, "candidate": "hex5_2p_v1", "train/loss": 1.23456, "val/loss": 1.3, "opponent": "uniform_mcts_8",
    "elo_delta": 40.0, "elo_ci": [10.0, 70.0], "elo": 300.0, "elo_ci_anchored": [250.0, 350.0],
    "ratings": [{"name": "rollout_mcts_50", "elo": 420.0}], "changes": [], "decision": "promoted",
    "gate_pentanomial": [1, 0, 6, 0, 9],
}  # fmt: skip


def _events():
    yield PipelineEvent("step_start", 1, "selfplay")
    yield PipelineEvent("progress", 1, "selfplay", 0.5, "20/40 games")
    yield PipelineEvent(
        "step_done", 1, "selfplay", 1.0, data={"games": 40, "positions": 900, "games_per_s": 2.5}
    )
    yield PipelineEvent("step_done", 1, "training", 1.0, data={"final": {"train/loss": 1.2, "val/loss": 1.3}})
    yield PipelineEvent("cycle_done", 1, data=CYCLE)
    yield PipelineEvent(
        "step_done", 2, "selfplay", 1.0, data={"games": 40, "positions": 880, "games_per_s": 2.4}
    )


def test_a_pipe_gets_whole_lines_in_order_and_no_progress_bars():
    buffer = io.StringIO()
    view = _View(Console(file=buffer, force_terminal=False, width=80))
    with view.progress:
        for event in _events():
            view.on_event(event)
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "  cycle 1 selfplay: 40 games, 900 positions, 2.5 games/s"
    assert lines[1] == "  cycle 1 training: loss 1.200, val 1.300"
    assert lines[2].startswith("cycle 1 hex5_2p_v1 | loss 1.235 train") and lines[2].endswith(
        "feedback applied: -"
    )
    assert "vs uniform_mcts_8 +40 [+10, +70], pairs scoring 0/0.5/1/1.5/2: 1/0/6/0/9 |" in lines[2]
    assert lines[3].startswith("  cycle 2 selfplay:") and len(lines) == 4
    assert "%" not in buffer.getvalue() and "━" not in buffer.getvalue()  # no bar drawn when it stops


def test_a_terminal_keeps_the_live_bars():
    buffer = io.StringIO()
    view = _View(Console(file=buffer, force_terminal=True, width=120))
    assert view.live and not view.progress.disable
