"""Reading and writing pipeline runs, cycles and steps (the tables in ``app.storage.models.pipeline``), one run of
one config key at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.core.config import Settings
from app.core.names import MAIN_RUN
from app.storage.base import utcnow
from app.storage.db import session_scope
from app.storage.models.pipeline import CycleRow, RunRow, StepRow


@dataclass(frozen=True)
class Cycle:
    config_key: str
    cycle: int
    status: str
    settings: dict[str, Any]
    changes: list[dict[str, Any]]
    candidate_model_id: str
    opponent: str
    summary: dict[str, Any]
    error: str | None
    run: str = MAIN_RUN

    @property
    def rolled_back(self) -> bool:
        """Whether the cycle began with a rollback: the candidates before it belong to an abandoned line."""
        return any(c["action"] == "rollback" for c in self.changes)


@dataclass(frozen=True)
class Run:
    """A run of a config key: where it was forked from (None: generation 0) and the settings it last ran with."""

    config_key: str
    run: str
    fork_model_id: str | None
    settings: dict[str, Any]
    created_at: Any
    updated_at: Any


@dataclass(frozen=True)
class Step:
    cycle: int
    step: str
    status: str
    job_id: str | None
    attempts: int
    result: dict[str, Any]
    error: str | None


def _cycle(row: CycleRow) -> Cycle:
    return Cycle(
        row.config_key, row.cycle, row.status, dict(row.settings), list(row.changes), row.candidate_model_id,
        row.opponent, dict(row.summary), row.error, row.run,
    )  # fmt: skip


def _step(row: StepRow) -> Step:
    return Step(row.cycle, row.step, row.status, row.job_id, row.attempts, dict(row.result), row.error)


def _run(row: RunRow) -> Run:
    return Run(row.config_key, row.run, row.fork_model_id, dict(row.settings), row.created_at, row.updated_at)


class PipelineState:
    def __init__(self, settings: Settings, config_key: str, run: str = MAIN_RUN):
        self.settings = settings
        self.config_key = config_key
        self.run = run

    def cycles(self) -> list[Cycle]:
        with session_scope(self.settings) as s:
            rows = s.scalars(
                select(CycleRow)
                .where(CycleRow.config_key == self.config_key, CycleRow.run == self.run)
                .order_by(CycleRow.cycle)
            ).all()
            return [_cycle(r) for r in rows]

    def candidates_of_config(self) -> list[str]:
        """The candidate ids of every run's cycles of the config key (versions count across its runs)."""
        with session_scope(self.settings) as s:
            query = select(CycleRow.candidate_model_id).where(CycleRow.config_key == self.config_key)
            return list(s.scalars(query))

    def get_run(self) -> Run | None:
        with session_scope(self.settings) as s:
            row = self._run_row(s)
            return _run(row) if row is not None else None

    def save_run(self, *, fork_model_id: str | None, settings: dict[str, Any]) -> Run:
        """Create the run's row (its fork point is fixed then) or record the settings it runs with now."""
        now = utcnow()
        with session_scope(self.settings) as s:
            row = self._run_row(s)
            if row is None:
                row = RunRow(
                    config_key=self.config_key, run=self.run, fork_model_id=fork_model_id, settings=settings,
                    created_at=now, updated_at=now,
                )  # fmt: skip
                s.add(row)
            else:
                row.settings, row.updated_at = settings, now
            s.flush()
            return _run(row)

    def cycle(self, number: int) -> Cycle | None:
        with session_scope(self.settings) as s:
            row = self._cycle_row(s, number)
            return _cycle(row) if row is not None else None

    def create_cycle(
        self, number: int, *, settings: dict, changes: list, candidate_model_id: str, opponent: str
    ) -> Cycle:
        """Insert cycle ``number`` unless it exists (then return the stored one: its settings stay as chosen)."""
        now = utcnow()
        with session_scope(self.settings) as s:
            row = self._cycle_row(s, number)
            if row is None:
                row = CycleRow(
                    config_key=self.config_key, run=self.run, cycle=number, status="running", settings=settings,
                    changes=changes, candidate_model_id=candidate_model_id, opponent=opponent, summary={},
                    created_at=now, updated_at=now,
                )  # fmt: skip
                s.add(row)
                s.flush()
            return _cycle(row)

    def finish_cycle(
        self, number: int, *, status: str, summary: dict | None = None, error: str | None = None
    ):
        with session_scope(self.settings) as s:
            row = self._cycle_row(s, number)
            row.status = status
            if summary is not None:
                row.summary = summary
            row.error = error
            row.updated_at = utcnow()

    def step(self, number: int, step: str) -> Step | None:
        with session_scope(self.settings) as s:
            row = self._step_row(s, number, step)
            return _step(row) if row is not None else None

    def steps(self, number: int) -> dict[str, Step]:
        """Every step row of cycle ``number`` by name (a split selfplay's parts are ``selfplay:K``)."""
        with session_scope(self.settings) as s:
            rows = s.scalars(
                select(StepRow).where(
                    StepRow.config_key == self.config_key, StepRow.run == self.run, StepRow.cycle == number
                )
            ).all()
            return {row.step: _step(row) for row in rows}

    def steps_like(self, prefix: str) -> list[Step]:
        """Every step row of the run whose name starts with ``prefix``, in cycle and name order."""
        with session_scope(self.settings) as s:
            rows = s.scalars(
                select(StepRow)
                .where(
                    StepRow.config_key == self.config_key,
                    StepRow.run == self.run,
                    StepRow.step.startswith(prefix, autoescape=True),
                )
                .order_by(StepRow.cycle, StepRow.step)
            ).all()
            return [_step(row) for row in rows]

    def save_step(
        self,
        number: int,
        step: str,
        *,
        status: str,
        job_id: str | None = None,
        attempts: int | None = None,
        result: dict | None = None,
        error: str | None = None,
    ) -> None:
        with session_scope(self.settings) as s:
            row = self._step_row(s, number, step)
            if row is None:
                row = StepRow(
                    config_key=self.config_key, run=self.run, cycle=number, step=step, status=status, attempts=0, result={},
                    updated_at=utcnow(),
                )  # fmt: skip
                s.add(row)
            row.status = status
            row.job_id = job_id if job_id is not None else row.job_id
            row.attempts = attempts if attempts is not None else row.attempts
            row.result = result if result is not None else row.result
            row.error = error
            row.updated_at = utcnow()

    def _run_row(self, s) -> RunRow | None:
        return s.scalar(select(RunRow).where(RunRow.config_key == self.config_key, RunRow.run == self.run))

    def _cycle_row(self, s, number: int) -> CycleRow | None:
        return s.scalar(
            select(CycleRow).where(
                CycleRow.config_key == self.config_key, CycleRow.run == self.run, CycleRow.cycle == number
            )
        )

    def _step_row(self, s, number: int, step: str) -> StepRow | None:
        return s.scalar(
            select(StepRow).where(
                StepRow.config_key == self.config_key,
                StepRow.run == self.run,
                StepRow.cycle == number,
                StepRow.step == step,
            )
        )
