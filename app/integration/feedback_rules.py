"""The rules that turn recorded pipeline events into recommendations, and their thresholds.

Each rule looks at the events of one config key (oldest first) and returns zero or more ``Recommendation``s
citing the events it rests on. A rule only fires on *fresh* evidence: events newer than the newest event cited
by an applied recommendation of the same rule (``RuleInput.applied_through``), so an applied change gets time to
show its effect before the rule speaks again. Rules are pure functions of their input: same history, same
answer. The rules over pipeline errors live in ``feedback_error_rules``; ``RuleInput`` in ``feedback_rule_input``.

Metric names understood: ``loss``/``policy_loss``/``value_loss`` and ``val_loss``/``val_policy_loss``/
``val_value_loss`` (TRAINING_COMPLETE); ``elo_delta``, ``elo_ci_low``, ``elo_ci_high``, ``games``, ``llr``,
``win_rate`` or ``score`` with the opponent in the event's context (EVALUATION_RESULT); ``promoted`` 1/0
(PROMOTION_DECISION); ``oom`` 1 or an error text mentioning out-of-memory (PIPELINE_ERROR).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from app.integration.feedback_error_rules import pipeline_oom, pipeline_pause, pipeline_retry
from app.integration.feedback_rule_input import Rule, RuleInput, cite, trailing
from app.integration.feedback_thresholds import FeedbackThresholds
from app.integration.feedback_types import Action, FeedbackEvent, FeedbackType, Priority, Recommendation

F = FeedbackType
__all__ = ["RULES", "FeedbackThresholds", "RuleInput", "evaluate"]


# -- training -----------------------------------------------------------------------------------------------

_LOSS_PAIRS = (("loss", "val_loss"), ("policy_loss", "val_policy_loss"), ("value_loss", "val_value_loss"))


def train_loss(event: FeedbackEvent) -> float | None:
    """``loss``, else ``policy_loss + value_loss``, else None."""
    if "loss" in event.metrics:
        return event.metric("loss")
    if "policy_loss" in event.metrics and "value_loss" in event.metrics:
        return event.metric("policy_loss") + event.metric("value_loss")
    return None


def loss_plateau(inp: RuleInput, t: FeedbackThresholds) -> list[Recommendation]:
    """The last runs' training losses all stay within ``loss_plateau_tolerance`` of the first: flat."""
    runs = [e for e in inp.of_type(F.TRAINING_COMPLETE) if train_loss(e) is not None]
    window = runs[-t.loss_plateau_runs :]
    if len(window) < t.loss_plateau_runs or not inp.fresh(window[0]):
        return []
    losses = [train_loss(e) for e in window]
    first = losses[0]
    if first <= 0:
        return []
    spread = max(abs(loss - first) for loss in losses) / first
    if spread > t.loss_plateau_tolerance:
        return []
    listed = ", ".join(f"{loss:.4g} (#{e.id})" for loss, e in zip(losses, window, strict=True))
    reason = (
        f"training loss has plateaued over the last {len(window)} runs: {listed}, all within "
        f"{spread:.2%} of the first (tolerance {t.loss_plateau_tolerance:.2%})"
    )
    return inp.scale(
        Action.DECAY_LEARNING_RATE, Priority.MEDIUM, reason, window,
        learning_rate=(t.lr_decay_factor, t.lr_floor, math.inf),
    )  # fmt: skip


def overfitting(inp: RuleInput, t: FeedbackThresholds) -> list[Recommendation]:
    training = inp.of_type(F.TRAINING_COMPLETE)
    for train_name, val_name in _LOSS_PAIRS:
        runs = [e for e in training if train_name in e.metrics and val_name in e.metrics]
        window = runs[-t.overfit_runs :]
        if len(window) < t.overfit_runs or not inp.fresh(window[0]):
            continue
        train_first, train_last = window[0].metric(train_name), window[-1].metric(train_name)
        val_first, val_last = window[0].metric(val_name), window[-1].metric(val_name)
        if not (train_last < train_first and val_last > val_first * (1 + t.overfit_min_val_rise)):
            continue
        reason = (
            f"overfitting: {train_name} fell {cite(window, train_name)} while {val_name} rose "
            f"{cite(window, val_name)} (rise {val_last / val_first - 1:.1%} > {t.overfit_min_val_rise:.1%})"
        )
        return inp.scale(
            Action.REDUCE_OVERFITTING, Priority.HIGH, reason, window,
            epochs=(t.overfit_epochs_factor, t.epochs_floor, math.inf),
            replay_window=(t.overfit_replay_window_factor, 0, t.replay_window_ceiling),
        )  # fmt: skip
    return []


# -- evaluation ---------------------------------------------------------------------------------------------


def _with_ci(e: FeedbackEvent) -> str:
    text = f"{e.metric('elo_delta'):+.1f}"
    if "elo_ci_low" in e.metrics and "elo_ci_high" in e.metrics:
        text += f" [{e.metric('elo_ci_low'):+.1f}, {e.metric('elo_ci_high'):+.1f}]"
    if "games" in e.metrics:
        text += f" over {e.metric('games'):g} games"
    return f"{e.model_id or '?'} {text} (#{e.id})"


def elo_plateau(inp: RuleInput, t: FeedbackThresholds) -> list[Recommendation]:
    evals = [e for e in inp.of_type(F.EVALUATION_RESULT) if "elo_delta" in e.metrics]
    window = evals[-t.elo_plateau_evals :]
    if len(window) < t.elo_plateau_evals or not inp.fresh(window[0]):
        return []
    if any(e.metric("elo_delta") >= t.elo_plateau_max_gain for e in window):
        return []
    reason = (
        f"Elo has plateaued: the last {len(window)} evaluations gained less than "
        f"{t.elo_plateau_max_gain:g} Elo each: " + "; ".join(_with_ci(e) for e in window)
    )
    return inp.scale(
        Action.INCREASE_SELFPLAY, Priority.MEDIUM, reason, window,
        selfplay_games=(t.selfplay_growth, 0, t.selfplay_games_ceiling),
        num_simulations=(t.search_growth, 0, t.num_simulations_ceiling),
    )  # fmt: skip


def _score_name(e: FeedbackEvent) -> str:
    return "win_rate" if "win_rate" in e.metrics else "score"


def _win_rate(e: FeedbackEvent) -> float | None:
    name = _score_name(e)
    return e.metric(name) if name in e.metrics else None


def standard_error(e: FeedbackEvent, metric: str) -> float:
    """The standard error an evaluation's ``metric`` carries: a score's (binomial, over its ``games``) or an Elo
    difference's (from its 95% interval); 0 where the event does not say."""
    if metric in ("score", "win_rate") and e.metric("games"):
        p = min(max(e.metric(metric), 0.0), 1.0)
        return math.sqrt(p * (1 - p) / e.metric("games"))
    if metric == "elo_delta" and "elo_ci_low" in e.metrics and "elo_ci_high" in e.metrics:
        return max(e.metric("elo_ci_high") - e.metric("elo_ci_low"), 0.0) / (2 * 1.96)
    return 0.0


def weak_win_rate(inp: RuleInput, t: FeedbackThresholds) -> list[Recommendation]:
    """A score surely below ``min_win_rate`` (by ``weak_win_rate_z`` standard errors of its games) against an
    opponent: search more. A candidate level with production scores about 0.5 against it, half of the time below;
    without a margin the rule grows search after such gates (bench/loop.py --minutes 60, hex6, seed 0, continuous:
    from 54 to 400 simulations between minutes 12 and 52, on gate scores of 0.44-0.48 over 64 games, with no
    promotion after minute 17). The margin is 0 by default until a run at equal wall-clock shows it helps."""
    latest: dict[str, FeedbackEvent] = {}
    for e in inp.of_type(F.EVALUATION_RESULT):
        if "opponent" in e.context and _win_rate(e) is not None:
            latest[e.context["opponent"]] = e
    weak = [
        e
        for _, e in sorted(latest.items())
        if inp.fresh(e)
        and _win_rate(e) + t.weak_win_rate_z * standard_error(e, _score_name(e)) < t.min_win_rate
        and (e.metric("games") is None or e.metric("games") >= t.win_rate_min_games)
    ]
    if not weak:
        return []
    parts = []
    for e in weak:
        games = f" over {e.metric('games'):g} games" if "games" in e.metrics else ""
        parts.append(
            f"{e.model_id or '?'} scored {_win_rate(e):.2f}{games} against {e.context['opponent']} (#{e.id})"
        )
    reason = f"weak against an opponent (below {t.min_win_rate:.2f}): " + "; ".join(parts)
    return inp.scale(
        Action.INCREASE_SEARCH, Priority.LOW, reason, weak, model_id=weak[-1].model_id,
        num_simulations=(t.weak_search_growth, 0, t.num_simulations_ceiling),
    )  # fmt: skip


# -- promotion ----------------------------------------------------------------------------------------------


def _rejection_streak(inp: RuleInput, t: FeedbackThresholds) -> list[FeedbackEvent]:
    """The trailing rejections not yet answered by promotion_rejections or lr_restore (both act on a streak)."""
    through = max(inp.applied.get("promotion_rejections", 0), inp.applied.get("lr_restore", 0))
    decisions = inp.of_type(F.PROMOTION_DECISION)
    streak = [e for e in trailing(decisions, lambda e: e.metric("promoted") == 0) if e.id > through]
    return streak if len(streak) >= t.rejection_streak else []


def _decays_in_force(inp: RuleInput) -> int:
    """Learning-rate decays applied and not yet undone by lr_restore (each restore undoes one decay)."""
    return inp.history.count("loss_plateau") - inp.history.count("lr_restore")


def _listed(events: list[FeedbackEvent]) -> str:
    return ", ".join(f"{e.model_id or '?'} (#{e.id})" for e in events)


def lr_restore(inp: RuleInput, t: FeedbackThresholds) -> list[Recommendation]:
    """Promotions stall while the learning rate is decayed: undo one decay (the opposite of loss_plateau)."""
    streak = _rejection_streak(inp, t)
    decays = _decays_in_force(inp)
    if not streak or decays <= 0:
        return []
    reason = (
        f"{len(streak)} promotions rejected in a row ({_listed(streak)}) after {decays} learning-rate decay(s) still in "
        f"force: undo one (x{1 / t.lr_decay_factor:g}, at most {t.lr_ceiling:g})"
    )
    return inp.scale(
        Action.RAISE_LEARNING_RATE, Priority.HIGH, reason, streak,
        learning_rate=(1 / t.lr_decay_factor, 0, t.lr_ceiling),
    )  # fmt: skip


def promotion_rejections(inp: RuleInput, t: FeedbackThresholds) -> list[Recommendation]:
    streak = _rejection_streak(inp, t)
    if not streak or _decays_in_force(inp) > 0:
        return []  # with a decayed learning rate the streak is lr_restore's to answer first
    reason = (
        f"{len(streak)} promotions rejected in a row: {_listed(streak)}; candidates are not getting stronger"
    )
    return inp.scale(
        Action.INCREASE_SELFPLAY, Priority.HIGH, reason, streak,
        selfplay_games=(t.rejection_selfplay_factor, 0, t.selfplay_games_ceiling),
    )  # fmt: skip


def _growths_in_force(inp: RuleInput) -> int:
    """Selfplay growths by promotion_rejections applied and not yet undone by selfplay_restore."""
    return inp.history.count("promotion_rejections") - inp.history.count("selfplay_restore")


def selfplay_restore(inp: RuleInput, t: FeedbackThresholds) -> list[Recommendation]:
    """Promotions come again after selfplay was grown for a rejection streak: undo one growth (the opposite of
    promotion_rejections), so a stall once answered does not make every later cycle cost more."""
    if _growths_in_force(inp) <= 0:
        return []
    through = max(inp.applied.get("promotion_rejections", 0), inp.applied.get("selfplay_restore", 0))
    decisions = inp.of_type(F.PROMOTION_DECISION)
    streak = [e for e in trailing(decisions, lambda e: e.metric("promoted") == 1) if e.id > through]
    if len(streak) < t.rejection_streak:
        return []
    reason = (
        f"{len(streak)} promotions in a row ({_listed(streak)}) after {_growths_in_force(inp)} selfplay growth(s) for "
        f"rejections still in force: undo one (x{1 / t.rejection_selfplay_factor:g})"
    )
    return inp.scale(
        Action.REDUCE_SELFPLAY, Priority.MEDIUM, reason, streak,
        selfplay_games=(1 / t.rejection_selfplay_factor, 0, math.inf),
    )  # fmt: skip


# -- compute allocation -------------------------------------------------------------------------------------

_LANE_METRICS = (
    "selfplay_s",
    "training_s",
    "evaluation_s",
    "selfplay_jobs",
    "train_threads",
    "selfplay_slots_max",
)


def lane_ratio(e: FeedbackEvent) -> float | None:
    """An asynchronous cycle's selfplay seconds over its training and gate seconds (the two lanes run side by side,
    so the longer one is waited for); None for a synchronous cycle or one recorded without its rates."""
    if e.metric("overlapped") != 1 or any(name not in e.metrics for name in _LANE_METRICS):
        return None
    other, selfplay = e.metric("training_s") + e.metric("evaluation_s"), e.metric("selfplay_s")
    return selfplay / other if other > 0 and selfplay > 0 else None


def _lanes(e: FeedbackEvent) -> str:
    m = e.metric
    return (
        f"{e.model_id or '?'} (#{e.id}): selfplay {m('selfplay_s'):.0f} s on {m('selfplay_jobs'):g} job(s) at "
        f"{m('positions_per_s') or 0:.0f} positions/s, training {m('training_s'):.0f} s on "
        f"{m('train_threads'):g} thread(s) at {m('samples_per_s') or 0:.0f} samples/s, gate {m('evaluation_s'):.0f} s "
        f"at {m('gate_games_per_s') or 0:.2f} games/s"
    )


def lane_balance(inp: RuleInput, t: FeedbackThresholds) -> list[Recommendation]:
    """In an asynchronous loop selfplay runs beside training and the gate; when one lane keeps finishing first
    and waiting, a core moves to the other: one more selfplay job and one trainer thread less, or one selfplay job
    less. The trainer takes a second thread only where the cores hold every job and thread: beside busy selfplay,
    OpenMP's threads wait on each other (bench/loop.py --minutes 10 --set mode=async, hex6, seed 0, 2 cores: a move
    to one selfplay job and two trainer threads made 31 cycles and 68% against rollout_mcts_1000, where no move made
    36 and 86%); the freed core then runs the one-threaded trainer alone (same bench: 46 cycles and 92%)."""
    window = [e for e in inp.of_type(F.PROMOTION_DECISION) if lane_ratio(e) is not None]
    window = window[-t.lane_balance_cycles :]
    if len(window) < t.lane_balance_cycles or not inp.fresh(window[0]):
        return []
    ratios, last = [lane_ratio(e) for e in window], window[-1]
    jobs, threads = round(last.metric("selfplay_jobs")), round(last.metric("train_threads"))
    slack = 1 + t.lane_balance_tolerance
    if all(r > slack for r in ratios) and jobs < last.metric("selfplay_slots_max"):
        behind, waits = "selfplay", "training and the gate"
        changes = {"selfplay_slots": jobs + 1, "trainer_cores": max(1, threads - 1)}
    elif all(r < 1 / slack for r in ratios) and jobs > 1:
        behind, waits = "training and the gate", "selfplay"
        cores = round(last.metric("cores") or threads + 1)
        # One job fewer and one thread more must still fit the cores: jobs - 1 + threads + 1 <= cores.
        changes = {
            "selfplay_slots": jobs - 1,
            "trainer_cores": threads + 1 if jobs + threads <= cores else threads,
        }
    else:
        return []
    moved = ", ".join(
        f"{name} {before} → {after}"
        for name, before, after in (
            ("selfplay jobs", jobs, changes["selfplay_slots"]),
            ("trainer threads", threads, changes["trainer_cores"]),
        )
        if before != after
    )
    reason = (
        f"{waits} waited for {behind} in the last {len(window)} asynchronous cycles (selfplay / training + gate "
        f"seconds {', '.join(f'{r:.2f}' for r in ratios)}, beyond x{slack:g}): {'; '.join(map(_lanes, window))}. "
        f"A core moves to {behind}: {moved}"
    )
    return inp.recommend(Action.MOVE_COMPUTE, Priority.LOW, reason, window, changes=changes)


def production_regression(inp: RuleInput, t: FeedbackThresholds) -> list[Recommendation]:
    """The model of the latest accepted promotion, evaluated after it, lost Elo: roll back."""
    promotions = [e for e in inp.of_type(F.PROMOTION_DECISION) if e.metric("promoted") == 1]
    if not promotions or promotions[-1].model_id is None:
        return []
    promo = promotions[-1]
    evals = [
        e
        for e in inp.of_type(F.EVALUATION_RESULT)
        if e.id > promo.id and e.model_id == promo.model_id and "elo_delta" in e.metrics
    ]
    if not evals or not inp.fresh(evals[-1]):
        return []
    last = evals[-1]
    surely_worse = "elo_ci_high" not in last.metrics or last.metric("elo_ci_high") < 0
    if last.metric("elo_delta") > -t.regression_elo_drop or not surely_worse:
        return []
    reason = (
        f"production model {promo.model_id} (promoted #{promo.id}) regressed: {_with_ci(last)}, "
        f"a drop beyond {t.regression_elo_drop:g} Elo; roll back to the previous production model"
    )
    return inp.recommend(Action.ROLLBACK, Priority.CRITICAL, reason, [promo, last], model_id=promo.model_id)


# In this order, so recommendations of equal priority come out in a fixed order.
RULES: tuple[tuple[str, Rule], ...] = (
    ("production_regression", production_regression),
    ("pipeline_pause", pipeline_pause),
    ("pipeline_oom", pipeline_oom),
    ("pipeline_retry", pipeline_retry),
    ("overfitting", overfitting),
    ("lr_restore", lr_restore),
    ("promotion_rejections", promotion_rejections),
    ("selfplay_restore", selfplay_restore),
    ("loss_plateau", loss_plateau),
    ("elo_plateau", elo_plateau),
    ("weak_win_rate", weak_win_rate),
    ("lane_balance", lane_balance),
)
_RULE_ORDER = {name: i for i, (name, _) in enumerate(RULES)}


def evaluate(
    events_by_config: Mapping[str, Sequence[FeedbackEvent]],
    applied: Mapping[tuple[str, str], int],
    applied_identities: frozenset[str] | set[str],
    thresholds: FeedbackThresholds,
    *,
    history: Mapping[str, Sequence[str]] | None = None,
    silenced: Mapping[str, Mapping[str, str]] | None = None,
    current: Mapping[str, float] | None = None,
) -> list[Recommendation]:
    """Run every rule over every config key; most urgent first, ties in rule order, then config key.

    ``applied`` maps (config key, rule) to the newest event id an applied recommendation cited; ``history`` a
    config key to the rules of its applied recommendations, oldest first; ``silenced`` a config key to the
    rules skipped now (cooling down, backed off). With ``current`` (the settings the next cycle would use), a
    recommendation that could not move any of them (every knob already at the rule's floor or ceiling) is left
    out.
    """
    out: list[Recommendation] = []
    for key in sorted(events_by_config):
        per_rule = {rule: through for (k, rule), through in applied.items() if k == key}
        events = events_by_config[key]
        skipped = (silenced or {}).get(key, {})
        for name, rule in RULES:
            if name in skipped:
                continue
            inp = RuleInput(name, key, events, per_rule, tuple((history or {}).get(key, ())))
            for rec in rule(inp, thresholds):
                if rec.identity not in applied_identities and _moves(rec, current):
                    out.append(rec)
    out.sort(key=lambda r: (-r.priority, _RULE_ORDER[r.rule], r.config_key, r.identity))
    return out


def _moves(rec: Recommendation, current: Mapping[str, float] | None) -> bool:
    known = {k: v for k, v in (current or {}).items() if k in rec.changes}
    if not rec.changes or not known:
        return True
    after = rec.apply(known)
    return any(after[k] != known[k] for k in known)
