"""Typed configuration and result of the selfplay stage."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.errors import InvalidConfig
from app.core.names import MAIN_RUN, RUN_PATTERN, UNIFORM, parse_model_id
from app.games.job_config import GameJobConfig


class FollowRule(BaseModel):
    """Which model a long-running selfplay job plays, asked again before each shard (KataGo's selfplay picks up
    each new network between games): the newest trained candidate of a run, or its production model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: Literal["latest", "production"] = Field(
        description="latest: the run's newest model with a checkpoint; production: the run's production model."
    )
    run: str = Field(default=MAIN_RUN, pattern=RUN_PATTERN, description="The run whose models are followed.")
    after_version: int = Field(
        default=0,
        ge=0,
        description=(
            "latest only: follow models above this version only (the pipeline sets the newest one trained when it "
            "starts the job, so candidates of a line abandoned by a rollback are never picked up)."
        ),
    )


class SelfplayConfig(GameJobConfig):
    """What to play: N games of one config key with one model (or the uniform-prior agent)."""

    games: int = Field(default=64, ge=1, le=1_000_000, description="Games to play.")
    model_id: str | None = Field(
        default=None,
        description="Model to play with; None = the production model of the config key, 'uniform' = generation 0.",
    )
    successor: str | None = Field(
        default=None,
        description=(
            "A model expected to be registered while this job plays (the candidate training beside it): from the "
            "first shard begun after its checkpoint is registered, the job plays it instead (shard_games splits "
            "the games into shards; each shard records its model). None: one model throughout."
        ),
    )
    follow: FollowRule | None = Field(
        default=None,
        description=(
            "A long-running job: before each shard (shard_games) it plays the model this rule names now, starting "
            "with model_id until the rule names another; each shard records its model. None: model_id throughout."
        ),
    )
    num_simulations: int = Field(default=64, ge=1, le=100_000, description="MCTS simulations per move.")
    parallel_games: int = Field(
        default=64, ge=1, le=4096, description="Games advanced together in one batch."
    )
    gumbel: bool = Field(
        default=False, description="Gumbel root with sequential halving instead of PUCT+noise."
    )
    c_puct: float = Field(default=1.25, gt=0, le=100, description="PUCT exploration constant.")
    dirichlet_alpha: float | None = Field(
        default=None, gt=0, le=10, description="Root noise concentration; None = 10 / average legal moves."
    )
    dirichlet_epsilon: float = Field(default=0.25, ge=0, le=1, description="Weight of the root noise.")
    temperature: float = Field(default=1.0, ge=0, le=10, description="Move temperature in the opening.")
    temperature_moves: int = Field(
        default=8, ge=0, le=10_000, description="Moves played at `temperature`; greedy afterwards."
    )
    value_q_weight: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Value target = (1 - w) * game result + w * root search value; 0 = the result alone.",
    )
    solver: bool = Field(
        default=False,
        description="MCTS-solver: take immediate wins, back up proven results, play proven wins (2 players).",
    )
    full_search_fraction: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description=(
            "Playout cap randomisation (KataGo): share of moves given the full search and recorded as training "
            "positions; the others get cheap_simulations and are not recorded. 1 = every move."
        ),
    )
    cheap_simulations: int = Field(
        default=16, ge=1, le=100_000, description="Simulations of a cheap search (full_search_fraction < 1)."
    )
    opening_moves: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Uniformly random moves that start each game, neither searched nor recorded.",
    )
    resign_threshold: float | None = Field(
        default=None,
        gt=-1,
        lt=0,
        description="Resign when the mover's root value stays below this; None = never.",
    )
    resign_consecutive: int = Field(
        default=3, ge=1, le=100, description="Moves in a row below the threshold."
    )
    resign_disabled_fraction: float = Field(
        default=0.1, ge=0, le=1, description="Games that never resign, to measure false resignations."
    )
    seed: int = Field(
        default=0, ge=0, description="Seed of every random choice; game i of the run is seed-derived."
    )
    shard_name: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]{1,120}$",
        description="Name of the shard to write; default derived from model and seed. A name is written once.",
    )
    shard_games: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description=(
            "Write a shard every this many games (named <shard_name>-<k>), so a run restarted after a crash "
            "resumes after the shards it wrote; None: one shard at the end."
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> SelfplayConfig:
        if self.resign_threshold is not None and self.num_players != 2:
            raise InvalidConfig(
                "resignation is only defined for two-player games; leave resign_threshold unset"
            )
        if self.solver and self.num_players != 2:
            raise InvalidConfig("solver is only sound for two-player games; leave solver off")
        if self.full_search_fraction < 1 and self.cheap_simulations >= self.num_simulations:
            raise InvalidConfig(
                f"cheap_simulations ({self.cheap_simulations}) must be below num_simulations "
                f"({self.num_simulations}) for playout cap randomisation to save anything"
            )
        # Checked here so a bad id is refused when the job is submitted, not when it runs.
        key = self.config_key
        for what, model in (("model_id", self.model_id), ("successor", self.successor)):
            if model not in (None, UNIFORM) and parse_model_id(model).config_key != key:
                raise InvalidConfig(f"{what} {model!r} is not a model of {key}")
        if self.follow is not None and self.successor is not None:
            raise InvalidConfig("set follow or successor, not both: follow already switches between shards")
        if self.successor is not None and self.successor in (self.model_id, UNIFORM):
            raise InvalidConfig(
                f"successor {self.successor!r} must be a model other than the one the job starts with "
                f"({self.model_id or 'production'}) and not 'uniform'"
            )
        return self


class SelfplayResult(BaseModel):
    """What a selfplay run produced (stored in the job table)."""

    config_key: str
    model_id: str
    shard_name: str
    shard_path: str = Field(description="The file of the first shard written.")
    shards: list[str] = Field(default_factory=list, description="Every shard of the run, in order.")
    shard_models: list[str] = Field(
        default_factory=list,
        description="The model that played each shard, in the order of `shards` (`model_id`: the first's).",
    )
    games: int
    positions: int
    reused: bool = Field(description="True when the shard already existed and nothing was replayed.")
    seconds: float
    games_per_s: float
    positions_per_s: float
    mean_length: float
    wins_by_seat: list[int] = Field(description="Games won by each seat (ties for first counted for each).")
    draws: int
    resignations: int
    false_resignations: int = Field(description="Resign-disabled games the would-be resigner did not lose.")
    resign_checks: int = Field(description="Resign-disabled games in which resignation would have happened.")

    @classmethod
    def merged(cls, parts: list[SelfplayResult]) -> SelfplayResult:
        """One result for selfplay split over jobs that ran side by side: counts add up, the shards are every
        part's in order, the seconds are the longest part's (wall-clock), the rates are over those seconds."""
        if not parts:
            raise ValueError("merged() needs at least one part")
        first, games = parts[0], sum(p.games for p in parts)
        positions, seconds = sum(p.positions for p in parts), max(p.seconds for p in parts)
        return cls(
            config_key=first.config_key,
            model_id=first.model_id,
            shard_name=first.shard_name,
            shard_path=first.shard_path,
            shards=[shard for p in parts for shard in p.shards],
            shard_models=[model for p in parts for model in p.shard_models],
            games=games,
            positions=positions,
            reused=all(p.reused for p in parts),
            seconds=seconds,
            games_per_s=games / seconds if seconds > 0 else 0.0,
            positions_per_s=positions / seconds if seconds > 0 else 0.0,
            mean_length=sum(p.mean_length * p.games for p in parts) / games if games else 0.0,
            wins_by_seat=[sum(seat) for seat in zip(*(p.wins_by_seat for p in parts), strict=True)],
            draws=sum(p.draws for p in parts),
            resignations=sum(p.resignations for p in parts),
            false_resignations=sum(p.false_resignations for p in parts),
            resign_checks=sum(p.resign_checks for p in parts),
        )
