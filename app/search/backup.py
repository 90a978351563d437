"""Writing a step's evaluations into the trees and backing values up to the roots."""

from __future__ import annotations

import math

from numba import njit

from app.search.gumbel import MIN_PRIOR
from app.search.solver import propagate_proven
from app.search.tree import LEAF_NEW, NO_PARENT


@njit(cache=True)
def backup_leaves(
    count,
    out_tree,
    out_node,
    out_kind,
    leaf_prior,
    leaf_legal,
    leaf_to_move,
    leaf_value,
    leaf_terminal,
    store_logits,
    prior,
    logits,
    legal,
    visits,
    virtual,
    value_sum,
    raw_value,
    to_move,
    expanded,
    terminal,
    parent,
    solver,
    solved,
    proven,
    children,
):
    """Store the evaluations of a step's new leaves, then add each leaf's value (absolute player order) to every
    node on its path, turning the descent's virtual visits into real ones.

    Row j of ``leaf_*`` belongs to leaf j of ``out_*`` (the first ``count`` rows of ``select_leaves``' output):
    ``leaf_prior`` float32 [K, A], ``leaf_legal`` bool [K, A], ``leaf_to_move`` int32 [K], ``leaf_value`` float32
    [K, P] (for a terminal state: its returns), ``leaf_terminal`` bool [K]. Rows of LEAF_TERMINAL revisits are not
    read: the node's stored returns are backed up again. ``store_logits``: also keep log-priors (floored at
    MIN_PRIOR) for the Gumbel formulas. ``solver``: a new terminal leaf is solved and its ancestors now decided are
    marked (``solver.propagate_proven``); a revisited solved node backs up its proven value.
    """
    num_players = value_sum.shape[2]
    for j in range(count):
        t = out_tree[j]
        node = out_node[j]
        if out_kind[j] == LEAF_NEW:
            expanded[t, node] = True
            for p in range(num_players):
                raw_value[t, node, p] = leaf_value[j, p]
            if leaf_terminal[j]:
                terminal[t, node] = True
            else:
                prior[t, node, :] = leaf_prior[j]
                legal[t, node, :] = leaf_legal[j]
                if store_logits:
                    for a in range(prior.shape[2]):
                        logits[t, node, a] = math.log(max(leaf_prior[j, a], MIN_PRIOR))
                to_move[t, node] = leaf_to_move[j]
        source = raw_value
        if solver:
            if out_kind[j] == LEAF_NEW and leaf_terminal[j]:
                solved[t, node] = True
                proven[t, node, :] = raw_value[t, node, :]
            if solved[t, node]:
                source = proven
        n = node
        while n != NO_PARENT:
            visits[t, n] += 1
            virtual[t, n] -= 1
            for p in range(num_players):
                value_sum[t, n, p] += source[t, node, p]
            n = parent[t, n]
        if solver and solved[t, node]:
            propagate_proven(t, node, children, legal, to_move, parent, solved, proven)
