"""``mode="continuous"``: selfplay as a fleet of long-running jobs beside the trainer and the gate.

The fleet is one job per selfplay slot (``stages.fleet_size``). Each writes a shard every few games and asks before
each shard which model plays (``FollowRule``: the run's newest trained candidate, or its production model), so a
new network reaches selfplay within a shard rather than a cycle (KataGo's selfplay picks up each new network
between games). A job writes ``continuous_job_shards`` shards and ends; the next one takes its slot.

A cycle's selfplay step is no job: it waits until the fleet has indexed the cycle's ``selfplay_games`` games that
no cycle has taken yet, and takes all of them, up to ``BACKLOG_CYCLES`` cycles' worth (the newest). So with
``sample_reuse`` the trainer trains a fixed number of samples per new position it takes however fast selfplay is,
and waits whenever selfplay is behind.

State: each fleet job is a step row ``fleet:<launch>`` of the cycle that launched it (its job id, its slot and
the settings it plays with); a cycle's selfplay step lists the shards it took. After a kill anywhere the jobs are
still in the job table (a node's run on; an in-process node's are queued again and resume after their last
shard), and the shards taken are in the finished steps, so no shard is lost or given to two cycles. Selfplay
settings changed by the feedback loop, or a rollback, replace the fleet; the end of a run cancels it (the shard
being played is lost; the shards written wait for the next run).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidTransition
from app.core.names import UNIFORM, parse_model_id
from app.integration import pipeline_stages as stages
from app.integration.feedback_types import FeedbackType
from app.integration.pipeline_config import CycleSettings
from app.integration.pipeline_jobs import Halted, PipelineEvent, PipelineStopped, first_line
from app.integration.pipeline_state import Cycle, Step
from app.registry import newest_trained
from app.selfplay.config import FollowRule, SelfplayResult
from app.selfplay.stage import selfplay_result
from app.storage.shards import ShardRecord, ShardStore

if TYPE_CHECKING:
    from app.core.config import Settings
    from app.core.jobs import JobClient
    from app.integration.feedback import PipelineFeedback
    from app.integration.pipeline_config import PipelineConfig
    from app.integration.pipeline_state import PipelineState

FLEET = "fleet:"
"""Step-name prefix of a fleet job's row: ``fleet:0007`` is the run's seventh launch."""

COLLECT_POLL_S = 0.5
BACKLOG_CYCLES = 2
"""A cycle takes at most this many cycles' games, the newest: when selfplay runs ahead of the trainer (the
generation-0 player needs no network and plays hundreds of games a second), the older shards are skipped, so the
trainer stays on fresh data at its reuse ratio. Skipped shards stay in the replay window (their positions are
trained on, at less than the ratio); the step lists them, so no later cycle takes them."""
_UNSHARED = ("model_id", "shard_name", "seed", "follow")  # a launch's own: not what makes two fleets differ


@dataclass(frozen=True)
class _Launch:
    cycle: int
    number: int
    slot: int
    settings: dict[str, Any]
    job_id: str

    @property
    def step(self) -> str:
        return f"{FLEET}{self.number:04d}"


class ContinuousSelfplay:
    """The fleet side of ``Pipeline`` (a mixin over the attributes below)."""

    config_key: str
    run_name: str
    settings: Settings
    config: PipelineConfig
    feedback: PipelineFeedback
    state: PipelineState
    jobs: JobClient
    _emit: Callable[[PipelineEvent], None]
    _halt: threading.Event
    _game: dict[str, Any]
    _selfplay_model: Callable[[Cycle], str]

    def _collect_step(self, cycle: Cycle) -> SelfplayResult:
        """The cycle's selfplay: every fleet shard no earlier cycle took, once they hold ``selfplay_games``."""
        number = cycle.cycle
        row = self.state.step(number, "selfplay")
        if row is not None and row.status == "done":
            return SelfplayResult.model_validate(row.result)
        s = CycleSettings(**cycle.settings)
        self._emit(PipelineEvent("step_start", number, "selfplay"))
        pattern = re.compile(rf"^{re.escape(stages.shard_prefix(cycle))}fleet\d{{4}}(-\d{{3,}})?$")
        taken = self._taken_shards()
        store, started, shown = ShardStore(self.settings), time.monotonic(), None
        while True:
            launches = self._keep_fleet(cycle, s)
            ours = [
                r for r in reversed(store.records(self.config_key)) if pattern.match(r.name)
            ]  # oldest first
            fresh = [r for r in ours if r.name not in taken]
            games = sum(r.games for r in fresh)
            if games >= s.selfplay_games:
                break
            if self._halt.is_set():
                raise Halted(f"stopped waiting for the selfplay fleet in cycle {number}; its jobs run on")
            message = f"{games}/{s.selfplay_games} games from {len(launches)} selfplay job(s)"
            if message != shown:
                shown = message
                self._emit(PipelineEvent("progress", number, "selfplay", games / s.selfplay_games, message))
            time.sleep(COLLECT_POLL_S)
        seconds = _span(ours, fresh, time.monotonic() - started)
        written = sum(r.positions for r in fresh)
        fresh, skipped = _newest(fresh, BACKLOG_CYCLES * s.selfplay_games)
        seconds *= sum(r.positions for r in fresh) / max(1, written)  # the fleet's rate over what it wrote
        cfg = stages.selfplay_config(self.config, cycle, s, **self._game)  # the key and players it counts for
        result = selfplay_result(self.settings, cfg, fresh[0].name, fresh, seconds=seconds, reused=False)
        stored = {**result.model_dump(mode="json"), "skipped": [r.name for r in skipped]}
        self.state.save_step(number, "selfplay", status="done", result=stored)
        self._emit(PipelineEvent("step_done", number, "selfplay", 1.0, data=stored))
        return result

    def _taken_shards(self) -> set[str]:
        """The shards the run's cycles took (their finished selfplay steps)."""
        steps = [step for step in self.state.steps_like("selfplay") if step.step == "selfplay"]
        return {name for step in steps if step.status == "done"
                for name in (*step.result.get("shards", []), *step.result.get("skipped", []))}  # fmt: skip

    def _keep_fleet(self, cycle: Cycle, s: CycleSettings) -> list[_Launch]:
        """The fleet as the cycle wants it: ended jobs noted, jobs of other settings (or of the line a rollback
        abandoned) cancelled, and a job launched for every empty slot."""
        jobs = stages.fleet_size(self.config, s, self.jobs.slots)
        wanted = self._fleet_settings(cycle, s, jobs)
        keep = []
        for launch in self._live_launches(cycle):
            replaced = launch.settings != wanted or launch.slot >= jobs
            if replaced or (cycle.rolled_back and launch.cycle < cycle.cycle):
                self._end(launch, "replaced")
            else:
                keep.append(launch)
        for slot in sorted(set(range(jobs)) - {launch.slot for launch in keep}):
            keep.append(self._launch(cycle, s, slot, jobs, wanted))
        return keep

    def _live_launches(self, cycle: Cycle) -> list[_Launch]:
        """The launches whose jobs are queued or running; the ones that ended are marked so (a failure is
        recorded as feedback, and a fleet whose last launches all failed stops the pipeline)."""
        live = []
        for step in self.state.steps_like(FLEET):
            if step.status != "submitted":
                continue
            launch = _launch_of(step)
            job = self.jobs.status(launch.job_id)
            if not job.done:
                live.append(launch)
                continue
            failed = job.state == "failed"
            self.state.save_step(
                launch.cycle, launch.step, status="failed" if failed else "ended", error=job.error
            )
            if failed:
                self.feedback.record(
                    FeedbackType.PIPELINE_ERROR,
                    model_id=cycle.candidate_model_id,
                    metrics={"error": first_line(job.error), "attempt": launch.number},
                    context={"stage": "selfplay", "job_id": launch.job_id},
                )
        self._check_failures()
        return live

    def _check_failures(self) -> None:
        ended = [step for step in self.state.steps_like(FLEET) if step.status in ("failed", "ended")]
        ended.sort(key=lambda step: step.step)
        last = ended[-self.config.max_step_attempts :]
        if len(last) == self.config.max_step_attempts and all(step.status == "failed" for step in last):
            raise PipelineStopped(
                f"the last {len(last)} selfplay fleet jobs failed; last error: {first_line(last[-1].error)}"
            )

    def _launch(
        self, cycle: Cycle, s: CycleSettings, slot: int, jobs: int, wanted: dict[str, Any]
    ) -> _Launch:
        # The row is written before the job is submitted, so a launch number is never used twice: a crash in
        # between leaves a row without a job (its number skipped), never two jobs writing the same shards.
        number = 1 + max((_number(step) for step in self.state.steps_like(FLEET)), default=0)
        step = f"{FLEET}{number:04d}"
        self.state.save_step(cycle.cycle, step, status="launching", result={"slot": slot, "settings": wanted})
        model = self._selfplay_model(cycle)
        newest = newest_trained(self.settings, self.config_key, self.run_name)
        follow = FollowRule(
            model=self.config.selfplay_model,
            run=self.run_name,
            # The newest trained model now: candidates of a line a rollback abandoned are never picked up.
            after_version=parse_model_id(newest).version if newest else 0,
        )
        cfg = stages.fleet_job_config(
            self.config, cycle, s, **self._game, launch=number, jobs=jobs, model_id=model, follow=follow
        )
        job_id = self.jobs.submit("selfplay", stages.job_config(cfg))
        self.state.save_step(cycle.cycle, step, status="submitted", job_id=job_id, attempts=1)
        self._emit(
            PipelineEvent(
                "fleet", cycle.cycle, "selfplay", message=f"selfplay job {number} ({model}) started"
            )
        )
        return _Launch(cycle.cycle, number, slot, wanted, job_id)

    def _fleet_settings(self, cycle: Cycle, s: CycleSettings, jobs: int) -> dict[str, Any]:
        """What two fleets must share to be the same fleet: the jobs' selfplay settings and their number."""
        cfg = stages.fleet_job_config(
            self.config, cycle, s, **self._game, launch=0, jobs=jobs, model_id=UNIFORM,
            follow=FollowRule(model=self.config.selfplay_model),
        )  # fmt: skip
        played = {k: v for k, v in stages.job_config(cfg).items() if k not in _UNSHARED}
        return {**played, "jobs": jobs}

    def _stop_fleet(self) -> None:
        """Cancel the fleet's jobs (the end of a run): their written shards stay for the next run."""
        for step in self.state.steps_like(FLEET):
            if step.status in ("submitted", "launching"):
                launch = _launch_of(step) if step.job_id else None
                if launch is None:
                    self.state.save_step(step.cycle, step.step, status="lost")
                else:
                    self._end(launch, "stopped")

    def _end(self, launch: _Launch, status: str) -> None:
        with contextlib.suppress(InvalidTransition):  # it ended on its own meanwhile
            self.jobs.cancel(launch.job_id)
        self.state.save_step(launch.cycle, launch.step, status=status)


def _launch_of(step: Step) -> _Launch:
    return _Launch(
        step.cycle, _number(step), int(step.result["slot"]), dict(step.result["settings"]), str(step.job_id)
    )


def _number(step: Step) -> int:
    return int(step.step.removeprefix(FLEET))


def _newest(fresh: list[ShardRecord], most: int) -> tuple[list[ShardRecord], list[ShardRecord]]:
    """(taken, skipped): the newest of ``fresh`` (oldest first) while their games stay within ``most`` (at least
    the newest shard), and the older ones."""
    games, start = 0, len(fresh)
    while start > 0 and (start == len(fresh) or games + fresh[start - 1].games <= most):
        start -= 1
        games += fresh[start].games
    return fresh[start:], fresh[:start]


def _span(ours: list[ShardRecord], fresh: list[ShardRecord], waited: float) -> float:
    """Seconds the fleet took to write ``fresh``: since the newest shard an earlier cycle took (else as long as
    this step waited), so that positions/s is the fleet's rate over all its jobs."""
    earlier = [r.created_at for r in ours if r not in fresh]
    if not earlier:
        return max(waited, 1e-3)
    return max((fresh[-1].created_at - max(earlier)).total_seconds(), 1e-3)
