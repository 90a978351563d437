"""lane_balance: in an asynchronous loop, stage rates in (as the PROMOTION_DECISION that closes each cycle carries
them), a core moved between the selfplay lane and the training-and-gate lane out; its follow-up verdict."""

import pytest

from app.integration.feedback import Action, FeedbackType, PipelineFeedback
from app.integration.pipeline_config import CycleSettings

F = FeedbackType
KEY = "hex6_2p"


class Lanes:
    """Writes cycles with the stage rates the pipeline records, and follows up after each."""

    def __init__(self, fb: PipelineFeedback):
        self.fb, self.version = fb, 0

    def cycle(
        self, selfplay_s, training_s, evaluation_s, *, jobs=2, threads=1, slots_max=2, cores=2, overlapped=1.0,
        positions_per_s=400.0,
    ):  # fmt: skip
        self.version += 1
        model = f"{KEY}_v{self.version}"
        self.fb.record(F.TRAINING_COMPLETE, model, {"loss": 1.0 / self.version, "val_loss": 1.0})
        self.fb.record(F.EVALUATION_RESULT, model, {"elo_delta": 50.0})
        lanes = {
            "overlapped": overlapped,
            "selfplay_s": selfplay_s,
            "training_s": training_s,
            "evaluation_s": evaluation_s,
            "positions_per_s": positions_per_s,
            "samples_per_s": 3000.0,
            "gate_games_per_s": 1.5,
            "selfplay_jobs": float(jobs),
            "selfplay_slots_max": float(slots_max),
            "train_threads": float(threads),
            "cores": float(cores),
        }
        self.fb.record(F.PROMOTION_DECISION, model, {"promoted": 1.0, "elo_delta": 50.0, **lanes})
        self.fb.follow_up(KEY)

    def move(self):
        return {r.rule: r for r in self.fb.get_recommendations(KEY)}.get("lane_balance")


def test_selfplay_waited_for_by_the_trainer_and_gate_gives_up_a_job(fb):
    lanes = Lanes(fb)
    lanes.cycle(10, 20, 10, jobs=2, threads=1)
    assert lanes.move() is None  # one cycle is not yet a pattern
    lanes.cycle(12, 22, 9, jobs=2, threads=1)
    move = lanes.move()
    assert move.action is Action.MOVE_COMPUTE
    # On 2 cores the trainer keeps one thread: the freed core runs it alone (two threads beside selfplay wait).
    assert dict(move.changes) == {"selfplay_slots": 1, "trainer_cores": 1}
    assert "selfplay waited for training and the gate" in move.reason
    assert "0.33, 0.39" in move.reason  # the ratios the rule saw
    assert "3000 samples/s" in move.reason and "1.50 games/s" in move.reason  # the rates, for the reader
    assert "selfplay jobs 2 → 1" in move.reason and "trainer threads" not in move.reason.split("moves to")[-1]
    settings = CycleSettings().tuned(move.apply(CycleSettings().model_dump()))
    assert (settings.selfplay_slots, settings.trainer_cores) == (1, 1)


def test_where_the_cores_hold_every_job_the_trainer_takes_the_freed_core_as_a_thread(fb):
    lanes = Lanes(fb)
    for _ in range(2):
        lanes.cycle(10, 20, 10, jobs=7, threads=1, slots_max=7, cores=8)
    move = lanes.move()
    assert dict(move.changes) == {"selfplay_slots": 6, "trainer_cores": 2}
    assert "selfplay jobs 7 → 6, trainer threads 1 → 2" in move.reason


def test_training_and_gate_waiting_for_selfplay_move_a_core_to_selfplay_within_its_slots(fb):
    lanes = Lanes(fb)
    for _ in range(2):
        lanes.cycle(60, 20, 10, jobs=1, threads=2, slots_max=2)
    move = lanes.move()
    assert dict(move.changes) == {"selfplay_slots": 2, "trainer_cores": 1}
    assert "training and the gate waited for selfplay" in move.reason
    for _ in range(2):
        lanes.cycle(60, 20, 10, jobs=2, threads=1, slots_max=2)
    assert lanes.move() is None  # every slot already plays selfplay: nothing to move


def test_balanced_or_synchronous_cycles_move_nothing(fb):
    lanes = Lanes(fb)
    for _ in range(3):
        lanes.cycle(25, 15, 10)  # within x1.3 of each other
    assert lanes.move() is None
    for _ in range(3):
        lanes.cycle(10, 40, 10, overlapped=0.0)  # sync: the stages take turns, nobody waits beside
    assert lanes.move() is None


def test_a_move_is_followed_up_on_whether_cycles_got_cheaper_per_position(fb):
    lanes = Lanes(fb)
    for _ in range(2):
        lanes.cycle(10, 30, 10)  # 40 s of cycle for 10 s x 400 positions/s: 0.01 s per position
    fb.mark_applied(lanes.move())
    lanes.cycle(30, 25, 10)  # 35 s for 30 s x 400 = 12000 positions: cheaper
    [verdict] = fb.history(KEY, feedback_type=F.FOLLOW_UP)
    assert verdict.context["rule"] == "lane_balance" and verdict.metrics["improved"] == 1.0
    assert verdict.context["metric"] == "cycle seconds per selfplay position"
    assert verdict.metrics["before"] == pytest.approx(0.01)
    assert verdict.metrics["after"] == pytest.approx(35 / 12000)
    [status] = [s for s in fb.rule_status(KEY) if s.rule == "lane_balance"]
    assert (status.applied, status.improved, status.cooldown_cycles_left) == (1, 1, 1)


def test_lanes_that_come_nearer_while_the_cycle_gets_dearer_did_not_help(fb):
    lanes = Lanes(fb)
    for _ in range(2):
        lanes.cycle(10, 30, 10)  # ratio 0.25; 40 s for 4000 positions
    fb.mark_applied(lanes.move())
    lanes.cycle(20, 12, 10, positions_per_s=100.0)  # ratio 0.91, but 22 s for 2000 positions
    [verdict] = fb.history(KEY, feedback_type=F.FOLLOW_UP)
    assert verdict.metrics["improved"] == 0.0
    assert (verdict.metrics["before"], verdict.metrics["after"]) == (
        pytest.approx(0.01),
        pytest.approx(0.011),
    )


def test_a_cycles_lane_settings_reach_its_selfplay_split_and_its_trainer(settings):
    from app.integration import pipeline_stages as stages
    from app.integration.pipeline import Pipeline

    from .test_pipeline import tiny_config

    config = tiny_config().model_copy(update={"mode": "async", "selfplay_jobs": 0, "train_threads": 1})
    three_slots = lambda: 3  # noqa: E731
    assert stages.selfplay_parts(config, config.cycle, three_slots) == 2  # every slot but the other lane's
    moved = config.cycle.model_copy(update={"selfplay_slots": 1, "trainer_cores": 2})
    assert stages.selfplay_parts(config, moved, three_slots) == 1
    with Pipeline("hex5_2p", settings=settings, config=config, jobs=object()) as pipeline:
        cycle = pipeline._ensure_cycle(1)
    game = {"board_type": "hex5", "num_players": 2}
    selfplay = _selfplay_result()
    assert stages.training_config(config, cycle, moved, selfplay, parent="uniform", **game).num_threads == 2
    assert (
        stages.training_config(config, cycle, config.cycle, selfplay, parent="uniform", **game).num_threads
        == 1
    )


def _selfplay_result():
    from app.selfplay.config import SelfplayResult

    return SelfplayResult(
        config_key="hex5_2p", model_id="uniform", shard_name="cycle0001", shard_path="x", shards=[], games=8,
        positions=100, reused=False, seconds=2.0, games_per_s=4.0, positions_per_s=50.0, mean_length=12.5,
        wins_by_seat=[4, 4], draws=0, resignations=0, false_resignations=0, resign_checks=0,
    )  # fmt: skip
