"""Choosing where the next simulations go: one numba kernel walks every tree of a batch from its root to a leaf.

A virtual visit (a descent in flight, counted in ``virtual``) counts as a visit whose value is a loss (-1) for the
player who chose that edge, so several descents in one tree during one step spread over different leaves.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from app.search.gumbel import gumbel_interior_action, gumbel_root_action
from app.search.solver import LOSS, proven_best_action
from app.search.tree import (
    LEAF_COLLISION,
    LEAF_NEW,
    LEAF_TERMINAL,
    NO_PARENT,
    ROOT,
    UNVISITED,
)

RULE_PUCT = 0
RULE_UCB1 = 1
RULE_GUMBEL = 2

RULES = {"puct": RULE_PUCT, "ucb1": RULE_UCB1}


class SelectionParams(NamedTuple):
    """The selection side of a search, fixed for its whole life (see ``MCTSConfig``).

    ``rule``: RULE_PUCT, RULE_UCB1 or RULE_GUMBEL; ``c_explore``: c_puct or c_uct by rule; ``solver``:
    MCTS-solver on; ``leaves_per_tree``: descents per tree and step; ``num_simulations``: each tree's budget.
    """

    rule: int
    c_explore: float
    c_puct_base: float
    fpu: float
    solver: bool
    leaves_per_tree: int
    num_simulations: int


@njit(cache=True, inline="always")
def puct_action(tree, t, node, c_puct, c_puct_base, fpu, skip_lost):
    """argmax over legal a of ``Q(a) + c(N) P(a) sqrt(N) / (1 + n(a))`` (first index on ties); see MCTSConfig.

    ``skip_lost``: pass over children proven to lose for the mover (MCTS-solver at an undecided node)."""
    children, prior, legal, solved, proven = tree.children, tree.prior, tree.legal, tree.solved, tree.proven
    visits, virtual, value_sum = tree.visits, tree.virtual, tree.value_sum
    mover = tree.to_move[t, node]
    parent_n = visits[t, node] + virtual[t, node]
    scale = (c_puct + math.log((1.0 + parent_n + c_puct_base) / c_puct_base)) * math.sqrt(parent_n)
    fpu_q = value_sum[t, node, mover] / visits[t, node] - fpu
    best = -1
    best_score = -np.inf
    for a in range(children.shape[2]):
        if not legal[t, node, a]:
            continue
        child = children[t, node, a]
        if child == UNVISITED:
            q = fpu_q
            n = 0
        else:
            if skip_lost and solved[t, child] and proven[t, child, mover] <= LOSS:
                continue
            n = visits[t, child] + virtual[t, child]
            q = (value_sum[t, child, mover] - virtual[t, child]) / n
        score = q + scale * prior[t, node, a] / (1.0 + n)
        if score > best_score:
            best_score = score
            best = a
    return best


@njit(cache=True, inline="always")
def ucb1_action(tree, t, node, c_uct):
    """The first legal child never tried, else argmax of ``Q(a) + c_uct sqrt(ln N / n(a))``."""
    children, legal = tree.children, tree.legal
    visits, virtual, value_sum = tree.visits, tree.virtual, tree.value_sum
    mover = tree.to_move[t, node]
    log_n = math.log(visits[t, node] + virtual[t, node])
    best = -1
    best_score = -np.inf
    for a in range(children.shape[2]):
        if not legal[t, node, a]:
            continue
        child = children[t, node, a]
        if child == UNVISITED:
            return a
        n = visits[t, child] + virtual[t, child]
        score = (value_sum[t, child, mover] - virtual[t, child]) / n + c_uct * math.sqrt(log_n / n)
        if score > best_score:
            best_score = score
            best = a
    return best


@njit(cache=True, inline="always")
def _choose_action(tree, t, node, params, gumbel, scratch):
    """The edge a descent takes at the expanded, non-terminal ``node`` of tree ``t`` under ``params.rule``."""
    if params.solver and node == ROOT and params.rule != RULE_GUMBEL:
        # Sequential halving keeps its schedule; Gumbel's choice is overridden after the search.
        a = proven_best_action(tree, t, node)
        if a >= 0:
            return a  # the move that proves the root's result
    if params.rule == RULE_GUMBEL:
        if node == ROOT:
            return gumbel_root_action(tree, t, gumbel, scratch)
        return gumbel_interior_action(tree, t, node, gumbel, scratch)
    if params.rule == RULE_UCB1:
        return ucb1_action(tree, t, node, params.c_explore)
    skip_lost = params.solver and not tree.solved[t, node]
    return puct_action(tree, t, node, params.c_explore, params.c_puct_base, params.fpu, skip_lost)


@njit(cache=True, inline="always")
def _create_child(tree, t, node, a):
    """Reserve the next node of tree ``t`` as the child of ``node`` on edge ``a``; returns it."""
    child = tree.num_nodes[t]
    tree.num_nodes[t] += 1
    tree.children[t, node, a] = child
    tree.parent[t, child] = node
    return child


@njit(cache=True, inline="always")
def _descend(tree, t, params, gumbel, scratch):
    """One descent of tree ``t`` from its root: (leaf node, parent, action, kind).

    Parent and action are those of a LEAF_NEW (NO_PARENT and -1 otherwise). With the solver a solved node below
    the root ends the descent like a terminal one."""
    children, expanded, terminal, solved = tree.children, tree.expanded, tree.terminal, tree.solved
    node = ROOT
    while True:
        if terminal[t, node] or (params.solver and node != ROOT and solved[t, node]):
            return node, NO_PARENT, -1, LEAF_TERMINAL
        a = _choose_action(tree, t, node, params, gumbel, scratch)
        child = children[t, node, a]
        if child == UNVISITED:
            return _create_child(tree, t, node, a), node, a, LEAF_NEW
        if not expanded[t, child]:
            return child, NO_PARENT, -1, LEAF_COLLISION
        node = child


@njit(cache=True, inline="always")
def _add_virtual_visits(tree, t, node):
    """A descent in flight through every node from ``node`` up to the root."""
    virtual, parent = tree.virtual, tree.parent
    n = node
    while n != NO_PARENT:
        virtual[t, n] += 1
        n = parent[t, n]


@njit(cache=True)
def select_leaves(tree, tree_ids, params, gumbel, pending):
    """Descend up to ``params.leaves_per_tree`` times in each tree of ``tree_ids`` (int64 [G]), never past the
    tree's simulation budget (``params.num_simulations`` backups after the root's own).

    A descent stops at an edge with no child yet (a new node is created and reserved: LEAF_NEW), at a terminal node
    (LEAF_TERMINAL) or at a node created earlier in this step and not yet evaluated (a collision: dropped).
    Every kept descent adds a virtual visit to each node of its path. ``params``: SelectionParams; ``gumbel``:
    GumbelParams (read by RULE_GUMBEL only).

    ``params.solver``: MCTS-solver (``app.search.solver``): a solved node below the root is revisited like a terminal
    (LEAF_TERMINAL), a PUCT or UCB1 root solved as a win or draw takes the proving move, and PUCT skips children proven lost.

    Writes kept leaves to ``pending`` (PendingLeaves of capacity G * leaves_per_tree) and returns
    (number kept, number of collisions).
    """
    scratch = np.zeros(tree.children.shape[2], dtype=np.float64)
    visits, virtual = tree.visits, tree.virtual
    out_tree, out_node, out_parent, out_action, out_kind = pending
    count = 0
    collisions = 0
    for i in range(tree_ids.shape[0]):
        t = tree_ids[i]
        budget = params.num_simulations - (visits[t, ROOT] - 1) - virtual[t, ROOT]
        for _ in range(min(params.leaves_per_tree, budget)):
            node, par, act, kind = _descend(tree, t, params, gumbel, scratch)
            if kind == LEAF_COLLISION:
                collisions += 1
                continue
            _add_virtual_visits(tree, t, node)
            out_tree[count] = t
            out_node[count] = node
            out_parent[count] = par
            out_action[count] = act
            out_kind[count] = kind
            count += 1
    return count, collisions
