"""Writing a step's evaluations into the trees and backing values up to the roots."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from app.search.gumbel import MIN_PRIOR
from app.search.solver import propagate_proven
from app.search.tree import LEAF_NEW, NO_PARENT


class LeafEvaluations(NamedTuple):
    """What a step learned about its K pending leaves; row j belongs to row j of the step's ``PendingLeaves``.

    ``prior`` float32 [K, A], ``legal`` bool [K, A], ``to_move`` int32 [K], ``value`` float32 [K, P] in absolute
    player order (for a terminal state: its returns), ``terminal`` bool [K]. Rows of LEAF_TERMINAL revisits are not
    read.
    """

    prior: np.ndarray
    legal: np.ndarray
    to_move: np.ndarray
    value: np.ndarray
    terminal: np.ndarray

    @classmethod
    def empty(cls, count: int, action_size: int, num_players: int) -> LeafEvaluations:
        return cls(
            prior=np.zeros((count, action_size), dtype=np.float32),
            legal=np.zeros((count, action_size), dtype=np.bool_),
            to_move=np.full(count, -1, dtype=np.int32),
            value=np.zeros((count, num_players), dtype=np.float32),
            terminal=np.zeros(count, dtype=np.bool_),
        )


@njit(cache=True)
def _store_logits(logits, leaf_prior, t, node, j):
    """``logits[t, node]`` ← log(max(leaf_prior[j], MIN_PRIOR)) (float32 [B, N, A] from float32 [K, A])."""
    for a in range(logits.shape[2]):
        logits[t, node, a] = math.log(max(leaf_prior[j, a], MIN_PRIOR))


@njit(cache=True)
def _backup_path(tree, t, node, source):
    """Add ``source[t, node]`` (float32 [B, N, P]) to every node from ``node`` up to the root, turning one
    virtual visit of each into a real one."""
    visits, virtual, value_sum, parent = tree.visits, tree.virtual, tree.value_sum, tree.parent
    n = node
    while n != NO_PARENT:
        visits[t, n] += 1
        virtual[t, n] -= 1
        for p in range(value_sum.shape[2]):
            value_sum[t, n, p] += source[t, node, p]
        n = parent[t, n]


@njit(cache=True)
def backup_leaves(tree, count, pending, evals, store_logits, solver):
    """Store the evaluations of a step's new leaves, then add each leaf's value (absolute player order) to every
    node on its path, turning the descent's virtual visits into real ones.

    ``pending``: the step's PendingLeaves (the first ``count`` rows of ``select_leaves``' output); ``evals``: its
    LeafEvaluations. A LEAF_TERMINAL revisit backs the node's stored returns up again. ``store_logits``: also keep
    log-priors (floored at MIN_PRIOR) for the Gumbel formulas. ``solver``: a new terminal leaf is solved and its
    ancestors now decided are marked (``solver.propagate_proven``); a revisited solved node backs up its proven
    value.
    """
    # The new leaf's evaluation is stored here rather than in a helper: a call that takes the tree and the
    # evaluations costs more than the stores (numba passes every array of both tuples), measured 2x on backup.
    leaf_tree, leaf_node, kind, terminal = pending.tree, pending.node, pending.kind, evals.terminal
    solved, proven, raw_value = tree.solved, tree.proven, tree.raw_value
    for j in range(count):
        t = leaf_tree[j]
        node = leaf_node[j]
        is_new = kind[j] == LEAF_NEW
        if is_new:
            tree.expanded[t, node] = True
            raw_value[t, node, :] = evals.value[j]
            if terminal[j]:
                tree.terminal[t, node] = True
            else:
                tree.prior[t, node, :] = evals.prior[j]
                tree.legal[t, node, :] = evals.legal[j]
                tree.to_move[t, node] = evals.to_move[j]
                if store_logits:
                    _store_logits(tree.logits, evals.prior, t, node, j)
        if solver and is_new and terminal[j]:
            solved[t, node] = True
            proven[t, node, :] = raw_value[t, node, :]
        if solver and solved[t, node]:
            _backup_path(tree, t, node, proven)
            propagate_proven(tree, t, node)
        else:
            _backup_path(tree, t, node, raw_value)
