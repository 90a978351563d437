"""Gumbel AlphaZero pieces (Danihelka et al. 2022, "Policy improvement by planning with Gumbel").

Follows mctx's ``gumbel_muzero_policy``: completed Q-values by the mixed value, rescaled to [0, 1] per node and
passed through ``σ(q̂) = (c_visit + max_b n(b)) * c_scale * q̂``; the root picks, for simulation k, among the
actions whose visit count equals the k-th entry of the sequential-halving schedule, the one maximising
``g + logits + σ(q̂)``; interior nodes take ``argmax(π'(a) - n(a) / (1 + Σn))``.

Visit counts include virtual visits (descents in flight), and a virtual visit counts as a loss (-1) for the
player who chose it, so a tree that collects several leaves per step spreads them out.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from app.search.tree import ROOT, UNVISITED

MIN_PRIOR = 1e-30
"""Priors are floored here before taking logs, so a legal move the network gives zero keeps a finite logit."""
_LOW_LOGIT = -1e9
_RESCALE_EPSILON = 1e-8


class GumbelParams(NamedTuple):
    """What the Gumbel formulas need besides the tree, fixed for one search.

    ``c_visit``, ``c_scale``: float, the σ transform (``MCTSConfig``). ``root_gumbel``: float64 [B, A], the root
    Gumbel noise (zero without ``add_noise``). ``considered_table``: int32 [M + 1, num_simulations] from
    ``considered_visits_table``. ``num_considered``: int32 [B], min(M, legal moves at the root).
    """

    c_visit: float
    c_scale: float
    root_gumbel: np.ndarray
    considered_table: np.ndarray
    num_considered: np.ndarray


def considered_visits_table(max_considered_actions: int, num_simulations: int) -> np.ndarray:
    """int32 [max_considered_actions + 1, num_simulations]: row m is the sequential-halving schedule for m
    considered actions; entry k is the visit count the action chosen at simulation k must have.

    Each phase gives every remaining action ``max(1, n / (ceil(log2 m) * remaining))`` more visits, then halves
    the remaining actions (never below two), until the budget is spent (mctx ``seq_halving``).
    """
    table = np.zeros((max_considered_actions + 1, num_simulations), dtype=np.int32)
    for m in range(max_considered_actions + 1):
        table[m] = _considered_visits(m, num_simulations)
    return table


def _considered_visits(max_considered: int, num_simulations: int) -> list[int]:
    if max_considered <= 1:
        return list(range(num_simulations))
    log2max = math.ceil(math.log2(max_considered))
    sequence: list[int] = []
    visits = [0] * max_considered
    num_considered = max_considered
    while len(sequence) < num_simulations:
        extra = max(1, int(num_simulations / (log2max * num_considered)))
        for _ in range(extra):
            sequence.extend(visits[:num_considered])
            for i in range(num_considered):
                visits[i] += 1
        num_considered = max(2, num_considered // 2)
    return sequence[:num_simulations]


@njit(cache=True)
def sigma_completed_q(tree, t, node, c_visit, c_scale, out):
    """Fill ``out`` float64 [A] with σ(q̂) at node ``node`` of tree ``t`` (legal actions only; the rest untouched).

    Q of a visited child is its mean value for the node's mover; an unvisited child gets the mixed value
    ``(v + Σn · Σ_visited π q / Σ_visited π) / (1 + Σn)`` with v the node's own evaluation. Returns Σn.
    """
    children, prior, legal = tree.children, tree.prior, tree.legal
    visits, virtual, value_sum = tree.visits, tree.virtual, tree.value_sum
    num_actions = children.shape[2]
    mover = tree.to_move[t, node]
    sum_n = 0.0
    sum_p = 0.0
    weighted_q = 0.0
    max_n = 0.0
    for a in range(num_actions):
        if not legal[t, node, a]:
            continue
        child = children[t, node, a]
        if child == UNVISITED:
            continue
        n = visits[t, child] + virtual[t, child]
        if n == 0:
            continue
        q = (value_sum[t, child, mover] - virtual[t, child]) / n
        out[a] = q
        p = max(prior[t, node, a], MIN_PRIOR)
        sum_n += n
        sum_p += p
        weighted_q += p * q
        max_n = max(max_n, n)
    raw = tree.raw_value[t, node, mover]
    mixed = raw if sum_n == 0.0 else (raw + sum_n * weighted_q / sum_p) / (1.0 + sum_n)
    low = np.inf
    high = -np.inf
    for a in range(num_actions):
        if not legal[t, node, a]:
            continue
        child = children[t, node, a]
        if child == UNVISITED or visits[t, child] + virtual[t, child] == 0:
            out[a] = mixed
        low = min(low, out[a])
        high = max(high, out[a])
    scale = (c_visit + max_n) * c_scale / max(high - low, _RESCALE_EPSILON)
    for a in range(num_actions):
        if legal[t, node, a]:
            out[a] = (out[a] - low) * scale
    return sum_n


@njit(cache=True)
def _softmax_with_logits(tree, t, node, scratch):
    """``scratch`` float64 [A] ← exp(scratch + logits - max) on the legal actions of the node (the rest
    untouched); returns their sum, so π'(a) = scratch[a] / sum when ``scratch`` held σ(q̂)."""
    legal, logits = tree.legal, tree.logits
    num_actions = legal.shape[2]
    top = -np.inf
    for a in range(num_actions):
        if legal[t, node, a]:
            scratch[a] += logits[t, node, a]
            top = max(top, scratch[a])
    total = 0.0
    for a in range(num_actions):
        if legal[t, node, a]:
            scratch[a] = math.exp(scratch[a] - top)
            total += scratch[a]
    return total


@njit(cache=True)
def _max_logit(tree, t, node):
    legal, logits = tree.legal, tree.logits
    best = -np.inf
    for a in range(logits.shape[2]):
        if legal[t, node, a]:
            best = max(best, logits[t, node, a])
    return best


@njit(cache=True)
def _root_score_argmax(tree, t, root_gumbel, sigma, considered_visit):
    """argmax of ``g + logits + σ(q̂)`` over legal root actions with exactly ``considered_visit`` visits
    (-1 when none has)."""
    children, logits, legal, visits, virtual = (
        tree.children,
        tree.logits,
        tree.legal,
        tree.visits,
        tree.virtual,
    )
    max_logit = _max_logit(tree, t, ROOT)
    best = -1
    best_score = -np.inf
    for a in range(children.shape[2]):
        if not legal[t, ROOT, a]:
            continue
        child = children[t, ROOT, a]
        n = 0 if child == UNVISITED else visits[t, child] + virtual[t, child]
        if n != considered_visit:
            continue
        logit = logits[t, ROOT, a] - max_logit
        score = max(_LOW_LOGIT, root_gumbel[t, a] + logit + sigma[a])
        if score > best_score:
            best_score = score
            best = a
    return best


@njit(cache=True)
def gumbel_root_action(tree, t, gumbel, scratch):
    """The root action for the next simulation of tree ``t`` under sequential halving (``gumbel``: GumbelParams;
    ``scratch``: float64 [A])."""
    sum_n = sigma_completed_q(tree, t, ROOT, gumbel.c_visit, gumbel.c_scale, scratch)
    row = gumbel.considered_table[gumbel.num_considered[t]]
    considered_visit = row[min(int(sum_n), row.shape[0] - 1)]
    root_gumbel = gumbel.root_gumbel
    best = _root_score_argmax(tree, t, root_gumbel, scratch, considered_visit)
    if best >= 0:
        return best
    # Only reachable when collided descents skew the counts; the least-visited considered action keeps halving fair.
    for visit in range(considered_visit + 1, considered_visit + 1 + int(sum_n) + 1):
        best = _root_score_argmax(tree, t, root_gumbel, scratch, visit)
        if best >= 0:
            return best
    return _root_score_argmax(tree, t, root_gumbel, scratch, 0)


@njit(cache=True)
def gumbel_interior_action(tree, t, node, gumbel, scratch):
    """Deterministic non-root selection: ``argmax(π'(a) - n(a) / (1 + Σn))``, π' = softmax(logits + σ(q̂))."""
    sum_n = sigma_completed_q(tree, t, node, gumbel.c_visit, gumbel.c_scale, scratch)
    total = _softmax_with_logits(tree, t, node, scratch)
    children, legal, visits, virtual = tree.children, tree.legal, tree.visits, tree.virtual
    best = -1
    best_score = -np.inf
    for a in range(children.shape[2]):
        if not legal[t, node, a]:
            continue
        child = children[t, node, a]
        n = 0 if child == UNVISITED else visits[t, child] + virtual[t, child]
        score = scratch[a] / total - n / (1.0 + sum_n)
        if score > best_score:
            best_score = score
            best = a
    return best


@njit(cache=True)
def gumbel_root_outputs(tree, gumbel, policy, action):
    """After the search: ``policy`` float32 [B, A] ← π' = softmax(logits + σ(q̂)) at each root (zero on illegal
    actions) and ``action`` int64 [B] ← the sequential-halving winner: among the most-visited root actions, the
    one maximising ``g + logits + σ(q̂)``."""
    children, legal, visits, virtual = tree.children, tree.legal, tree.visits, tree.virtual
    num_actions = children.shape[2]
    scratch = np.zeros(num_actions, dtype=np.float64)
    for t in range(children.shape[0]):
        sigma_completed_q(tree, t, ROOT, gumbel.c_visit, gumbel.c_scale, scratch)
        most = 0
        for a in range(num_actions):
            child = children[t, ROOT, a]
            if legal[t, ROOT, a] and child != UNVISITED:
                most = max(most, visits[t, child] + virtual[t, child])
        action[t] = _root_score_argmax(tree, t, gumbel.root_gumbel, scratch, most)
        total = _softmax_with_logits(tree, t, ROOT, scratch)
        for a in range(num_actions):
            policy[t, a] = scratch[a] if legal[t, ROOT, a] else 0.0
        for a in range(num_actions):
            policy[t, a] /= total
