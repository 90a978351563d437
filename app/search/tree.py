"""The batched search tree: B independent trees held in arrays, no Python object per node.

Node 0 of every tree is its root; nodes are numbered in the order they are created, so a tree with
``num_simulations`` simulations needs at most ``num_simulations + 1`` nodes. ``Tree`` is a ``NamedTuple`` of
arrays, which the numba kernels take as one argument; game states live beside it in one Python list per tree,
indexed by node, because only the game can look inside them.

How the kernels use it, for speed (each measured): a function that reads a field in a loop binds it to a local
first (``legal = tree.legal``), as numba counts a reference each time an array is taken out of the tuple; small
helpers called once per node of a descent are inlined by numba (``inline="always"``), since a call that is not
inlined passes every array of the tuple one by one; per-edge arithmetic is written out, not called.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

ROOT = 0
"""Index of the root node in every tree."""
UNVISITED = -1
"""``children[b, n, a]`` of an edge whose child has not been created yet."""
NO_PARENT = -1
"""``parent[b, ROOT]``."""

# What a descent found (``kind`` of a pending leaf).
LEAF_NEW = 0  # a new node was created: its state must be made (game.apply) and evaluated
LEAF_TERMINAL = 1  # an existing terminal node: its stored returns are backed up again
LEAF_COLLISION = 2  # reached a node still waiting for its evaluation in the same step: nothing to back up


class Tree(NamedTuple):
    """Arrays of B trees with up to N nodes each over A actions and P players.

    ``children``: int32 [B, N, A], child node of each edge or UNVISITED.
    ``prior``: float32 [B, N, A], the prior of each edge (root: after Dirichlet noise).
    ``logits``: float32 [B, N, A], log(max(prior, MIN_PRIOR)); filled for Gumbel searches only.
    ``legal``: bool [B, N, A].
    ``visits``: int32 [B, N], backups through each node (its own evaluation included).
    ``virtual``: int32 [B, N], descents in flight through each node (virtual losses).
    ``value_sum``: float64 [B, N, P], sum of backed-up values in absolute player order.
    ``raw_value``: float32 [B, N, P], the node's own evaluation (network value or terminal returns), absolute.
    ``to_move``: int32 [B, N], player to move (-1 at terminal nodes).
    ``expanded``: bool [B, N], evaluated (priors and value known).
    ``terminal``: bool [B, N].
    ``parent``: int32 [B, N], parent node or NO_PARENT.
    ``num_nodes``: int32 [B], nodes created so far.
    ``solved``: bool [B, N], the node's game-theoretic value is known (MCTS-solver; terminal nodes included).
    ``proven``: float32 [B, N, P], that value in absolute player order, where ``solved``.
    """

    children: np.ndarray
    prior: np.ndarray
    logits: np.ndarray
    legal: np.ndarray
    visits: np.ndarray
    virtual: np.ndarray
    value_sum: np.ndarray
    raw_value: np.ndarray
    to_move: np.ndarray
    expanded: np.ndarray
    terminal: np.ndarray
    parent: np.ndarray
    num_nodes: np.ndarray
    solved: np.ndarray
    proven: np.ndarray

    @classmethod
    def empty(cls, batch: int, max_nodes: int, action_size: int, num_players: int) -> Tree:
        b, n, a, p = batch, max_nodes, action_size, num_players
        return cls(
            children=np.full((b, n, a), UNVISITED, dtype=np.int32),
            prior=np.zeros((b, n, a), dtype=np.float32),
            logits=np.zeros((b, n, a), dtype=np.float32),
            legal=np.zeros((b, n, a), dtype=np.bool_),
            visits=np.zeros((b, n), dtype=np.int32),
            virtual=np.zeros((b, n), dtype=np.int32),
            value_sum=np.zeros((b, n, p), dtype=np.float64),
            raw_value=np.zeros((b, n, p), dtype=np.float32),
            to_move=np.full((b, n), -1, dtype=np.int32),
            expanded=np.zeros((b, n), dtype=np.bool_),
            terminal=np.zeros((b, n), dtype=np.bool_),
            parent=np.full((b, n), NO_PARENT, dtype=np.int32),
            num_nodes=np.zeros(b, dtype=np.int32),
            solved=np.zeros((b, n), dtype=np.bool_),
            proven=np.zeros((b, n, p), dtype=np.float32),
        )

    @property
    def batch_size(self) -> int:
        return self.children.shape[0]

    def root_child_visits(self) -> np.ndarray:
        """int32 [B, A]: visits of each root child (0 where the child was never created)."""
        kids = self.children[:, ROOT, :]
        b = np.arange(self.batch_size)[:, None]
        return np.where(kids == UNVISITED, 0, self.visits[b, np.maximum(kids, 0)]).astype(np.int32)

    def root_values(self) -> np.ndarray:
        """float32 [B, P]: mean backed-up value of each root, absolute player order."""
        return (self.value_sum[:, ROOT, :] / np.maximum(self.visits[:, ROOT, None], 1)).astype(np.float32)


class PendingLeaves(NamedTuple):
    """Where one step's descents ended, written by ``select_leaves``, read by ``backup_leaves`` (K = capacity;
    the first ``count`` rows are filled).

    ``tree``, ``node``, ``parent``, ``action``: int32 [K], the leaf's tree, its node, and for a LEAF_NEW the
    parent and the edge it was created on (NO_PARENT and -1 otherwise); ``kind``: int32 [K], LEAF_NEW or
    LEAF_TERMINAL.
    """

    tree: np.ndarray
    node: np.ndarray
    parent: np.ndarray
    action: np.ndarray
    kind: np.ndarray

    @classmethod
    def empty(cls, capacity: int) -> PendingLeaves:
        return cls(*(np.empty(capacity, dtype=np.int32) for _ in cls._fields))
