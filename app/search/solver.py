"""MCTS-solver (Winands, Björnsson and Saito 2008): exact results found in the tree are backed up as proven values.

A node is solved when it is terminal, when one of its children is proven to win for the node's mover, or when
every legal child is solved (its value is then the child best for the mover). A solved node below the root is
treated as a terminal: a descent that reaches it backs its proven value up again, with no ``game.apply`` and no
evaluator call, so simulations stop being spent on decided positions while the parent's Q converges to the
exact value. PUCT never descends into a child proven to lose for the mover while the node is undecided, a PUCT root
solved as a win or a draw sends every later simulation to the move that proves it, and the root reports its
proven move so the caller plays a proven win instead of sampling from the visits.

Two players only: with values in [-1, 1] and a zero-sum result, "the mover's best" fixes the whole value vector.
With three or more players two children can tie for the mover and differ for the others, so the search refuses
``solver=True`` there.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from app.games.base import Game, State
from app.search.tree import NO_PARENT, ROOT, UNVISITED, Tree

WIN = 1.0
"""A proven value of at least this for the mover is a win (games return +1 / 0 / -1)."""
LOSS = -1.0
"""A proven value of at most this for the mover is a loss."""


@njit(cache=True)
def propagate_proven(tree, t, node):
    """After ``node`` of tree ``t`` became solved, mark its ancestors that are now decided (``tree.solved``,
    ``tree.proven``)."""
    children, legal, to_move, parent = tree.children, tree.legal, tree.to_move, tree.parent
    solved, proven = tree.solved, tree.proven
    child = node
    while solved[t, child]:
        n = parent[t, child]
        if n == NO_PARENT or solved[t, n]:
            return
        mover = to_move[t, n]
        best = child
        if proven[t, child, mover] < WIN:
            best_value = -np.inf
            for a in range(children.shape[2]):
                if not legal[t, n, a]:
                    continue
                c = children[t, n, a]
                if c == UNVISITED or not solved[t, c]:
                    return
                if proven[t, c, mover] > best_value:
                    best_value = proven[t, c, mover]
                    best = c
        solved[t, n] = True
        proven[t, n, :] = proven[t, best, :]
        child = n


@njit(cache=True)
def proven_best_action(tree, t, node):
    """At a node solved as a win or a draw for its mover, the first action whose child proves that result;
    -1 at an undecided or lost node (a proven win below an undecided node solves it, so none is missed)."""
    children, legal, solved, proven = tree.children, tree.legal, tree.solved, tree.proven
    if not solved[t, node]:
        return -1
    mover = tree.to_move[t, node]
    target = proven[t, node, mover]
    if target <= LOSS:
        return -1
    for a in range(children.shape[2]):
        if not legal[t, node, a]:
            continue
        c = children[t, node, a]
        if c != UNVISITED and solved[t, c] and proven[t, c, mover] >= target:
            return a
    return -1


def root_proven_actions(tree: Tree, immediate: np.ndarray) -> np.ndarray:
    """int64 [B]: the move each root is proven to get its best result with, or -1 where it is undecided or lost.

    A root solved as a win plays a winning child; one solved as a draw (every child solved, none wins) plays a
    drawing child; ``immediate`` (int64 [B], from ``immediate_wins``) covers a win the search never visited.
    Among several, the most visited.
    """
    out = np.array(immediate, dtype=np.int64)
    b_size = tree.batch_size
    for b in range(b_size):
        if out[b] >= 0 or not tree.solved[b, ROOT]:
            continue
        mover = tree.to_move[b, ROOT]
        target = tree.proven[b, ROOT, mover]
        if target <= LOSS:
            continue
        kids = tree.children[b, ROOT]
        best, best_visits = -1, -1
        for a in np.flatnonzero(tree.legal[b, ROOT]):
            c = kids[a]
            if c == UNVISITED or not tree.solved[b, c] or tree.proven[b, c, mover] < target:
                continue
            if tree.visits[b, c] > best_visits:
                best, best_visits = int(a), int(tree.visits[b, c])
        out[b] = best
    return out


def immediate_wins(game: Game, states: list[State], legal: np.ndarray) -> np.ndarray:
    """int64 [B]: for each state, the first legal move that ends the game with a win for the mover, or -1.

    Costs one ``game.apply`` per legal move, a few percent of a search of ~100 simulations.
    """
    out = np.full(len(states), -1, dtype=np.int64)
    for b, state in enumerate(states):
        mover = game.current_player(state)
        for a in np.flatnonzero(legal[b]):
            after = game.apply(state, int(a))
            if game.is_terminal(after) and game.returns(after)[mover] >= WIN:
                out[b] = int(a)
                break
    return out
