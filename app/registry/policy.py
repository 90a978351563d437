"""The declarative promotion policy: what evidence a model must show to enter STAGING or PRODUCTION.

A policy is data (load it from JSON or TOML, keep it in a config file); ``PromotionPolicy.check`` evaluates it
against the evidence of one promotion and returns every rule that failed, with the values it saw.

Evidence keys understood here (the same names the feedback metrics use):
``games`` (int), ``elo_ci_low`` / ``elo_ci_high`` (Elo confidence interval), ``llr`` (SPRT log-likelihood
ratio), ``sprt`` (the SPRT decision as ``app.evaluation.sprt`` writes it: ``"accept"`` when the new model is
accepted as stronger, ``"reject"``, ``"inconclusive"``), ``rating_gain`` (the model's rating on the config key's
anchored scale minus its reference's, both from the same fit: what the loop's STAGING confirms).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SPRT_ACCEPT = "accept"


@dataclass(frozen=True, slots=True)
class RuleFailure:
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


class PromotionPolicy(BaseModel):
    """Minimum evidence for a promotion; a rule left at None (or False) is not checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_elo_delta: float | None = Field(
        default=None, description="Elo gain over the reference at least this."
    )
    min_games: int | None = Field(default=None, ge=0, description="At least this many evaluation games.")
    require_sprt_accept: bool = Field(default=False, description="The SPRT must have accepted the new model.")
    min_elo_ci_low: float | None = Field(
        default=None, description="Lower end of the Elo confidence interval at least this (0: surely better)."
    )
    max_elo_ci_width: float | None = Field(
        default=None, gt=0, description="Elo confidence interval (high - low) at most this wide."
    )
    min_rating_gain: float | None = Field(
        default=None,
        description=(
            "Rating on the anchored scale at least this above the reference's (evidence rating_gain): the "
            "gate's head-to-head agrees with the games against the anchors."
        ),
    )

    def check(self, *, elo_delta: float | None, evidence: Mapping[str, Any]) -> list[RuleFailure]:
        """Every rule the evidence fails, in declaration order; empty when the promotion may go ahead."""
        failures: list[RuleFailure] = []

        def number(key: str, rule: str) -> float | None:
            value = evidence.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                failures.append(RuleFailure(rule, f"evidence lacks a number {key!r} (got {value!r})"))
                return None
            return float(value)

        if self.min_elo_delta is not None:
            if elo_delta is None:
                failures.append(RuleFailure("min_elo_delta", "no elo_delta given"))
            elif elo_delta < self.min_elo_delta:
                failures.append(
                    RuleFailure("min_elo_delta", f"elo_delta={elo_delta:g} < {self.min_elo_delta:g}")
                )
        if self.min_games is not None:
            games = number("games", "min_games")
            if games is not None and games < self.min_games:
                failures.append(RuleFailure("min_games", f"games={games:g} < {self.min_games}"))
        if self.require_sprt_accept:
            decision = evidence.get("sprt")
            if decision != SPRT_ACCEPT:
                failures.append(
                    RuleFailure("require_sprt_accept", f"sprt={decision!r}, needs {SPRT_ACCEPT!r}")
                )
        if self.min_elo_ci_low is not None:
            low = number("elo_ci_low", "min_elo_ci_low")
            if low is not None and low < self.min_elo_ci_low:
                failures.append(
                    RuleFailure("min_elo_ci_low", f"elo_ci_low={low:g} < {self.min_elo_ci_low:g}")
                )
        if self.max_elo_ci_width is not None:
            low = number("elo_ci_low", "max_elo_ci_width")
            high = number("elo_ci_high", "max_elo_ci_width")
            if low is not None and high is not None and high - low > self.max_elo_ci_width:
                failures.append(
                    RuleFailure(
                        "max_elo_ci_width",
                        f"elo_ci_high-elo_ci_low={high - low:g} > {self.max_elo_ci_width:g}",
                    )
                )
        if self.min_rating_gain is not None:
            gain = number("rating_gain", "min_rating_gain")
            if gain is not None and gain < self.min_rating_gain:
                failures.append(
                    RuleFailure("min_rating_gain", f"rating_gain={gain:g} < {self.min_rating_gain:g}")
                )
        return failures

    def is_empty(self) -> bool:
        return self == PromotionPolicy()
