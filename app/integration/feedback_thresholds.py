"""Every threshold, step size, floor, ceiling and cool-down of the feedback loop, in one settings object."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FeedbackThresholds(BaseSettings):
    """Every threshold and step size of the feedback rules (environment: ``ZEROLOOP_FEEDBACK_<NAME>``)."""

    model_config = SettingsConfigDict(env_prefix="ZEROLOOP_FEEDBACK_", extra="forbid", frozen=True)

    loss_plateau_runs: int = Field(default=4, ge=2, description="Training runs in the loss-plateau window.")
    loss_plateau_tolerance: float = Field(
        default=0.02,
        ge=0,
        description="Losses of the window all within this fraction of the first: a plateau.",
    )
    lr_decay_factor: float = Field(
        default=0.5, gt=0, lt=1, description="Learning-rate multiplier on a plateau."
    )
    overfit_runs: int = Field(default=3, ge=2, description="Training runs in the overfitting window.")
    overfit_min_val_rise: float = Field(
        default=0.02,
        ge=0,
        description="Relative validation-loss rise (with falling train loss) that is overfitting.",
    )
    overfit_epochs_factor: float = Field(
        default=0.5, gt=0, lt=1, description="Epochs multiplier on overfitting."
    )
    overfit_replay_window_factor: float = Field(
        default=1.5, gt=1, description="Replay-window multiplier on overfitting."
    )
    elo_plateau_evals: int = Field(default=3, ge=2, description="Evaluations in the Elo-plateau window.")
    elo_plateau_max_gain: float = Field(
        default=10.0, description="An evaluation gaining less Elo than this shows no progress."
    )
    selfplay_growth: float = Field(
        default=1.5, gt=1, description="Selfplay-games multiplier on an Elo plateau."
    )
    search_growth: float = Field(default=1.25, gt=1, description="Simulations multiplier on an Elo plateau.")
    min_win_rate: float = Field(
        default=0.5, ge=0, le=1, description="A win rate (or score) below this against an opponent is weak."
    )
    win_rate_min_games: int = Field(
        default=20, ge=1, description="Fewer games than this are too noisy to judge."
    )
    # weak_win_rate_z=1 with followup_z=1 lost at equal wall-clock (bench/loop.py --minutes 60, hex6, seed 0: 16
    # promotions up to minute 53 but 84% against rollout_mcts_10000 at the end, where 0 and 0 reached 91%), so
    # both stay 0.
    weak_win_rate_z: float = Field(
        default=0.0,
        ge=0,
        description="A score is weak only this many standard errors (of its games) below min_win_rate.",
    )
    weak_search_growth: float = Field(
        default=1.5, gt=1, description="Simulations multiplier on a weak matchup."
    )
    rejection_streak: int = Field(
        default=3, ge=1, description="Consecutive promotion rejections that need action."
    )
    rejection_selfplay_factor: float = Field(
        default=2.0, gt=1, description="Selfplay-games multiplier after repeated rejections."
    )
    regression_elo_drop: float = Field(
        default=30.0,
        gt=0,
        description="Production losing this much Elo (and surely negative) is a regression.",
    )
    retry_base_delay_s: float = Field(default=30.0, gt=0, description="Backoff before the first retry.")
    retry_max_delay_s: float = Field(default=3600.0, gt=0, description="Backoff never exceeds this.")
    oom_batch_factor: float = Field(
        default=0.5, gt=0, lt=1, description="Batch-size multiplier after an OOM."
    )
    pause_after_failures: int = Field(
        default=3, ge=1, description="Consecutive failures that pause a config."
    )
    # Floors and ceilings: a tuning rule never moves its knob past them (CycleSettings' field bounds still apply).
    lr_floor: float = Field(
        default=2e-4, gt=0, description="DECAY_LEARNING_RATE stops at this learning rate."
    )
    # lr_restore only undoes decays, so it never passes the rate they started from; a ceiling below a run's
    # starting rate would leave a rejection streak unanswered (promotion_rejections waits for lr_restore).
    lr_ceiling: float = Field(
        default=0.05, gt=0, description="lr_restore raises the learning rate up to this."
    )
    epochs_floor: int = Field(default=1, ge=1, description="REDUCE_OVERFITTING keeps at least these epochs.")
    replay_window_ceiling: int = Field(
        default=200_000, ge=1, description="REDUCE_OVERFITTING grows the replay window up to this."
    )
    selfplay_games_ceiling: int = Field(
        default=640, ge=1, description="INCREASE_SELFPLAY grows selfplay games per cycle up to this."
    )
    num_simulations_ceiling: int = Field(
        default=400, ge=1, description="INCREASE_SELFPLAY/INCREASE_SEARCH grow simulations up to this."
    )
    batch_size_floor: int = Field(default=16, ge=1, description="REDUCE_BATCH_SIZE stops at this batch.")
    # lane_balance moves a core when one lane waited this many asynchronous cycles in a row, each time for more
    # than (1 + tolerance) times its own seconds.
    lane_balance_cycles: int = Field(
        default=2, ge=1, description="Cycles one lane waits before a core moves."
    )
    lane_balance_tolerance: float = Field(
        default=0.3, gt=0, description="Waited for: slower by more than this."
    )
    # The loop checks its own advice (app.integration.feedback_followup).
    cooldown_cycles: int = Field(
        default=2, ge=0, description="Cycles a tuning rule stays quiet after one of its changes was applied."
    )
    followup_cycles: int = Field(
        default=1, ge=1, description="Cycles after an applied change before its verdict is recorded."
    )
    backoff_failures: int = Field(
        default=2, ge=1, description="Verdicts in a row of 'did not help' that back a rule off."
    )
    backoff_cycles: int = Field(default=6, ge=1, description="Cycles a backed-off rule is skipped.")
    followup_z: float = Field(
        default=0.0,
        ge=0,
        description=(
            "A gate Elo or score improved only by more than this many standard errors of the difference (from "
            "the gates' Elo intervals and games); within them, noise says 'did not help'. 0: any gain."
        ),
    )
