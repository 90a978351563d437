"""Typed configuration and result of the evaluation stage."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.errors import InvalidConfig
from app.core.names import DEFAULT_ANCHORS, PRODUCTION, is_anchor
from app.evaluation.players import check_name
from app.evaluation.sprt import SPRTResult, check_error_rates
from app.games.job_config import GameJobConfig


class EvalConfig(GameJobConfig):
    """Candidate against opponent until the gate decides or the cap, then games against the fixed anchors.

    Two-player games are played in pairs with seats swapped after a shared random opening and gated on the
    pentanomial GSPRT. In 3-4 player games the lineup is the candidate, the opponent and further copies of the
    opponent; each opening is played once per seat rotation, and the gate is the trinomial GSPRT on whether the
    candidate finished ahead of (1), level with (0.5) or behind (0) the opponent's designated seat.
    """

    candidate: str = Field(description="Model id or anchor ('random', 'rollout_mcts_<n>') being evaluated.")
    opponent: str = Field(default=PRODUCTION, description="'production', an anchor, or a model id.")
    max_games: int = Field(
        default=400, ge=2, le=100_000, description="Cap on gate games; undecided → inconclusive."
    )
    elo0: float = Field(
        default=0.0, ge=-2000, le=2000, description="H0 of the gate, logistic Elo over the opponent."
    )
    elo1: float = Field(
        default=30.0, ge=-2000, le=2000, description="H1 of the gate, logistic Elo over the opponent."
    )
    alpha: float = Field(default=0.05, gt=0, lt=1, description="P(accept) when the truth is elo0.")
    beta: float = Field(default=0.05, gt=0, lt=1, description="P(reject) when the truth is elo1.")
    num_simulations: int = Field(
        default=64, ge=1, le=100_000, description="MCTS simulations per move of models."
    )
    opening_moves: int = Field(default=2, ge=0, le=64, description="Random moves of each shared opening.")
    batch_games: int = Field(
        default=32, ge=1, le=4096, description="Games played together between two looks of the gate."
    )
    anchors: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ANCHORS), description="Fixed anchors that rate the candidate."
    )
    anchors_games: int = Field(
        default=16, ge=0, le=100_000, description="Games of the candidate against each anchor (0: none)."
    )
    calibration_games: int = Field(
        default=16,
        ge=0,
        le=100_000,
        description="Stored games each neighbouring pair of anchors must have; missing ones are played.",
    )
    seed: int = Field(default=0, ge=0, description="Seed of openings and every agent's random choices.")
    purpose: Literal["gate", "adhoc"] = Field(
        default="adhoc",
        description="'gate' when the loop's promotion decision rests on it; 'adhoc' when a person asked for it.",
    )

    @model_validator(mode="after")
    def _valid(self) -> EvalConfig:
        key = self.config_key
        check_name(self.candidate, key, allow_production=False)
        check_name(self.opponent, key)
        if self.candidate == self.opponent:
            raise InvalidConfig(
                f"candidate and opponent are both {self.candidate!r}; evaluate two different players"
            )
        if not self.elo1 > self.elo0:
            raise InvalidConfig(f"elo1 ({self.elo1}) must be greater than elo0 ({self.elo0})")
        check_error_rates(self.alpha, self.beta)
        for anchor in self.anchors:
            if not is_anchor(anchor):
                raise InvalidConfig(
                    f"{anchor!r} is not an anchor; anchors are 'random' and 'rollout_mcts_<n>'"
                )
        if len(set(self.anchors)) != len(self.anchors):
            raise InvalidConfig(f"anchors are listed twice: {self.anchors}")
        if self.max_games < self.num_players:
            raise InvalidConfig(
                f"max_games={self.max_games} is less than one opening group ({self.num_players} games)"
            )
        return self


class RatedPlayer(BaseModel):
    """A player's rating on the config key's scale (``random`` = 0), with a 95% interval."""

    name: str
    elo: float
    ci_low: float
    ci_high: float
    games: int


class EvalResult(SPRTResult):
    """Everything a promotion needs to know about one evaluation (stored in the job table): the gate's test and
    the ratings of the candidate, its opponent and the anchors."""

    model_config = ConfigDict(frozen=False)

    evaluation_id: str
    config_key: str
    candidate: str
    opponent: str = Field(
        description="The opponent's rating identity ('production' resolved to its model id)."
    )
    anchor_games: int = Field(description="Games the candidate played against anchors in this evaluation.")
    calibration_games: int = Field(description="Games played between anchors to keep the scale connected.")
    candidate_rating: RatedPlayer | None = Field(
        description="None when the candidate has no games linking it to random."
    )
    ratings: list[RatedPlayer] = Field(
        description="Candidate, opponent and anchors on the config key's scale."
    )
    seconds: float
    games_per_s: float

    def evidence(self) -> dict[str, Any]:
        """The evidence for ``ModelLifecycle.promote_model(..., evidence=...)`` and a ``PromotionPolicy``.

        Keys the policy reads: ``elo_delta``, ``games``, ``elo_ci_low``, ``elo_ci_high``, ``llr``, ``sprt``.
        Non-finite numbers (an interval open on one side) are left out rather than written as JSON it cannot hold.
        """
        out: dict[str, Any] = {
            "evaluation_id": self.evaluation_id,
            "opponent": self.opponent,
            "sprt": self.decision,
            "elo_delta": self.elo_delta,
            "elo_ci_low": self.elo_ci_low,
            "elo_ci_high": self.elo_ci_high,
            "games": self.games,
            "score": self.score,
            "llr": self.llr,
            "llr_lower": self.llr_lower,
            "llr_upper": self.llr_upper,
            "elo0": self.elo0,
            "elo1": self.elo1,
            "alpha": self.alpha,
            "beta": self.beta,
            "wins": self.wins,
            "draws": self.draws,
            "losses": self.losses,
        }
        if self.pentanomial is not None:
            out["pentanomial"] = list(self.pentanomial)
        if self.candidate_rating is not None:
            out["rating"] = self.candidate_rating.elo
            out["rating_ci_low"] = self.candidate_rating.ci_low
            out["rating_ci_high"] = self.candidate_rating.ci_high
        return {k: v for k, v in out.items() if not (isinstance(v, float) and not math.isfinite(v))}
