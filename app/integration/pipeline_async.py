"""``mode="async"``: selfplay runs one cycle ahead, beside the training, gating and promotion of the cycle before.

Two lanes share the job client (give it two slots): a selfplay lane in a thread of its own creates cycle k and
plays its selfplay once cycle k-2 is done, while this thread finishes cycle k-1 — so every core has a job and
selfplay plays the production model of one cycle back (KataGo's selfplay is stale by minutes too). The feedback
loop acts with the same lag: cycle k's settings see the events of cycle k-2 and earlier. Each step is still a
job with its state in the database, so a kill anywhere resumes where it stopped, in either lane.

``mode="gate_async"`` starts cycle k's selfplay once cycle k-1's candidate is trained instead: selfplay runs beside
the gate and promotion only, and the training job has the machine to itself (``train_threads``).

``mode="continuous"`` uses the same two lanes, but a cycle's selfplay step there plays nothing: it takes the
shards the selfplay fleet wrote meanwhile (``pipeline_continuous``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.integration.pipeline import Pipeline

LOOKAHEAD = 1  # cycles selfplay may run ahead of the cycle being finished


class _SelfplayLane(threading.Thread):
    def __init__(
        self,
        pipeline: Pipeline,
        todo: list[int],
        *,
        after_training: bool = False,
        may_start: Callable[[int], bool] = lambda number: True,
    ):
        super().__init__(name=f"selfplay-lane-{pipeline.config_key}", daemon=True)
        self.pipeline, self.todo, self.may_start = pipeline, todo, may_start
        self.ended = False  # no further cycle will start (the run's time budget is spent)
        self.after_training = after_training  # gate_async: cycle k starts once cycle k-1 is trained
        self.finished: set[int] = (
            set()
        )  # cycles this run finished (the earlier ones are done in the database)
        self.trained: set[int] = set()  # cycles whose candidate this run trained
        self.results: dict[int, Any] = {}
        self.error: BaseException | None = None
        self.changed = threading.Condition()

    def run(self) -> None:
        try:
            for number in self.todo:
                self._wait_until(lambda n=number: self._may_start(n))
                if self.pipeline._halt.is_set():
                    return
                if not self.may_start(number):
                    with self.changed:
                        self.ended = True
                        self.changed.notify_all()
                    return
                cycle, selfplay = self.pipeline._start_cycle(number)
                with self.changed:
                    self.results[number] = (cycle, selfplay)
                    self.changed.notify_all()
        except BaseException as exc:  # noqa: BLE001 - handed to the finishing lane, which raises it
            with self.changed:
                self.error = exc
                self.changed.notify_all()

    def _may_start(self, number: int) -> bool:
        if self.after_training:
            earlier = number - 1
            return earlier < self.todo[0] or earlier in self.trained  # a finished cycle was trained first
        earlier = number - 1 - LOOKAHEAD
        return earlier < 1 or earlier in self.finished or earlier < self.todo[0]

    def _wait_until(self, ready) -> None:
        with self.changed:
            while not ready() and not self.pipeline._halt.is_set():
                self.changed.wait(0.5)

    def cycle_done(self, number: int) -> None:
        self._note(self.finished, number)

    def cycle_trained(self, number: int) -> None:
        self._note(self.trained, number)

    def _note(self, cycles: set[int], number: int) -> None:
        with self.changed:
            cycles.add(number)
            self.changed.notify_all()

    def started(self, number: int) -> tuple[Any, Any] | None:
        """The cycle and its selfplay result once the lane has them; None if the lane ended without starting it;
        the lane's error if it failed first."""
        with self.changed:
            while number not in self.results and self.error is None and not self.ended:
                self.changed.wait(0.5)
            if number in self.results:
                return self.results[number]
            if self.error is not None:
                raise self.error
            return None


def run_overlapped(
    pipeline: Pipeline,
    todo: list[int],
    *,
    after_training: bool = False,
    may_start: Callable[[int], bool] = lambda number: True,
) -> None:
    """Finish the cycles in ``todo`` (ascending) with selfplay one cycle ahead in its own thread; with
    ``after_training`` a cycle's selfplay waits for the previous candidate to be trained (``gate_async``).
    ``may_start(number)`` is asked before each cycle starts: once it says no, the cycles started are finished."""
    if not todo:
        return
    lane = _SelfplayLane(pipeline, todo, after_training=after_training, may_start=may_start)
    lane.start()
    try:
        for number in todo:
            started = lane.started(number)
            if started is None:
                break
            pipeline._finish_cycle(*started, on_trained=lambda n=number: lane.cycle_trained(n))
            lane.cycle_done(number)
    finally:
        pipeline._halt.set()  # a selfplay still waiting for its job gives up; the job itself is handed back
        lane.join()
        pipeline._halt.clear()
