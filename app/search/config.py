"""Hyperparameters of the batched search, under the names the papers use."""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.core.errors import InvalidConfig

SELECTION_RULES = ("puct", "ucb1")


@dataclass(frozen=True, kw_only=True)
class MCTSConfig:
    """Search hyperparameters (AlphaZero: Silver et al. 2018; Gumbel: Danihelka et al. 2022).

    PUCT score of child a at a node whose mover is m (values are that player's component):
    ``Q(a) + c(N) * P(a) * sqrt(N) / (1 + n(a))`` with ``c(N) = c_puct + log((1 + N + c_puct_base) / c_puct_base)``,
    N the node's visits and n(a) the child's. An unvisited child's Q is the node's own mean value for m minus
    ``fpu`` (first-play urgency reduction, as in Leela Zero).

    With ``gumbel=True`` the root runs Gumbel-top-k sampling of ``max_considered_actions`` actions and sequential
    halving; interior nodes use the paper's deterministic non-root selection
    ``argmax(π'(a) - n(a) / (1 + Σn))`` with ``π' = softmax(logits + σ(completed Q))`` and
    ``σ(q̂) = (c_visit + max n) * c_scale * q̂`` (q̂: completed Q rescaled to [0, 1] at that node).
    """

    num_simulations: int = 200
    """Leaf evaluations per search, not counting the root's own evaluation."""
    c_puct: float = 1.25
    """PUCT exploration constant (AlphaZero's c_init)."""
    c_puct_base: float = 19652.0
    """Visit scale at which exploration grows logarithmically (AlphaZero's c_base)."""
    fpu: float = 0.0
    """First-play urgency reduction: Q of an unvisited child = the node's mean value for its mover minus this."""
    dirichlet_alpha: float = 0.3
    """Concentration of the root Dirichlet noise (PUCT, with ``add_noise``)."""
    dirichlet_epsilon: float = 0.25
    """Weight of the Dirichlet noise in the root prior."""
    gumbel: bool = False
    """Use the Gumbel root with sequential halving (good for small simulation budgets)."""
    gumbel_scale: float = 1.0
    """Scale of the root Gumbel noise with ``add_noise`` (without it the noise is zero: greedy play)."""
    max_considered_actions: int = 16
    """m of Gumbel-top-k: actions the root considers before halving."""
    c_visit: float = 50.0
    """σ transform of completed Q values: visit offset."""
    c_scale: float = 0.1
    """σ transform of completed Q values: scale."""
    leaves_per_step: int = 1
    """Pending leaves each tree contributes to one network call; above 1 the descents use virtual loss."""
    selection: str = "puct"
    """Interior selection rule without Gumbel: "puct" (with priors) or "ucb1" (plain UCT, Kocsis & Szepesvári
    2006: unvisited children first, then ``Q + c_uct * sqrt(ln N / n)``; what the rollout baseline uses)."""
    c_uct: float = 1.4
    """UCB1 exploration constant (``selection="ucb1"``)."""
    solver: bool = False
    """MCTS-solver (``app.search.solver``): take an immediate win at the root, back exact results up as proven
    values, revisit solved nodes without evaluating them, and report the root's proven move. Two players only."""

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.num_simulations, int) or self.num_simulations < 1:
            problems.append(f"num_simulations must be an integer >= 1, got {self.num_simulations!r}")
        if not isinstance(self.max_considered_actions, int) or self.max_considered_actions < 1:
            problems.append(
                f"max_considered_actions must be an integer >= 1, got {self.max_considered_actions!r}"
            )
        if not isinstance(self.leaves_per_step, int) or self.leaves_per_step < 1:
            problems.append(f"leaves_per_step must be an integer >= 1, got {self.leaves_per_step!r}")
        for name, low, low_open in (
            ("c_puct", 0.0, False),
            ("c_puct_base", 0.0, True),
            ("dirichlet_alpha", 0.0, True),
            ("gumbel_scale", 0.0, False),
            ("c_visit", 0.0, False),
            ("c_scale", 0.0, False),
            ("c_uct", 0.0, False),
        ):
            value = getattr(self, name)
            if not _finite(value) or value < low or (low_open and value == low):
                bound = f"> {low}" if low_open else f">= {low}"
                problems.append(f"{name} must be a finite number {bound}, got {value!r}")
        if not _finite(self.fpu):
            problems.append(f"fpu must be a finite number, got {self.fpu!r}")
        if not _finite(self.dirichlet_epsilon) or not 0.0 <= self.dirichlet_epsilon <= 1.0:
            problems.append(f"dirichlet_epsilon must be in [0, 1], got {self.dirichlet_epsilon!r}")
        if self.selection not in SELECTION_RULES:
            problems.append(f"selection must be one of {SELECTION_RULES}, got {self.selection!r}")
        elif self.gumbel and self.selection != "puct":
            problems.append("gumbel=True brings its own interior selection; leave selection at 'puct'")
        if problems:
            raise InvalidConfig("invalid MCTSConfig: " + "; ".join(problems))


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
