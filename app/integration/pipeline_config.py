"""What one pipeline cycle does (``CycleSettings``: the knobs the feedback loop tunes) and fixed choices
(``PipelineConfig``). Defaults suit a small board on a 2-core CPU; per-game defaults live in ``defaults_for``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.cores import usable_cores
from app.core.names import DEFAULT_ANCHORS, parse_config_key
from app.nn.config import checked_net_name
from app.registry.policy import PromotionPolicy

TuningRule = Literal[
    "overfitting",
    "promotion_rejections",
    "selfplay_restore",
    "lr_restore",
    "loss_plateau",
    "elo_plateau",
    "weak_win_rate",
    "lane_balance",
]
"""The feedback rules that tune a knob of the next cycle (the others react to incidents: rollback, pause, retry)."""


class CycleSettings(BaseModel):
    """The knobs of one cycle: the ones the feedback loop tunes (names match ``Recommendation.changes``).

    Each field's ``ge``/``le`` are both what a person may set and the range a recommendation may move it in, so a
    run of feedback cannot walk a setting into nonsense (zero games, a learning rate of 10).
    """

    model_config = ConfigDict(extra="forbid")

    selfplay_games: int = Field(default=160, ge=8, le=20_000, description="Selfplay games per cycle.")
    num_simulations: int = Field(
        default=48, ge=2, le=1600, description="MCTS simulations per move in selfplay and gating."
    )
    epochs: int = Field(default=3, ge=1, le=100, description="Training epochs over the replay window.")
    learning_rate: float = Field(default=3e-3, ge=1e-5, le=0.05, description="Peak AdamW learning rate.")
    batch_size: int = Field(default=128, ge=16, le=4096, description="Training batch size.")
    replay_window: int = Field(
        default=40_000, ge=1_000, le=5_000_000, description="Newest positions trained on."
    )
    # The compute of the two lanes in async modes, which lane_balance moves; 0 leaves it to the run's settings.
    selfplay_slots: int = Field(0, ge=0, le=256, description="Selfplay jobs; 0: as selfplay_jobs says.")
    trainer_cores: int = Field(0, ge=0, le=256, description="Trainer's threads; 0: as train_threads says.")

    @classmethod
    def bounds(cls) -> dict[str, tuple[float, float]]:
        """(low, high) of every knob, read from the fields."""
        out = {}
        for name, info in cls.model_fields.items():
            limits = {type(m).__name__: m for m in info.metadata}
            out[name] = (float(limits["Ge"].ge), float(limits["Le"].le))
        return out

    @classmethod
    def integer_parameters(cls) -> frozenset[str]:
        """The knobs counted in whole units (typed ``int``): a multiplied value is rounded."""
        return frozenset(name for name, info in cls.model_fields.items() if info.annotation in (int, "int"))

    def tuned(self, changes: dict[str, Any]) -> CycleSettings:
        """These settings with ``changes`` applied, each clamped to the field's bounds."""
        values, bounds, integers = self.model_dump(), self.bounds(), self.integer_parameters()
        for name, value in changes.items():
            if name not in values:
                continue
            low, high = bounds[name]
            value = min(max(value, low), high)
            values[name] = round(value) if name in integers else float(value)
        return CycleSettings(**values)


_GATE_TEST = ("max_games", "elo0", "elo1", "alpha", "beta")


class PipelineConfig(BaseModel):
    """Choices fixed for the whole run of a config key."""

    model_config = ConfigDict(extra="forbid")

    net: str = Field(
        default="cpu",
        description="Network of models trained from scratch: a preset ('cpu', 'gpu') or a size ('b6c48').",
    )
    _net_name = field_validator("net", mode="before")(checked_net_name)
    temperature_moves: int = Field(default=6, ge=0, description="Selfplay moves played at temperature 1.")
    gumbel: bool = Field(default=False, description="Selfplay with the Gumbel root (sequential halving).")
    solver: bool = Field(
        default=False, description="Selfplay with the MCTS-solver (proven wins and losses; two players)."
    )
    full_search_fraction: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Playout cap randomisation: share of selfplay moves with the full search (recorded).",
    )
    cheap_simulations: int = Field(
        default=16, ge=1, description="Simulations of the other, unrecorded selfplay moves."
    )
    selfplay_opening_moves: int = Field(
        default=0,
        ge=0,
        le=64,
        description=(
            "Uniformly random moves that start each selfplay game, neither searched nor recorded (the gate's "
            "openings are made the same way): without them a strong network's selfplay games repeat."
        ),
    )
    value_q_weight: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Selfplay value target: weight of the root search value vs the result.",
    )
    train_from: Literal["latest", "production"] = Field(
        default="latest",
        description=(
            "Parent of each candidate. latest: the previous cycle's candidate, accepted or not (AlphaGo Zero and "
            "Leela Zero train one network continuously; the gate only picks who plays selfplay); production: "
            "restart from the production model, discarding the training of rejected candidates."
        ),
    )
    trainer: Literal["per_candidate", "continuous"] = Field(
        default="per_candidate",
        description=(
            "per_candidate: each candidate's training warms up and decays its learning rate afresh (cosine) with "
            "fresh AdamW moments; continuous: one trainer across candidates, as KataGo's: each continues its "
            "parent's moments at a constant learning rate (the feedback loop may still decay it)."
        ),
    )
    selfplay_model: Literal["production", "latest"] = Field(
        default="production",
        description=(
            "Who plays selfplay. production: the production model when the cycle starts (the gate decides who "
            "plays); latest: the run's newest trained candidate, accepted or not (AlphaZero and KataGo: the "
            "gate then decides only which model is production)."
        ),
    )
    selfplay_switch: bool = Field(
        default=False,
        description=(
            "With selfplay_model=latest in an async mode: a cycle's selfplay switches, between shards "
            "(selfplay_shard_games), to the previous cycle's candidate once it is trained beside it. Off by "
            "default: measured (bench/loop.py --minutes 10, hex6, seed 0, mode=async selfplay_model=latest) it "
            "switched in 7 of 42 cycles and ended at 85% against rollout_mcts_1000, where 44 cycles without it "
            "ended at 97%."
        ),
    )
    feedback: bool = Field(
        default=True,
        description=(
            "Apply the feedback loop's recommendations between cycles. Off: every cycle keeps the first cycle's "
            "settings (events are still recorded, a PAUSE still stops the run): the baseline to compare against."
        ),
    )
    feedback_rules_off: list[TuningRule] = Field(
        default_factory=list,
        description=(
            "Tuning rules whose recommendations the loop does not apply (they are still recorded, as with "
            'feedback off), e.g. ["loss_plateau"]; the incident rules (rollback, pause, retry) always act.'
        ),
    )
    sample_reuse: float | None = Field(
        default=None,
        gt=0,
        le=64,
        description=(
            "Samples trained per new selfplay position (KataGo keeps it near 4-8; more risks overfitting): each "
            "cycle trains new positions x this, however fast selfplay was. None: `epochs` passes over the window."
        ),
    )
    mode: Literal["sync", "async", "gate_async", "continuous"] = Field(
        default="sync",
        description=(
            "sync: each cycle's selfplay, training and gate run one after another. async: the next cycle's "
            "selfplay runs beside this cycle's training and gate (two job slots; selfplay plays the production "
            "model of one cycle back, and feedback acts one cycle later). gate_async: the same, but the next "
            "selfplay starts once this cycle's candidate is trained, so it runs beside the gate only and the "
            "trainer has the machine to itself (give it train_threads). continuous: selfplay is a fleet of "
            "long-running jobs (one per selfplay slot) that write shards all along and pick up the newest "
            "selfplay_model between shards; a cycle's candidate is trained once the fleet has written the "
            "cycle's selfplay_games new games, on those and the window (sample_reuse per new position)."
        ),
    )
    continuous_job_shards: int = Field(
        default=16,
        ge=1,
        le=10_000,
        description=(
            "mode=continuous: shards a fleet job writes before it ends and the next one takes its slot (a job "
            "of a Ray executor sends its shards back when it ends; a local or node job indexes each as written)."
        ),
    )
    parallel_games: int = Field(default=64, ge=1, description="Selfplay games advanced together.")
    train_threads: int | None = Field(
        default=None,
        ge=0,
        le=256,
        description=(
            "torch CPU threads of the training job; 0: one per core of the machine it runs on (at most 4). None: 0 "
            "in mode=sync, where the trainer has the machine to itself, else 1 (selfplay needs the other cores)."
        ),
    )
    selfplay_jobs: int = Field(
        default=1,
        ge=0,
        le=256,
        description=(
            "Jobs a cycle's selfplay is split into, run side by side (each its own share of the games, seed and "
            "shards): on one machine one per core; on a cluster one per selfplay slot. 0: one per slot the job "
            "system offers when the cycle's selfplay starts (a node's slots, every node's on a shared registry; "
            "in async mode less the other lane's); in-process, one per core."
        ),
    )
    selfplay_shard_games: int | None = Field(
        default=64,
        ge=1,
        description=(
            "Selfplay writes a shard every this many games, so a selfplay job restarted after a crash or a stop "
            "resumes after them (bench/selfplay_shards.py: 0.99x the games/s of one shard at the end); None: one."
        ),
    )
    gate_max_games: int = Field(default=64, ge=2, description="Cap on gate games per evaluation.")
    gate_elo0: float = Field(default=0.0, description="SPRT H0 (Elo over production).")
    gate_elo1: float = Field(default=40.0, description="SPRT H1 (Elo over production).")
    gate_accept_significant: bool = Field(
        default=True,
        description=(
            "When the SPRT reaches the game cap undecided, promote anyway if the 95% Elo interval lies wholly "
            "above gate_elo0: the candidate is better, just not provably by gate_elo1."
        ),
    )
    gate_alpha: float = Field(default=0.1, gt=0, lt=1)
    gate_beta: float = Field(default=0.1, gt=0, lt=1)
    anchors: list[str] = Field(default_factory=lambda: list(DEFAULT_ANCHORS))
    anchors_games: int = Field(default=8, ge=0, description="Games of each candidate against each anchor.")
    staging_policy: PromotionPolicy | None = Field(
        default=None,
        description=(
            "What a candidate that passed the gate must show in STAGING before it enters PRODUCTION (checked "
            "against the gate's evidence plus rating_gain over production on the anchored scale). None: rated "
            "above production (min_rating_gain=0) when anchors are played, else no rule."
        ),
    )
    max_step_attempts: int = Field(
        default=3, ge=1, le=10, description="Tries of a failing step before stopping."
    )
    seed: int = Field(default=0, ge=0)
    cycle: CycleSettings = Field(default_factory=CycleSettings, description="Settings of the first cycle.")

    @property
    def staging(self) -> PromotionPolicy:
        """The STAGING policy in force: the one set, else the default the field describes."""
        if self.staging_policy is not None:
            return self.staging_policy
        if self.anchors and self.anchors_games > 0:
            return PromotionPolicy(min_rating_gain=0.0)
        return PromotionPolicy()

    @property
    def gate_test(self) -> dict[str, float]:
        """The gate's SPRT settings named as ``EvalConfig`` names them: ``gate_<name>`` here is ``<name>`` there."""
        return {name: getattr(self, f"gate_{name}") for name in _GATE_TEST}

    @property
    def job_slots(self) -> int:
        """Jobs an in-process node should run at once: the selfplay jobs (0: one per core), plus the other lane's
        in async mode."""
        return (self.selfplay_jobs or usable_cores()) + (1 if self.overlapped else 0)

    @property
    def trainer_threads(self) -> int:
        """``train_threads`` in force (see the field): every core in mode=sync unless set, else one."""
        if self.train_threads is not None:
            return self.train_threads
        return 0 if self.mode == "sync" else 1  # 0: every core (app.nn.configure_threads)

    @property
    def overlapped(self) -> bool:
        """Whether the next cycle's selfplay runs beside this cycle's later steps (its own lane and job slot)."""
        return self.mode != "sync"


def defaults_for(config_key: str) -> PipelineConfig:
    """The embedded defaults of a config key: what `zeroloop run KEY` uses without options."""
    key = parse_config_key(config_key)
    if key.num_players > 2:
        # Multi-player boards are larger and games longer: fewer, cheaper games keep a cycle short.
        return PipelineConfig(
            cycle=CycleSettings(selfplay_games=48, num_simulations=24, epochs=2),
            gate_max_games=2 * key.num_players * 6,
            anchors=list(DEFAULT_ANCHORS[:2]),
            anchors_games=2 * key.num_players,
        )
    # Each cycle trains 8 samples per new selfplay position (KataGo keeps 4-8) rather than 3 epochs over a window
    # that grows to 40k positions: bench/loop.py --minutes 10 on hex6, same seeds, 2 cores: 23 cycles instead of 15,
    # production at 80% / 55% against rollout_mcts_200 / 1000 at 605 s against 80% / 32.5% at 554 s.
    # Selfplay with the Gumbel root at 16 simulations (the gate: PUCT at 16) instead of PUCT at 48: same bench, one
    # session's arms, 100-game checks of the last production: 82% / 61% against rollout_mcts_200 / 1000 (26 cycles)
    # instead of 57% / 33% (19 cycles); the solver (49% / 14%) and playout caps (40% / 7%) lost (README).
    # Without loss_plateau's learning-rate decays (a selfplay loop's loss levels off because its data keeps changing;
    # the decays, and lr_restore undoing them, left the rate at 2e-4 to 7.5e-4 in most runs) and with the trainer on
    # every core: same bench, seeds 0/1/2, last production of each 10 minutes 90% / 85% / 76% against
    # rollout_mcts_1000 (35-40 cycles) instead of 70% / 45% / 57% (29-37 cycles); two threads with the rule on: 56% /
    # 71% / 24%; two selfplay jobs and two threads with it on: 41% / 52% / 49%.
    # A cycle's selfplay as one job per core and a peak learning rate of 6e-3: same bench and seeds, 90% / 85% / 76%
    # became 94% / 91% / 78% (40-46 cycles, CPU busy 0.81 instead of 0.68; ~6.5 min in: 77% / 87% / 52% instead of
    # 61% / 52% / 56%). Two selfplay jobs alone: 82% / 93% / 80%; with selfplay_model=latest as well: 86% / 77% / 78%.
    # Not taken: selfplay_opening_moves=2 over one hour (seed 0) kept selfplay varied (value loss 0.08, not 0.008)
    # and promoting until 51 minutes, but ended at 89% against rollout_mcts_10000 where the default ended at 88%;
    # with net="b6c32" as well, 61% at 14 minutes (83% with 4x32) and 89% at the end.
    # Selfplay as a fleet of long-running jobs beside the trainer and the gate (mode=continuous), not one cycle's
    # stages after another: same bench, one session's arms, last production vs rollout_mcts_1000 (~3 minutes in):
    # seed 1 99% (91%) where the synchronous loop reached 93% (11%), CPU busy 0.91 instead of 0.79; seed 0 98% (87%),
    # with selfplay_model=latest 98% (78%); async with latest 86% (12%), CPU busy 0.78.
    return PipelineConfig(
        mode="continuous",
        sample_reuse=8.0,
        gumbel=True,
        feedback_rules_off=["loss_plateau"],
        selfplay_jobs=0,
        cycle=CycleSettings(num_simulations=16, learning_rate=6e-3),
    )


SET = "set"
"""The ``action`` of a cycle change that a file or a flag made (the feedback loop's are ``Action`` values)."""


def apply_overrides(
    settings: CycleSettings, overrides: Mapping[str, tuple[Any, str]]
) -> tuple[CycleSettings, list[dict[str, Any]]]:
    """``settings`` with the given ``cycle.*`` values (name → (value, source)) on top, and one ``set`` change per
    source naming what it moved (``{"action": "set", "rule": "flag", "changes": {name: [before, after]}}``)."""
    before = settings.model_dump()
    by_source: dict[str, dict[str, list]] = {}
    for name, (value, source) in overrides.items():
        if before[name] != value:
            by_source.setdefault(source, {})[name] = [before[name], value]
    entries = []
    for source, diff in by_source.items():
        shown = ", ".join(f"cycle.{name}={after}" for name, (_, after) in diff.items())
        entries.append(
            {
                "identity": None,
                "action": SET,
                "rule": source,
                "reason": f"set by {source}: {shown}",
                "changes": diff,
            }
        )
    if entries:
        settings = settings.model_copy(update={name: value for name, (value, _) in overrides.items()})
    return settings, entries
