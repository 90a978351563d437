"""Typed configuration and result of the training stage."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from app.core.errors import InvalidConfig
from app.core.names import parse_model_id
from app.games.job_config import GameJobConfig
from app.nn.config import NetConfig, checked_net_name


class TrainConfig(GameJobConfig):
    """Train a new network on the newest shards of one config key.

    Given only the board type, the player count and the epochs, it trains on the newest ``replay_window``
    positions, starting from the production model of the config key when there is one.
    """

    epochs: int = Field(
        default=4, ge=1, le=10_000, description="Passes over the training split of the window."
    )
    samples: int | None = Field(
        default=None,
        ge=1,
        le=10**10,
        description=(
            "Train exactly this many samples (passes over the training split, the last one cut short) "
            "instead of `epochs` whole passes; the pipeline's sample_reuse sets it."
        ),
    )
    batch_size: int = Field(default=256, ge=1, le=65_536, description="Positions per optimiser step.")
    learning_rate: float = Field(default=2e-3, gt=0, le=10, description="Peak learning rate of AdamW.")
    weight_decay: float = Field(default=1e-4, ge=0, le=1, description="AdamW decoupled weight decay.")
    lr_schedule: Literal["cosine", "onecycle", "constant"] = Field(
        default="cosine",
        description="cosine: warmup then cosine decay; onecycle: one-cycle (rise, then fall far below the peak); constant.",
    )
    warmup_fraction: float = Field(
        default=0.05, ge=0, lt=1, description="Fraction of steps spent warming up (one-cycle: rising phase)."
    )
    final_lr_fraction: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Cosine: the last step's learning rate as a fraction of the peak.",
    )
    value_loss_weight: float = Field(default=1.0, gt=0, le=100, description="Weight of the value loss term.")
    max_grad_norm: float | None = Field(default=10.0, gt=0, description="Gradient norm clip; None = no clip.")
    replay_window: int = Field(
        default=500_000, ge=1, le=100_000_000, description="Newest positions of the config key trained on."
    )
    shard_prefix: str | None = Field(
        default=None,
        max_length=64,
        description="Train only on shards whose name starts with this (a run's own, e.g. 'wide-'); None: every shard.",
    )
    validation_fraction: float = Field(
        default=0.1, ge=0, le=0.5, description="Fraction of the window's games held out for validation."
    )
    augment: bool = Field(default=True, description="Random board symmetry per training sample.")
    net: NetConfig | str | None = Field(
        default=None,
        description=(
            "Architecture, preset ('cpu', 'gpu') or size ('b6c48'); None = the parent's architecture, or the "
            "'cpu' preset from scratch."
        ),
    )
    parent_model_id: str | None = Field(default=None, description="Model to start from; None = see `init`.")
    init: Literal["production", "scratch"] = Field(
        default="production",
        description="Without parent_model_id: start from the production model if there is one, or from scratch.",
    )
    optimizer_from_parent: bool = Field(
        default=False,
        description=(
            "Start from the AdamW moments the parent's run left (one continuous trainer across candidates, as "
            "KataGo's); fresh moments when it left none. The run leaves its own for its child."
        ),
    )
    output_model_id: str | None = Field(
        default=None, description="Model id of the result; names its checkpoint and its resumable run."
    )
    seed: int = Field(
        default=0, ge=0, description="Seed of initialisation, split, shuffling and augmentation."
    )
    resume: bool = Field(
        default=True, description="Continue an interrupted run of the same output from its state."
    )
    checkpoint_every_steps: int = Field(
        default=500, ge=1, description="Save the resumable training state after this many steps."
    )
    checkpoint_every_s: float = Field(
        default=120.0, gt=0, description="... or after this many seconds, whichever comes first."
    )
    amp: bool = Field(default=True, description="Mixed precision on CUDA (ignored on CPU).")
    device: str | None = Field(default=None, description="torch device; None = CUDA when present, else CPU.")
    num_threads: int | None = Field(
        default=None,
        ge=0,
        description=(
            "torch CPU threads; 0 = one per core of the machine (at most 4); None = $ZEROLOOP_TORCH_THREADS, else 1."
        ),
    )

    _net_name = field_validator("net", mode="before")(checked_net_name)

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        for field in ("parent_model_id", "output_model_id"):
            mid = getattr(self, field)
            if mid is not None and parse_model_id(mid).config_key != self.config_key:
                raise InvalidConfig(f"{field} {mid!r} is not a model of {self.config_key}")
        if self.parent_model_id is not None and self.init == "scratch":
            raise InvalidConfig("init='scratch' contradicts parent_model_id; give one or the other")
        if self.parent_model_id is not None and self.parent_model_id == self.output_model_id:
            raise InvalidConfig(f"model {self.output_model_id!r} cannot be its own parent")
        return self

    def hyperparameters(self) -> dict[str, Any]:
        """What shapes the trained weights (recorded in the checkpoint's lineage)."""
        skip = {"resume", "device", "num_threads", "checkpoint_every_steps", "checkpoint_every_s"}
        if self.shard_prefix is None:
            skip.add("shard_prefix")  # so that runs recorded before it existed keep their fingerprint
        if not self.optimizer_from_parent:
            skip.add("optimizer_from_parent")  # likewise
        return self.model_dump(mode="json", exclude=skip)


class TrainResult(BaseModel):
    """What a training run produced (stored in the job table)."""

    config_key: str
    model_id: str | None = Field(description="The output model id, if one was given.")
    parent_model_id: str | None
    checkpoint_path: str
    sha256: str = Field(description="sha256 of the checkpoint file.")
    net: NetConfig
    shards: list[str] = Field(description="Names of the shards trained on, newest first.")
    positions: int = Field(description="Positions in the replay window.")
    train_positions: int
    val_positions: int
    games: int
    epochs: int
    steps: int
    samples_trained: int = Field(default=0, description="Samples trained over the whole run.")
    resumed_from_step: int = Field(description="Step the run continued from; 0 for a fresh run.")
    history: list[dict[str, float]] = Field(description="Metrics per epoch: train/*, val/*, lr, epoch.")
    final: dict[str, float] = Field(description="Metrics of the last epoch.")
    samples_per_s: float = Field(description="Training samples per second in this process.")
    seconds: float
    device: str
