"""Choosing where the next simulations go: one numba kernel walks every tree of a batch from its root to a leaf.

A virtual visit (a descent in flight, counted in ``virtual``) counts as a visit whose value is a loss (-1) for the
player who chose that edge, so several descents in one tree during one step spread over different leaves.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from app.search.gumbel import gumbel_interior_action, gumbel_root_action
from app.search.solver import LOSS, proven_best_action
from app.search.tree import LEAF_COLLISION, LEAF_NEW, LEAF_TERMINAL, NO_PARENT, ROOT, UNVISITED

RULE_PUCT = 0
RULE_UCB1 = 1
RULE_GUMBEL = 2

RULES = {"puct": RULE_PUCT, "ucb1": RULE_UCB1}


@njit(cache=True)
def puct_action(
    t,
    node,
    children,
    prior,
    legal,
    visits,
    virtual,
    value_sum,
    to_move,
    c_puct,
    c_puct_base,
    fpu,
    skip_lost,
    solved,
    proven,
):
    """argmax over legal a of ``Q(a) + c(N) P(a) sqrt(N) / (1 + n(a))`` (first index on ties); see MCTSConfig.

    ``skip_lost``: pass over children proven to lose for the mover (MCTS-solver at an undecided node)."""
    mover = to_move[t, node]
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


@njit(cache=True)
def ucb1_action(t, node, children, legal, visits, virtual, value_sum, to_move, c_uct):
    """The first legal child never tried, else argmax of ``Q(a) + c_uct sqrt(ln N / n(a))``."""
    mover = to_move[t, node]
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


@njit(cache=True)
def select_leaves(
    tree_ids,
    leaves_per_tree,
    num_simulations,
    children,
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
    num_nodes,
    rule,
    c_explore,
    c_puct_base,
    fpu,
    c_visit,
    c_scale,
    root_gumbel,
    considered_table,
    num_considered,
    out_tree,
    out_node,
    out_parent,
    out_action,
    out_kind,
    solver,
    solved,
    proven,
):
    """Descend up to ``leaves_per_tree`` times in each tree of ``tree_ids`` (int64 [G]), never past the tree's
    simulation budget (``num_simulations`` backups after the root's own).

    A descent stops at an edge with no child yet (a new node is created and reserved: LEAF_NEW), at a terminal node
    (LEAF_TERMINAL) or at a node created earlier in this step and not yet evaluated (a collision: dropped).
    Every kept descent adds a virtual visit to each node of its path. ``c_explore`` is c_puct or c_uct by rule.

    ``solver``: MCTS-solver (``app.search.solver``): a solved node below the root is revisited like a terminal
    (LEAF_TERMINAL), a PUCT or UCB1 root solved as a win or draw takes the proving move, and PUCT skips children proven lost.

    Writes kept leaves to ``out_*`` (int32 [G * leaves_per_tree]: tree, node, parent, action, kind) and returns
    (number kept, number of collisions).
    """
    scratch = np.zeros(children.shape[2], dtype=np.float64)
    count = 0
    collisions = 0
    for i in range(tree_ids.shape[0]):
        t = tree_ids[i]
        budget = num_simulations - (visits[t, ROOT] - 1) - virtual[t, ROOT]
        for _ in range(min(leaves_per_tree, budget)):
            node = ROOT
            par = NO_PARENT
            act = -1
            kind = LEAF_NEW
            while True:
                if terminal[t, node] or (solver and node != ROOT and solved[t, node]):
                    kind = LEAF_TERMINAL
                    break
                a = -1
                if solver and node == ROOT and rule != RULE_GUMBEL:
                    # Sequential halving keeps its schedule; Gumbel's choice is overridden after the search.
                    a = proven_best_action(t, node, children, legal, to_move, solved, proven)
                if a >= 0:
                    pass  # the move that proves the root's result
                elif rule == RULE_GUMBEL:
                    if node == ROOT:
                        a = gumbel_root_action(
                            t,
                            children,
                            prior,
                            logits,
                            legal,
                            visits,
                            virtual,
                            value_sum,
                            raw_value,
                            to_move,
                            c_visit,
                            c_scale,
                            root_gumbel,
                            considered_table,
                            num_considered,
                            scratch,
                        )
                    else:
                        a = gumbel_interior_action(
                            t,
                            node,
                            children,
                            prior,
                            logits,
                            legal,
                            visits,
                            virtual,
                            value_sum,
                            raw_value,
                            to_move,
                            c_visit,
                            c_scale,
                            scratch,
                        )
                elif rule == RULE_UCB1:
                    a = ucb1_action(t, node, children, legal, visits, virtual, value_sum, to_move, c_explore)
                else:
                    a = puct_action(
                        t,
                        node,
                        children,
                        prior,
                        legal,
                        visits,
                        virtual,
                        value_sum,
                        to_move,
                        c_explore,
                        c_puct_base,
                        fpu,
                        solver and not solved[t, node],
                        solved,
                        proven,
                    )
                child = children[t, node, a]
                if child == UNVISITED:
                    child = num_nodes[t]
                    num_nodes[t] += 1
                    children[t, node, a] = child
                    parent[t, child] = node
                    par = node
                    act = a
                    node = child
                    break
                if not expanded[t, child]:
                    kind = LEAF_COLLISION
                    break
                node = child
            if kind == LEAF_COLLISION:
                collisions += 1
                continue
            n = node
            while n != NO_PARENT:
                virtual[t, n] += 1
                n = parent[t, n]
            out_tree[count] = t
            out_node[count] = node
            out_parent[count] = par
            out_action[count] = act
            out_kind[count] = kind
            count += 1
    return count, collisions
