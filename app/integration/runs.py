"""Runs (branches) of a config key: starting or resuming one, and what ``zeroloop runs`` and the dashboard show.

Every config key has the ``main`` run (from generation 0); ``zeroloop run KEY --run NAME --fork MODEL_ID`` starts
another from any registered model with a checkpoint, and ``--run NAME`` alone resumes it. A run's fork point is
fixed when it starts; the settings it ran with last are stored with it (``pipeline_runs``), so two runs' settings can
be compared. Ratings need nothing per run: one anchored fit over every game of the config key rates all its models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.core.config import Settings
from app.core.errors import InvalidConfig, RunNotFound
from app.core.names import MAIN_RUN, RUN_FORM, parse_config_key, parse_model_id, parse_run
from app.integration.pipeline_config import defaults_for
from app.integration.pipeline_state import PipelineState
from app.integration.run_settings import CYCLE, flatten
from app.registry import ModelLifecycle, ModelRecord, ModelStage
from app.storage.db import read_scope
from app.storage.models.pipeline import CycleRow, RunRow


def open_run(
    state: PipelineState, lifecycle: ModelLifecycle, fork: str | None, settings: dict[str, Any]
) -> str | None:
    """Start or resume ``state``'s run, recording ``settings``; returns its fork model (None: generation 0).

    Refused: a fork into main, a new run without a fork, a resumed run given another fork point, and a fork model
    that is not a registered model of the config key with a checkpoint.
    """
    run, key = state.run, state.config_key
    if run == MAIN_RUN and fork is not None:
        raise InvalidConfig(
            f"--fork {fork} needs a run of its own: the main run of {key} starts from generation 0\n"
            f"name one: --run NAME --fork {fork} (a run name is {RUN_FORM})"
        )
    stored = state.get_run()
    if stored is not None:
        if fork is not None and fork != stored.fork_model_id:
            raise InvalidConfig(
                f"run {run} of {key} was forked from {stored.fork_model_id}, not {fork}\n"
                f"resume it without --fork (zeroloop run {key} --run {run}), or fork into a new run name"
            )
        fork = stored.fork_model_id
    elif run != MAIN_RUN:
        if fork is None:
            names = ", ".join(r.run for r in list_runs(state.settings, key)) or "none yet"
            raise InvalidConfig(
                f"there is no run {run!r} of {key} yet (runs: {names})\n"
                f"start it from a registered model: zeroloop run {key} --run {run} --fork MODEL_ID"
            )
        check_fork(lifecycle, key, fork)
    state.save_run(fork_model_id=fork, settings=settings)
    return fork


def check_fork(lifecycle: ModelLifecycle, config_key: str, fork: str) -> ModelRecord:
    """The model a new run forks from: registered, of ``config_key``, with a checkpoint to train from."""
    try:
        parse_model_id(fork)
    except ValueError as exc:
        raise InvalidConfig(f"--fork {fork!r} is not a model id\n{exc}") from None
    model = lifecycle.get_model(fork)  # ModelNotFound lists the config key's models
    if model.config_key != config_key:
        raise InvalidConfig(
            f"--fork {fork} is a model of {model.config_key}, not {config_key}\nfork from a model of {config_key}"
        )
    if model.artifact_path is None:
        raise InvalidConfig(
            f"--fork {fork} has no checkpoint yet (stage {model.stage})\n"
            "fork from a model that finished training (zeroloop models list shows each one's checkpoint)"
        )
    return model


# -- reading ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    config_key: str
    run: str
    fork_model_id: str | None
    production: str | None
    models: int
    cycles: int
    cycles_done: int
    updated_at: datetime | None


@dataclass(frozen=True)
class RunDetail:
    summary: RunSummary
    settings: dict[str, Any]
    """Dotted key → value: what the run last ran with, its ``cycle.*`` as its latest cycle used them."""
    recorded: bool
    """False for a run started before runs were recorded: its fixed settings are shown as the defaults."""
    lineage: list[ModelRecord]
    """The run's newest model back through its parents to the fork point (included), newest first."""


def list_runs(settings: Settings, config_key: str) -> list[RunSummary]:
    """Every run of ``config_key`` with its production model, models and cycles; main first, then by start."""
    parse_config_key(config_key)
    with read_scope(settings) as s:
        rows = {r.run: r for r in s.scalars(select(RunRow).where(RunRow.config_key == config_key))}
        counts = s.execute(
            select(CycleRow.run, func.count(), func.count().filter(CycleRow.status == "done"))
            .where(CycleRow.config_key == config_key)
            .group_by(CycleRow.run)
        ).all()
    cycles = {run: (total, done) for run, total, done in counts}
    lifecycle = ModelLifecycle(settings)
    models: dict[str, list[ModelRecord]] = {}
    for m in lifecycle.list_models(config_key):
        models.setdefault(m.run, []).append(m)
    names = sorted(
        set(rows) | set(cycles) | set(models),
        key=lambda n: (n != MAIN_RUN, rows[n].created_at.timestamp() if n in rows else 0.0, n),
    )
    out = []
    for name in names:
        production = next(
            (m.model_id for m in models.get(name, []) if m.stage is ModelStage.PRODUCTION), None
        )
        total, done = cycles.get(name, (0, 0))
        row = rows.get(name)
        out.append(
            RunSummary(
                config_key,
                name,
                row.fork_model_id if row else None,
                production,
                len(models.get(name, [])),
                total,
                done,
                row.updated_at if row else None,
            )  # fmt: skip
        )
    return out


def run_summary(settings: Settings, config_key: str, run: str) -> RunSummary:
    parse_run(run)
    runs = list_runs(settings, config_key)
    for summary in runs:
        if summary.run == run:
            return summary
    raise RunNotFound(
        f"no run {run!r} of {config_key}; runs of {config_key}: {', '.join(r.run for r in runs) or 'none'}"
    )


def run_detail(settings: Settings, config_key: str, run: str) -> RunDetail:
    """One run: its summary, resolved settings and lineage back to its fork point."""
    summary = run_summary(settings, config_key, run)
    state = PipelineState(settings, config_key, run)
    stored = state.get_run()
    values = flatten(stored.settings if stored else defaults_for(config_key).model_dump(mode="json"))
    cycles = state.cycles()
    if cycles:
        values |= {f"{CYCLE}.{name}": value for name, value in cycles[-1].settings.items()}
    return RunDetail(summary, values, stored is not None, _lineage(settings, config_key, run))


def _lineage(settings: Settings, config_key: str, run: str) -> list[ModelRecord]:
    lifecycle = ModelLifecycle(settings)
    own = lifecycle.list_models(config_key, run=run)
    if not own:
        return []
    chain = []
    for model in lifecycle.lineage(own[-1].model_id):
        chain.append(model)
        if model.run != run:
            break  # the fork point
    return chain


@dataclass(frozen=True)
class SettingDiff:
    key: str
    a: Any
    b: Any


def diff_runs(settings: Settings, config_key: str, a: str, b: str) -> list[SettingDiff]:
    """The settings that differ between runs ``a`` and ``b`` of ``config_key`` (with the fork point first)."""
    left, right = run_detail(settings, config_key, a), run_detail(settings, config_key, b)
    out = []
    if left.summary.fork_model_id != right.summary.fork_model_id:
        out.append(SettingDiff("fork", left.summary.fork_model_id, right.summary.fork_model_id))
    for key in left.settings.keys() | right.settings.keys():
        if left.settings.get(key) != right.settings.get(key):
            out.append(SettingDiff(key, left.settings.get(key), right.settings.get(key)))
    order = list(left.settings)
    return sorted(out, key=lambda d: (d.key != "fork", order.index(d.key) if d.key in order else len(order)))
