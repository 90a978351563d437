"""The Pipeline: Selfplay → Training → Evaluation → Promotion → Production, with the feedback loop.

Every stage runs as a job through the ``JobClient`` the caller passes: ``LocalJobs`` (in-process, no server) or a
node (``P2PIntegration``) — the same code path either way. Cycle and step state lives in the database, and every
side effect after a job (registration, feedback, promotion) checks what is already done first, so killing the
process at any moment and running again continues from the last finished step: no step redone, no model
promoted twice, no shard lost.

A config key has runs: ``main`` (from generation 0) and branches, each forked once from a registered model
(``run=``, ``fork=``) and resumable like main. A run has its own cycles, candidates (``<config_key>_<run>_v<N>``),
shards (``<run>-cycle0001``, trained on alone) and production line; the fork model is the first cycle's selfplay
player, the first candidate's parent and the gate's opponent until the run promotes a model of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from app.core.config import Settings, get_settings
from app.core.errors import ModelNotFound
from app.core.jobs import JobClient
from app.core.names import MAIN_RUN, parse_config_key, parse_model_id, parse_run, uniform_player
from app.core.names import model_id as make_model_id
from app.integration import pipeline_stages as stages
from app.integration.feedback import PipelineFeedback
from app.integration.feedback_types import Action, Recommendation
from app.integration.manifest import write_manifest
from app.integration.pipeline_async import run_overlapped
from app.integration.pipeline_config import CycleSettings, PipelineConfig, apply_overrides, defaults_for
from app.integration.pipeline_continuous import ContinuousSelfplay
from app.integration.pipeline_effects import CycleEffects
from app.integration.pipeline_jobs import Halted, PipelineEvent, PipelineStopped, StepJobs
from app.integration.pipeline_state import Cycle, PipelineState
from app.integration.runs import open_run
from app.registry import ModelLifecycle
from app.selfplay.config import SelfplayResult

STEPS = ("selfplay", "training", "evaluation", "promotion")
__all__ = ["STEPS", "Halted", "Pipeline", "PipelineEvent", "PipelineStopped"]


class Pipeline(CycleEffects, StepJobs, ContinuousSelfplay):
    def __init__(
        self,
        config_key: str,
        *,
        settings: Settings | None = None,
        config: PipelineConfig | None = None,
        jobs: JobClient,
        on_event: Callable[[PipelineEvent], None] | None = None,
        poll_s: float = 0.25,
        overrides: Mapping[str, tuple[Any, str]] | None = None,
        run: str = MAIN_RUN,
        fork: str | None = None,
        replay: Mapping[int, Mapping[str, Any]] | None = None,
    ):
        # Imported here: the game kernels (numba) load when a pipeline is made, not when this module is imported.
        from app.games.registry import game_for_key

        game_for_key(config_key)  # an unknown game is an error before anything is stored
        self.config_key = config_key
        self.run_name, self.fork = parse_run(run), fork
        key = parse_config_key(config_key)
        self.board_type, self.num_players = key.board_type, key.num_players
        self.settings = settings or get_settings()
        self.config = config or defaults_for(config_key)
        self.lifecycle = ModelLifecycle(self.settings)
        self.feedback = PipelineFeedback(self.settings)
        self.state = PipelineState(self.settings, config_key, run)
        # cycle.* given by a file or flag (name → (value, source)): applied to the first cycle this run creates.
        self._overrides = dict(overrides or {})
        self._replay = dict(replay or {})  # cycle number → its settings as a manifest recorded them
        self.jobs = jobs  # the caller's: it opens and closes it (LocalJobs in-process, P2PIntegration a node)
        emit, lock = on_event or (lambda event: None), threading.Lock()

        def locked_emit(event: PipelineEvent) -> None:
            with lock:  # selfplay may report from its own thread (mode="async" or "gate_async")
                emit(event)

        self._emit = locked_emit
        self._halt = threading.Event()  # set to make a waiting step give up (the other lane failed)
        self.poll_s = poll_s

    def close(self) -> None:
        """Nothing of the pipeline's own to release: the job client is the caller's to close."""

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the loop ------------------------------------------------------------------------------------------

    def run(self, cycles: int, *, minutes: float | None = None) -> list[Cycle]:
        """Make sure cycles 1..``cycles`` are done, continuing whatever an earlier run left unfinished.

        ``minutes``: a wall-clock budget. Once it is spent no new cycle starts (the first of this call always
        does); the cycles under way finish, so nothing is lost, and a later call continues from there."""
        if cycles < 1:
            raise ValueError(f"cycles must be >= 1, got {cycles}")
        if minutes is not None and not minutes > 0:
            raise ValueError(f"minutes must be > 0 (a wall-clock budget), got {minutes}")
        self.fork = open_run(self.state, self.lifecycle, self.fork, self.config.model_dump(mode="json"))
        done = {c.cycle for c in self.state.cycles() if c.status == "done"}
        todo = [n for n in range(1, cycles + 1) if n not in done]
        budget = _Budget(minutes, first=todo[0] if todo else 0)
        try:
            if self.config.overlapped:
                run_overlapped(
                    self, todo, after_training=self.config.mode == "gate_async", may_start=budget.allows
                )
            else:
                for number in todo:
                    if not budget.allows(number):
                        break
                    self._finish_cycle(*self._start_cycle(number))
        finally:
            if self.config.mode == "continuous":
                self._stop_fleet()
        if budget.spent:
            self._emit(
                PipelineEvent("budget", 0, message=f"{minutes:g} minutes spent; run again to continue")
            )
        return self.state.cycles()

    def _start_cycle(self, number: int) -> tuple[Cycle, SelfplayResult]:
        """Create cycle ``number`` (its settings tuned by the feedback loop) and play its selfplay."""
        try:
            cycle = self._ensure_cycle(number)
            self._emit(
                PipelineEvent("cycle_start", number, data={"settings": cycle.settings, "cycle": cycle})
            )
            if self.config.mode == "continuous":
                selfplay = self._collect_step(cycle)
            else:
                selfplay = self._selfplay_step(cycle)
        except PipelineStopped as exc:
            self._stopped(number, exc)
            raise
        return cycle, selfplay

    def _stopped(self, number: int, exc: PipelineStopped) -> None:
        if self.state.cycle(number) is not None:
            self.state.finish_cycle(number, status="failed", error=str(exc))
        self._emit(PipelineEvent("stopped", number, message=str(exc)))

    @property
    def _game(self) -> dict[str, Any]:
        return {"board_type": self.board_type, "num_players": self.num_players}

    def _finish_cycle(
        self, cycle: Cycle, selfplay: SelfplayResult, on_trained: Callable[[], None] | None = None
    ) -> None:
        """Train the cycle's candidate, gate it against the production model of now, promote or retire it.
        ``on_trained`` is called once the candidate is trained (``gate_async`` starts the next selfplay then)."""
        number, game = cycle.cycle, self._game
        try:
            parent = self._parent(cycle)
            self._register_candidate(cycle, CycleSettings(**cycle.settings), parent)
            training = self._job_step(
                cycle,
                "training",
                lambda s: stages.training_config(self.config, cycle, s, selfplay, parent=parent, **game),
            )
            self._after_training(cycle, training)
            if on_trained is not None:
                on_trained()
            opponent = self._gate_opponent(cycle)
            evaluation = self._job_step(
                cycle,
                "evaluation",
                lambda s: stages.evaluation_config(self.config, cycle, s, opponent=opponent, **game),
            )
            self._after_evaluation(cycle, evaluation)
            lanes = stages.lane_metrics(
                self.config,
                CycleSettings(**cycle.settings),
                selfplay,
                training,
                evaluation,
                parts=self._selfplay_jobs_of(number),
                max_parts=stages.selfplay_slots_max(self.config, self.jobs.slots),
            )
            decision = self._promotion(cycle, evaluation, lanes)
        except PipelineStopped as exc:
            self._stopped(number, exc)
            raise
        summary = stages.cycle_summary(cycle, selfplay, training, evaluation, decision)
        self.state.finish_cycle(number, status="done", summary=summary)
        write_manifest(self.settings, self.config_key, self.run_name)
        self._emit(PipelineEvent("cycle_done", number, data=summary))

    # -- cycle setup and tuning ----------------------------------------------------------------------------

    def _ensure_cycle(self, number: int) -> Cycle:
        existing = self.state.cycle(number)
        if existing is not None:
            self._mark_applied(existing.changes)
            return existing
        previous = self.state.cycle(number - 1)
        settings = CycleSettings(**previous.settings) if previous else self.config.cycle
        if number in self._replay:
            settings, changes = CycleSettings(**self._replay[number]), []  # as recorded, not re-derived
        else:
            settings, changes = self._apply_recommendations(settings) if previous else (settings, [])
            settings, changes = self._apply_overrides(settings, changes)
        production = self.lifecycle.get_production(self.config_key, self.run_name)
        opponent = (
            production.model_id if production else self.fork or uniform_player(settings.num_simulations)
        )
        cycle = self.state.create_cycle(
            number,
            settings=settings.model_dump(),
            changes=changes,
            candidate_model_id=make_model_id(self.config_key, self._next_version(), self.run_name),
            opponent=opponent,
        )
        # Marked after the cycle row holds the changes: a crash in between re-marks them on resume instead of
        # applying them twice.
        self._mark_applied(cycle.changes)
        return cycle

    def _next_version(self) -> int:
        # Cycles count too: with selfplay running ahead, a cycle is created before the previous candidate is
        # registered. Every run's count: versions are unique per config key.
        versions = [m.version for m in self.lifecycle.list_models(config_key=self.config_key)]
        versions += [parse_model_id(c).version for c in self.state.candidates_of_config()]
        return max(versions, default=0) + 1

    def _gate_opponent(self, cycle: Cycle) -> str:
        """The production model when the gate starts (with selfplay running ahead, newer than the cycle's own
        opponent once the previous candidate was promoted); before any promotion, generation 0 (or the fork
        model)."""
        production = self.lifecycle.get_production(self.config_key, self.run_name)
        return production.model_id if production is not None else cycle.opponent

    def _apply_recommendations(self, settings: CycleSettings) -> tuple[CycleSettings, list[dict]]:
        changes: list[dict] = []
        # First the verdicts on what earlier cycles changed: a rule whose changes keep failing is backed off.
        self.feedback.follow_up(self.config_key)
        for rec in self.feedback.get_recommendations(self.config_key, current=settings.model_dump()):
            if rec.action is Action.PAUSE_CONFIG:
                raise PipelineStopped(f"the feedback loop paused {self.config_key}: {rec.reason}")
            if (
                rec.action is Action.RETRY
                or not self.config.feedback
                or rec.rule in self.config.feedback_rules_off
            ):
                continue  # a retry concerns the failed step; feedback off, or this rule off: settings kept
            if rec.action is Action.ROLLBACK:
                restored = self.lifecycle.rollback(self.config_key, reason=rec.reason, run=self.run_name)
                entry = _change(rec, {"rollback_to": restored.model_id})
            else:
                before = settings.model_dump()
                settings = settings.tuned(rec.apply(before))
                after = settings.model_dump()
                diff = {k: [before[k], after[k]] for k in rec.changes if k in after and before[k] != after[k]}
                if not diff:
                    continue
                entry = _change(rec, diff)
            changes.append(entry)
            self._emit(PipelineEvent("change", 0, message=f"{rec.action.value}: {rec.reason}", data=entry))
        return settings, changes

    def _apply_overrides(
        self, settings: CycleSettings, changes: list[dict]
    ) -> tuple[CycleSettings, list[dict]]:
        """The given ``cycle.*`` values on top of what the feedback loop chose; used up by the first cycle."""
        settings, entries = apply_overrides(settings, self._overrides)
        self._overrides = {}
        for entry in entries:
            self._emit(PipelineEvent("change", 0, message=entry["reason"], data=entry))
        return settings, [*changes, *entries]

    def _mark_applied(self, changes: list[dict]) -> None:
        pending = {r.identity: r for r in self.feedback.get_recommendations(self.config_key)}
        for entry in changes:
            rec = pending.get(entry["identity"])
            if rec is not None:
                self.feedback.mark_applied(rec)

    # -- stage configs -------------------------------------------------------------------------------------

    def _parent(self, cycle: Cycle) -> str:
        """The network the candidate is trained from (``UNIFORM``: fresh weights); see ``train_from``.

        After a rollback the trainer restarts from the restored production model: the line of candidates that
        led to the regression is abandoned.
        """
        player = stages.playing_model(cycle)
        if self.config.train_from == "production" or cycle.rolled_back:
            return player
        previous = self.state.cycle(cycle.cycle - 1)
        if previous is None or previous.status != "done":
            return player
        return self._trained(previous) or player

    def _selfplay_model(self, cycle: Cycle) -> str:
        """Who plays the cycle's selfplay (``selfplay_model``). latest: the newest candidate trained by now, of
        the cycle before or (selfplay running ahead) the one before that; never one from before a rollback."""
        player = stages.playing_model(cycle)
        if self.config.selfplay_model == "production":
            return player
        later = cycle
        for number in (cycle.cycle - 1, cycle.cycle - 2):
            earlier = self.state.cycle(number)
            if earlier is None or later.rolled_back:
                break
            trained = self._trained(earlier)
            if trained is not None:
                return trained
            later = earlier
        return player

    def _successor(self, cycle: Cycle, playing: str) -> str | None:
        """The model the cycle's selfplay switches to between shards once it is registered: with
        ``selfplay_model="latest"`` in an overlapped loop, the previous cycle's candidate while it is still
        training beside this selfplay (KataGo's selfplay picks up each new network between games). None
        otherwise, and after a rollback, which abandons the line that candidate continues."""
        config = self.config
        if not (config.selfplay_switch and config.selfplay_model == "latest" and config.overlapped):
            return None
        if cycle.rolled_back:
            return None
        previous = self.state.cycle(cycle.cycle - 1)
        if previous is None or previous.candidate_model_id == playing or self._trained(previous) is not None:
            return None
        return previous.candidate_model_id

    def _selfplay_jobs_of(self, number: int) -> int:
        """How many jobs cycle ``number``'s selfplay was split into (each part is a step ``selfplay:K``); in
        ``mode=continuous`` the fleet's size."""
        if self.config.mode == "continuous":
            cycle = self.state.cycle(number)
            return stages.fleet_size(self.config, CycleSettings(**cycle.settings), self.jobs.slots)
        return max(1, sum(1 for name in self.state.steps(number) if name.startswith("selfplay:")))

    def _trained(self, cycle: Cycle) -> str | None:
        """The cycle's candidate once it has a checkpoint (trained, promoted or not), else None."""
        try:
            model = self.lifecycle.get_model(cycle.candidate_model_id)
        except ModelNotFound:
            return None
        return model.model_id if model.artifact_path else None


class _Budget:
    """Whether a cycle may start: always the first of a call, later ones while ``minutes`` are not spent."""

    def __init__(self, minutes: float | None, *, first: int):
        self.deadline = None if minutes is None else time.monotonic() + minutes * 60
        self.first, self.spent = first, False

    def allows(self, number: int) -> bool:
        if number != self.first and self.deadline is not None and time.monotonic() >= self.deadline:
            self.spent = True
        return not self.spent


def _change(rec: Recommendation, diff: dict) -> dict:
    return {
        "identity": rec.identity,
        "action": rec.action.value,
        "rule": rec.rule,
        "reason": rec.reason,
        "changes": diff,
    }
