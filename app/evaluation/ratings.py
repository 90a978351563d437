"""Ratings on an Elo scale, fitted over all games of a config key at once and anchored so that ``random`` is 0.

The model is Plackett-Luce: in a game, the winner is chosen among the players with probability proportional to
``exp(theta)``, then the runner-up among the rest, and so on. With two players this *is* Bradley-Terry, and for any
number of players the chance that i finishes ahead of j is ``1 / (1 + exp(theta_j - theta_i))`` (a property of
Plackett-Luce), so ``elo = theta * 400 / ln 10`` means the same thing in 2-, 3- and 4-player games: the expected
head-to-head score of a logistic Elo difference.

Ties (a draw, or equal returns in a multi-player game) count as the average over the tied players' orders of the
log-likelihood, which for two players is the usual "a draw is half a win and half a loss".

We fit the maximum a posteriori ratings by Newton's method on the whole set of games, rather than an online
update such as openskill's, because an online rating depends on the order of the games and this one does not;
``prior_draws`` virtual draws between every two players that met (BayesElo's prior) keep ratings finite when one
player won every game. Confidence intervals come from the inverse of the observed information (the negative
Hessian) with the anchor fixed, so they are intervals on the difference to the anchor. Players that are not
connected to the anchor through games cannot be placed on the scale and are reported as unrated.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from app.core.errors import InvalidConfig

ELO_PER_NAT = 400.0 / math.log(10.0)
Z_95 = 1.959963984540054
DEFAULT_ANCHOR = "random"


@dataclass(frozen=True)
class GameResult:
    """One finished game: the player in each seat and the returns per seat (higher is better, ties share)."""

    players: tuple[str, ...]
    returns: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.players) < 2 or len(self.players) != len(self.returns):
            raise InvalidConfig(
                f"a game needs at least 2 seats with one return each, got players={list(self.players)} "
                f"returns={list(self.returns)}"
            )


@dataclass(frozen=True)
class Rating:
    name: str
    elo: float
    ci_low: float
    ci_high: float
    games: int

    @property
    def ci_half_width(self) -> float:
        return 0.5 * (self.ci_high - self.ci_low)


@dataclass(frozen=True)
class RatingTable:
    """Ratings, strongest first; ``unrated``: players with no chain of games to the anchor."""

    anchor: str
    ratings: list[Rating]
    unrated: list[str] = field(default_factory=list)
    games: int = 0
    pinned: dict[str, float] = field(default_factory=dict)  # players held at these Elo values in the fit

    def get(self, name: str) -> Rating | None:
        return next((r for r in self.ratings if r.name == name), None)


@dataclass
class _Orderings:
    """Strict finishing orders of one length: player indices int64 [G, L] (best first) and weights float64 [G]."""

    players: list[list[int]] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)


def _tie_orders(returns: Sequence[float]) -> list[tuple[tuple[int, ...], float]]:
    """Seat orders, best first, that a game's returns allow, each with its share of the game's weight."""
    values = sorted(set(returns), reverse=True)
    groups = [[i for i, r in enumerate(returns) if r == v] for v in values]
    choices = [list(itertools.permutations(g)) for g in groups]
    weight = 1.0 / math.prod(len(c) for c in choices)
    return [(tuple(itertools.chain.from_iterable(combo)), weight) for combo in itertools.product(*choices)]


def fit_ratings(
    games: Iterable[GameResult],
    *,
    anchor: str = DEFAULT_ANCHOR,
    prior_draws: float = 1.0,
    max_iter: int = 100,
    pinned: Mapping[str, float] | None = None,
) -> RatingTable:
    """Fit Plackett-Luce (Bradley-Terry for two players) ratings to ``games``, anchored at ``anchor`` = 0 Elo.

    ``pinned`` holds players at given Elo values (the anchors' calibrated ratings), so that new games move only
    the others: the scale then means the same thing however many games accumulate. Pinned players have a
    zero-width interval; the others' intervals are relative to the pinned ones.
    """
    if prior_draws < 0:
        raise InvalidConfig(f"prior_draws must be >= 0, got {prior_draws}")
    games = [g for g in games if len(set(g.players)) > 1]  # a player against itself says nothing
    graph = _Graph(games)
    names, index = graph.names, graph.index
    if anchor not in index:
        return RatingTable(anchor=anchor, ratings=[], unrated=names, games=len(games))
    root = graph.find(index[anchor])
    rated = [i for i in range(len(names)) if graph.find(i) == root]
    unrated = [names[i] for i in range(len(names)) if graph.find(i) != root]
    blocks = _blocks(games, graph, root, prior_draws)
    start, exact = _pinned_start(graph, root, anchor, pinned or {})
    free = [i for i in rated if i not in exact]
    theta, hessian = _newton(blocks, len(names), free=free, max_iter=max_iter, start=start)
    variance = np.zeros(len(names))
    if free:
        info = -hessian[np.ix_(free, free)]
        variance[free] = np.diag(np.linalg.inv(info))
    ratings = []
    for i in rated:
        elo = exact.get(i, float(theta[i] * ELO_PER_NAT))
        half = float(Z_95 * math.sqrt(max(variance[i], 0.0)) * ELO_PER_NAT)
        ratings.append(Rating(names[i], elo, elo - half, elo + half, int(graph.played[i])))
    ratings.sort(key=lambda r: (-r.elo, r.name))
    held = {names[i]: exact[i] for i in sorted(exact) if i != index[anchor]}
    return RatingTable(anchor=anchor, ratings=ratings, unrated=unrated, games=len(games), pinned=held)


class _Graph:
    """Who met whom: players indexed by name, games played, and the connected components (union-find)."""

    def __init__(self, games: list[GameResult]):
        self.names = sorted({p for g in games for p in g.players})
        self.index = {n: i for i, n in enumerate(self.names)}
        self.played = np.zeros(len(self.names), dtype=np.int64)
        self.parent = list(range(len(self.names)))
        self.met: set[tuple[int, int]] = set()
        for g in games:
            seats = [self.index[p] for p in g.players]
            for i in set(seats):
                self.played[i] += 1
            for a, b in itertools.combinations(sorted(set(seats)), 2):
                self.met.add((a, b))
                self.parent[self.find(a)] = self.find(b)

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i


def _blocks(games: list[GameResult], graph: _Graph, root: int, prior_draws: float) -> list:
    """The orderings of the anchor's component grouped by length, plus a virtual draw per pair that met."""
    by_length: dict[int, _Orderings] = {}
    for g in games:
        seats = [graph.index[p] for p in g.players]
        if graph.find(seats[0]) != root:
            continue
        for order, weight in _tie_orders(g.returns):
            o = by_length.setdefault(len(order), _Orderings())
            o.players.append([seats[s] for s in order])
            o.weights.append(weight)
    if prior_draws > 0:
        o = by_length.setdefault(2, _Orderings())
        for a, b in graph.met:
            if graph.find(a) == root:
                o.players += [[a, b], [b, a]]
                o.weights += [0.5 * prior_draws, 0.5 * prior_draws]
    return [_merge(np.asarray(o.players, dtype=np.int64), np.asarray(o.weights)) for o in by_length.values()]


def _pinned_start(
    graph: _Graph, root: int, anchor: str, pinned: Mapping[str, float]
) -> tuple[np.ndarray, dict[int, float]]:
    """The starting point (pinned players at their Elo, in nats) and the players held fixed, with their Elo."""
    start = np.zeros(len(graph.names))
    exact = {graph.index[anchor]: 0.0}
    for name, elo in pinned.items():
        if name in graph.index and graph.find(graph.index[name]) == root:
            if not math.isfinite(elo):
                raise InvalidConfig(f"pinned rating of {name!r} must be a finite Elo value, got {elo!r}")
            start[graph.index[name]] = elo / ELO_PER_NAT
            exact[graph.index[name]] = float(elo)
    return start, exact


def _merge(players: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum the weights of identical orders: many games between the same players collapse to a few rows."""
    unique, inverse = np.unique(players, axis=0, return_inverse=True)
    return unique, np.bincount(inverse.reshape(-1), weights=weights, minlength=len(unique))


def _loglik(blocks: list[tuple[np.ndarray, np.ndarray]], theta: np.ndarray, n: int, *, derivatives: bool):
    """Log-likelihood, and with ``derivatives`` its gradient [n] and Hessian [n, n], of weighted strict orders."""
    ll = 0.0
    grad = np.zeros(n) if derivatives else None
    hess = np.zeros((n, n)) if derivatives else None
    for players, weights in blocks:
        for stage in range(players.shape[1] - 1):
            items = players[:, stage:]  # [G, k]: who is still to finish; items[:, 0] finishes next
            logits = theta[items]
            top = logits.max(axis=1, keepdims=True)
            expo = np.exp(logits - top)
            total = expo.sum(axis=1, keepdims=True)
            ll += float(np.sum(weights * (logits[:, 0] - top[:, 0] - np.log(total[:, 0]))))
            if derivatives:
                p = expo / total  # [G, k]
                np.add.at(grad, items[:, 0], weights)
                np.add.at(grad, items, -weights[:, None] * p)
                k = items.shape[1]
                curvature = weights[:, None, None] * (
                    p[:, :, None] * np.eye(k) - p[:, :, None] * p[:, None, :]
                )
                np.add.at(hess, (items[:, :, None], items[:, None, :]), -curvature)
    return ll, grad, hess


def _newton(
    blocks: list[tuple[np.ndarray, np.ndarray]],
    n: int,
    *,
    free: list[int],
    max_iter: int,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximise the concave log-likelihood over the ``free`` ratings (the others stay at ``start``, default 0);
    returns (theta, Hessian)."""
    theta = np.zeros(n) if start is None else start.astype(np.float64).copy()
    ll, grad, hess = _loglik(blocks, theta, n, derivatives=True)
    if not free:
        return theta, hess
    idx = np.asarray(free)
    for _ in range(max_iter):
        try:
            step = np.linalg.solve(-hess[np.ix_(idx, idx)], grad[idx])
        except np.linalg.LinAlgError:
            break  # the likelihood went flat: ratings running off to infinity
        if not np.all(np.isfinite(step)):
            break
        scale = 1.0
        while True:  # backtracking keeps each step an ascent even far from the optimum
            trial = theta.copy()
            trial[idx] += scale * step
            trial_ll, _, _ = _loglik(blocks, trial, n, derivatives=False)
            if trial_ll >= ll - 1e-12 or scale < 1e-6:
                break
            scale *= 0.5
        theta = trial
        ll, grad, hess = _loglik(blocks, theta, n, derivatives=True)
        if np.max(np.abs(scale * step)) < 1e-9:
            return theta, hess
    raise InvalidConfig(
        f"the rating fit did not converge in {max_iter} Newton steps; with prior_draws=0 a player that won or "
        "lost every game has no finite rating: use prior_draws > 0"
    )
