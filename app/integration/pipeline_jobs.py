"""How ``Pipeline`` runs a step as a job: submit it (or pick up the job an earlier run submitted), wait, retry as
the feedback loop recommends, and a split selfplay's parts side by side. A mixin: the pipeline owns the job
client, the state, the feedback loop and the events used here."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from app.core.errors import ZeroloopError
from app.integration import pipeline_stages as stages
from app.integration.feedback_types import Action, FeedbackType
from app.integration.pipeline_config import CycleSettings
from app.integration.pipeline_state import Cycle
from app.selfplay.config import SelfplayResult

if TYPE_CHECKING:
    from app.core.jobs import JobClient
    from app.integration.feedback import PipelineFeedback
    from app.integration.pipeline_config import PipelineConfig
    from app.integration.pipeline_state import PipelineState

MAX_RETRY_DELAY_S = 30.0


class PipelineStopped(ZeroloopError):
    """The pipeline stopped cleanly: a step kept failing, or the feedback loop paused the config key."""


class Halted(Exception):
    """A lane of an overlapped run gave up waiting because the other lane ended (not a failure of the cycle)."""


@dataclass(frozen=True)
class PipelineEvent:
    """What the pipeline reports while it runs (the CLI turns these into progress bars and tables)."""

    kind: (
        str  # cycle_start | step_start | progress | step_done | change | cycle_done | retry | stopped | fleet
    )
    cycle: int
    step: str | None = None
    fraction: float = 0.0
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class StepJobs:
    """The job side of ``Pipeline`` (a mixin over the attributes below)."""

    config_key: str
    config: PipelineConfig
    feedback: PipelineFeedback
    state: PipelineState
    jobs: JobClient
    poll_s: float
    _emit: Callable[[PipelineEvent], None]
    _halt: threading.Event
    _game: dict[str, Any]
    _selfplay_model: Callable[[Cycle], str]
    _successor: Callable[[Cycle, str], str | None]

    def _selfplay_step(self, cycle: Cycle) -> SelfplayResult:
        """The cycle's selfplay, split into ``selfplay_parts`` jobs run side by side (a thread waits on each).

        Each part is a step of its own in the database (``selfplay:K``), so a rerun picks up every part where it
        stopped; the merged result is the ``selfplay`` step, saved once all parts are done.
        """
        number = cycle.cycle
        row = self.state.step(number, "selfplay")
        if row is not None and row.status == "split":
            # As first chosen: the parts' games and seeds depend on the count; every part starts with one model.
            parts, model, successor = (
                int(row.result["parts"]),
                row.result.get("model"),
                row.result.get("successor"),
            )
        elif row is not None:
            parts, model, successor = 1, None, None  # done, or an unsplit job already submitted: as it is
        else:
            parts = stages.selfplay_parts(self.config, CycleSettings(**cycle.settings), self.jobs.slots)
            model = self._selfplay_model(cycle)
            successor = self._successor(cycle, model)
        players = {"model_id": model, "successor": successor}
        if parts == 1:
            return self._job_step(
                cycle,
                "selfplay",
                lambda s: stages.selfplay_config(self.config, cycle, s, **self._game, **players),
            )
        split = {"parts": parts, "model": model, **({"successor": successor} if successor else {})}
        self.state.save_step(number, "selfplay", status="split", result=split)
        fractions, lock = [0.0] * parts, threading.Lock()

        def progress(part: int, event: PipelineEvent) -> None:
            with lock:
                fractions[part - 1] = event.fraction
                fraction = sum(fractions) / parts
            self._emit(
                PipelineEvent("progress", number, "selfplay", fraction, f"{parts} jobs: {event.message}")
            )

        def play(part: int) -> SelfplayResult:
            return self._job_step(
                cycle,
                f"selfplay:{part}",
                lambda s: stages.selfplay_config(
                    self.config, cycle, s, **self._game, part=part, parts=parts, **players
                ),
                on_progress=lambda event: progress(part, event),
            )

        self._emit(PipelineEvent("step_start", number, "selfplay"))
        results = self._side_by_side([lambda part=part: play(part) for part in range(1, parts + 1)])
        merged = SelfplayResult.merged(results)
        stored = merged.model_dump(mode="json")
        self.state.save_step(number, "selfplay", status="done", result=stored)
        self._emit(PipelineEvent("step_done", number, "selfplay", 1.0, data=stored))
        return merged

    def _side_by_side(self, calls: list[Callable[[], Any]]) -> list[Any]:
        """Each call's result, the calls made in threads of their own. When one fails, the others stop waiting
        (their jobs run on, and a rerun picks them up) and its error is raised; so is an interrupt of this thread."""
        results: list[Any] = [None] * len(calls)
        errors: list[BaseException] = []

        def call(index: int) -> None:
            try:
                results[index] = calls[index]()
            except BaseException as exc:  # noqa: BLE001 - raised below, in the caller's thread
                errors.append(exc)

        threads = [threading.Thread(target=call, args=(i,), daemon=True) for i in range(len(calls))]
        for thread in threads:
            thread.start()
        halted_here = False
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
                    if errors and not self._halt.is_set():
                        self._halt.set()
                        halted_here = True
        except BaseException:
            self._halt.set()  # interrupted: the waiting threads give up, the process is ending
            raise
        if halted_here:
            self._halt.clear()
        if errors:
            raise next((e for e in errors if not isinstance(e, Halted)), errors[0])
        return results

    def _job_step(
        self,
        cycle: Cycle,
        step: str,
        make_config: Callable[[CycleSettings], BaseModel],
        on_progress: Callable[[PipelineEvent], None] | None = None,
    ) -> Any:
        """Run one stage as a job (or pick up the job an earlier run submitted); retry as recommended.

        ``step`` is the stage, or ``STAGE:K`` for part K of a split one: then its progress goes to ``on_progress``
        instead of being emitted, and its start and end are the caller's to report. Returns the stage's result
        model (``stages.STAGE_RESULTS[stage]``), validated from the job table.
        """
        number = cycle.cycle
        stage, part = step.partition(":")[::2]
        result_type = stages.STAGE_RESULTS[stage]
        emit = self._emit if not part else (lambda event: None)
        report = on_progress or emit
        row = self.state.step(number, step)
        if row is not None and row.status == "done":
            return result_type.model_validate(row.result)
        settings = CycleSettings(**cycle.settings)
        attempts = row.attempts if row else 0
        job_id = row.job_id if row is not None and row.status == "submitted" else None
        emit(PipelineEvent("step_start", number, stage))
        while True:
            if job_id is None:
                job_id = self.jobs.submit(stage, stages.job_config(make_config(settings)))
                attempts += 1
                self.state.save_step(number, step, status="submitted", job_id=job_id, attempts=attempts)
            job = self._wait(number, stage, job_id, report)
            state = _state(job)
            if state == "succeeded":
                result = result_type.model_validate(job.result or {})
                self.state.save_step(number, step, status="done", result=job.result)
                emit(PipelineEvent("step_done", number, stage, 1.0, data=dict(job.result)))
                return result
            error = job.error or f"job {job_id} was {state}"
            self.state.save_step(number, step, status="failed", attempts=attempts, error=error)
            self.feedback.record(
                FeedbackType.PIPELINE_ERROR,
                model_id=cycle.candidate_model_id,
                metrics={"error": first_line(error), "attempt": attempts},
                context={"stage": stage, "job_id": job_id},
            )
            delay, settings = self._retry_plan(settings)
            if attempts >= self.config.max_step_attempts:
                raise PipelineStopped(
                    f"{step} of cycle {number} failed {attempts} times; last error: {first_line(error)}"
                )
            self._emit(
                PipelineEvent("retry", number, stage, message=f"retry in {delay:.0f}s: {first_line(error)}")
            )
            time.sleep(delay)
            job_id = None

    def _retry_plan(self, settings: CycleSettings) -> tuple[float, CycleSettings]:
        """The feedback loop's advice after a failure: how long to wait, smaller batches on OOM, or stop."""
        delay = 0.0
        for rec in self.feedback.get_recommendations(self.config_key):
            if rec.action is Action.PAUSE_CONFIG:
                self.feedback.mark_applied(rec)
                raise PipelineStopped(f"the feedback loop paused {self.config_key}: {rec.reason}")
            if rec.action is Action.RETRY:
                delay = max(delay, float(rec.changes.get("retry_delay_s", 0.0)))
                self.feedback.mark_applied(rec)
            elif rec.action is Action.REDUCE_BATCH_SIZE:
                settings = settings.tuned(rec.apply(settings.model_dump()))
                self.feedback.mark_applied(rec)
        return min(delay, MAX_RETRY_DELAY_S), settings

    def _wait(self, number: int, step: str, job_id: str, report: Callable[[PipelineEvent], None]) -> Any:
        last = None
        while True:
            job = self.jobs.status(job_id)
            if job.done:
                return job
            if self._halt.is_set():
                raise Halted(f"stopped waiting for {step} job {job_id} of cycle {number}; the job runs on")
            progress = (round(job.progress, 3), job.message)
            if progress != last:
                last = progress
                report(PipelineEvent("progress", number, step, job.progress, job.message))
            time.sleep(self.poll_s)


def _state(job: Any) -> str:
    state = job.state
    return getattr(state, "value", state)


def first_line(text: str | None) -> str:
    """The line of an error that says what went wrong (its last), at most 300 characters."""
    lines = [line for line in str(text or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else str(text or "")[:300]
