"""Rules with floors, cool-downs and an undo; the loop's verdicts on its own changes, and the back-off of a rule
whose changes keep failing. Cycles are written as the pipeline writes them: training, then the promotion
decision that closes the cycle."""

import pytest

from app.integration.feedback import Action, FeedbackType, PipelineFeedback
from app.integration.feedback_thresholds import FeedbackThresholds

F = FeedbackType
KEY = "hex8_2p"


class Loop:
    """Writes cycles into the feedback history and follows up after each, as the pipeline does."""

    def __init__(self, fb: PipelineFeedback):
        self.fb, self.version = fb, 0

    def cycle(
        self,
        *,
        loss: float = 1.0,
        val_loss: float = 1.0,
        promoted: int = 1,
        elo_delta: float = 50.0,
        ci: float | None = None,
    ) -> None:
        """``ci``: the half-width of the gate's 95% Elo interval (None: the gate recorded none)."""
        self.version += 1
        model = f"{KEY}_v{self.version}"
        self.fb.record(F.TRAINING_COMPLETE, model, {"loss": loss, "val_loss": val_loss})
        interval = {} if ci is None else {"elo_ci_low": elo_delta - ci, "elo_ci_high": elo_delta + ci}
        self.fb.record(F.EVALUATION_RESULT, model, {"elo_delta": elo_delta, **interval})
        self.fb.record(F.PROMOTION_DECISION, model, {"promoted": promoted})
        self.fb.follow_up(KEY)

    def rules(self, **current) -> dict[str, object]:
        return {r.rule: r for r in self.fb.get_recommendations(KEY, current=current or None)}


def test_a_learning_rate_decay_stops_at_its_floor(fb):
    loop = Loop(fb)
    for _ in range(4):
        loop.cycle()
    decay = loop.rules()["loss_plateau"]
    assert decay.action is Action.DECAY_LEARNING_RATE
    assert decay.apply({"learning_rate": 3e-3})["learning_rate"] == pytest.approx(1.5e-3)
    assert decay.apply({"learning_rate": 3e-4})["learning_rate"] == pytest.approx(2e-4)  # the floor
    assert decay.apply({"learning_rate": 1e-4})["learning_rate"] == pytest.approx(1e-4)  # never pulled up
    # A knob already at the floor: the rule has nothing to offer.
    assert "loss_plateau" not in loop.rules(learning_rate=2e-4)
    assert "loss_plateau" in loop.rules(learning_rate=3e-3)


def test_a_rule_cools_down_for_whole_cycles_after_its_change(settings, fb):
    loop = Loop(fb)
    for _ in range(4):
        loop.cycle()
    fb.mark_applied(loop.rules()["loss_plateau"])
    for _ in range(4):  # a fresh plateau window, but only one cycle would be needed for it to be due
        loop.cycle(val_loss=0.9)
    assert "loss_plateau" in loop.rules()  # 4 cycles since the change >= 2
    cold = PipelineFeedback(settings, thresholds=fb.thresholds.model_copy(update={"cooldown_cycles": 5}))
    assert "loss_plateau" not in {r.rule for r in cold.get_recommendations(KEY)}
    [status] = [s for s in cold.rule_status(KEY) if s.rule == "loss_plateau"]
    assert status.cooldown_cycles_left == 1 and status.applied == 1


def test_stalled_promotions_with_a_decayed_learning_rate_raise_it_back(fb):
    loop = Loop(fb)
    for _ in range(4):
        loop.cycle()
    fb.mark_applied(loop.rules()["loss_plateau"])  # 3e-3 -> 1.5e-3
    for _ in range(3):
        loop.cycle(loss=0.8 - 0.1 * loop.version, promoted=0)
    rules = loop.rules(learning_rate=1.5e-3)
    assert "promotion_rejections" not in rules  # the undo answers the streak first
    undo = rules["lr_restore"]
    assert undo.action is Action.RAISE_LEARNING_RATE
    assert undo.apply({"learning_rate": 1.5e-3})["learning_rate"] == pytest.approx(3e-3)
    assert undo.apply({"learning_rate": 0.04})["learning_rate"] == pytest.approx(0.05)  # the ceiling
    fb.mark_applied(undo)
    # The decay is undone: a new streak is answered with more selfplay, and no second raise.
    for _ in range(3):
        loop.cycle(loss=0.5 - 0.05 * loop.version, promoted=0)
    rules = loop.rules()
    assert "lr_restore" not in rules and rules["promotion_rejections"].action is Action.INCREASE_SELFPLAY


def test_promotions_after_a_selfplay_growth_undo_it_once(fb):
    loop = Loop(fb)
    for _ in range(3):
        loop.cycle(loss=1.0 - 0.1 * loop.version, promoted=0)
    assert "selfplay_restore" not in loop.rules()  # nothing grown yet: nothing to undo
    grow = loop.rules()["promotion_rejections"]
    assert grow.apply({"selfplay_games": 160})["selfplay_games"] == 320
    fb.mark_applied(grow)
    for _ in range(2):
        loop.cycle(loss=0.5 - 0.05 * loop.version)
    assert "selfplay_restore" not in loop.rules()  # two promotions are not yet a streak
    loop.cycle(loss=0.3)
    undo = loop.rules()["selfplay_restore"]
    assert undo.action is Action.REDUCE_SELFPLAY
    assert undo.apply({"selfplay_games": 320})["selfplay_games"] == 160
    assert "3 promotions in a row" in undo.reason and "1 selfplay growth(s)" in undo.reason
    fb.mark_applied(undo)
    for _ in range(4):
        loop.cycle(loss=0.2)
    assert "selfplay_restore" not in loop.rules()  # the one growth is undone
    verdicts = {v.context["rule"]: v for v in fb.history(KEY, feedback_type=F.FOLLOW_UP)}
    assert verdicts["selfplay_restore"].metrics["improved"] == 1.0  # promotions held after the cut


def test_an_applied_change_gets_a_verdict_with_the_numbers(fb):
    loop = Loop(fb)
    for elo in (20, 30, 40, 50):
        loop.cycle(elo_delta=elo)
    fb.mark_applied(loop.rules()["loss_plateau"])
    assert fb.follow_up(KEY) == []  # no cycle ended since the change: nothing to judge yet
    loop.cycle(elo_delta=45)  # follows up on its own, as the pipeline does
    [verdict] = fb.history(KEY, feedback_type=F.FOLLOW_UP)
    assert verdict.context["rule"] == "loss_plateau" and verdict.context["metric"] == "elo_delta"
    # Against the gate Elo of the plateaued cycles the rule cited (35 on average), not only the last one's 50.
    assert verdict.metrics == {"improved": 1.0, "before": 35.0, "after": 45.0, "cycles": 1.0}
    assert fb.follow_up(KEY) == []  # recorded once
    [status] = [s for s in fb.rule_status(KEY) if s.rule == "loss_plateau"]
    assert (status.improved, status.failed, status.backed_off) == (1, 0, False)


@pytest.mark.parametrize(("after", "improved"), [(45.0, 0.0), (120.0, 1.0)])
def test_a_gain_within_the_gates_noise_did_not_help(settings, after, improved):
    fb = PipelineFeedback(settings, thresholds=FeedbackThresholds(followup_z=1))
    loop = Loop(fb)
    for elo in (20, 30, 40, 50):
        loop.cycle(elo_delta=elo, ci=60)  # 64-game gates: +-60 Elo, a standard error of 30.6
    fb.mark_applied(loop.rules()["loss_plateau"])
    loop.cycle(elo_delta=after, ci=60)
    [verdict] = fb.history(KEY, feedback_type=F.FOLLOW_UP)
    # The difference of the 4 cited gates' mean (35) and the next one's: sqrt(4 x 30.6^2 / 16 + 30.6^2) = 34.2.
    assert verdict.metrics["standard_error"] == pytest.approx(60 / 1.96 * (1.25**0.5), rel=1e-6)
    assert (verdict.metrics["before"], verdict.metrics["after"], verdict.metrics["improved"]) == (
        35,
        after,
        improved,
    )


def test_a_learning_rate_decay_is_judged_on_strength_not_on_the_loss_it_lowers_anyway(fb):
    loop = Loop(fb)
    for _ in range(4):
        loop.cycle(val_loss=1.2, elo_delta=60)
    fb.mark_applied(loop.rules()["loss_plateau"])
    loop.cycle(val_loss=1.0, elo_delta=25)  # the loss fell; the candidate gained less over production
    [verdict] = fb.history(KEY, feedback_type=F.FOLLOW_UP)
    assert (verdict.context["metric"], verdict.metrics["improved"]) == ("elo_delta", 0.0)
    assert (verdict.metrics["before"], verdict.metrics["after"]) == (60.0, 25.0)


def test_a_rule_whose_changes_keep_failing_is_backed_off_for_a_while(fb):
    loop = Loop(fb)
    for _ in range(4):
        loop.cycle()
    for elo in (40, 30):
        fb.mark_applied(loop.rules()["loss_plateau"])
        loop.cycle(elo_delta=elo)  # candidates gain less than before the change: did not help
        for _ in range(3):
            loop.cycle(elo_delta=elo)  # the rest of a fresh plateau window
    verdicts = fb.history(KEY, feedback_type=F.FOLLOW_UP)
    assert [(v.metrics["improved"], v.metrics["before"], v.metrics["after"]) for v in verdicts] == [
        (0.0, 50.0, 40.0),
        (0.0, 40.0, 30.0),
    ]
    [status] = [s for s in fb.rule_status(KEY) if s.rule == "loss_plateau"]
    assert status.backed_off and status.failed == 2 and status.backoff_cycles_left == 6 - 3
    assert "loss_plateau" not in loop.rules()  # the plateau is there, the rule is skipped
    for _ in range(3):
        loop.cycle(elo_delta=30)
    assert "loss_plateau" in loop.rules()  # its back-off is over


def test_limits_survive_strict_json_and_the_stored_copy(fb):
    import json

    loop = Loop(fb)
    for _ in range(4):
        loop.cycle()
    decay = loop.rules()["loss_plateau"]
    data = json.loads(json.dumps(decay.to_dict(), allow_nan=False))  # what the API answers
    assert data["limits"] == {"learning_rate": [2e-4, None]}
    fb.mark_applied(decay)
    stored = fb.mark_applied(decay.identity)  # found in the applied table, read back from JSON
    assert stored.limits == decay.limits
