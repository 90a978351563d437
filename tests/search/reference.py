"""A plain, one-leaf-at-a-time PUCT search with one Python object per node: the readable reference that the
batched array search must agree with visit for visit."""

from __future__ import annotations

import math

import numpy as np

from app.games.base import Game, State
from app.search.config import MCTSConfig
from app.search.types import EvaluateFn


class Node:
    def __init__(self, game: Game, state: State, evaluate_fn: EvaluateFn) -> None:
        self.state = state
        self.visits = 0
        self.value_sum = np.zeros(game.num_players)
        self.children: dict[int, Node] = {}
        self.terminal = game.is_terminal(state)
        if self.terminal:
            self.value = game.returns(state).astype(np.float32)
            return
        self.player = game.current_player(state)
        self.legal = game.legal_mask(state)
        priors, values = evaluate_fn(game.encode(state)[None], self.legal[None])
        self.prior = priors[0].astype(np.float32)
        # The network answers in mover-relative order: entry i belongs to player (mover + i) % P.
        p = game.num_players
        self.value = np.array([values[0][(q - self.player) % p] for q in range(p)], dtype=np.float32)


def reference_visits(
    game: Game, state: State, evaluate_fn: EvaluateFn, config: MCTSConfig
) -> tuple[np.ndarray, np.ndarray]:
    """(root child visits [A], root mean value [P]) after ``config.num_simulations`` PUCT simulations."""
    root = Node(game, state, evaluate_fn)
    root.visits = 1
    root.value_sum += root.value
    for _ in range(config.num_simulations):
        path = [root]
        node = root
        while not node.terminal:
            action = _puct(node, config)
            if action not in node.children:
                child = Node(game, game.apply(node.state, action), evaluate_fn)
                node.children[action] = child
                path.append(child)
                break
            node = node.children[action]
            path.append(node)
        value = path[-1].value.astype(np.float64)
        for n in path:
            n.visits += 1
            n.value_sum += value
    visits = np.zeros(game.action_size)
    for action, child in root.children.items():
        visits[action] = child.visits
    return visits, root.value_sum / root.visits


def _puct(node: Node, config: MCTSConfig) -> int:
    m = node.player
    n_parent = node.visits
    c = config.c_puct + math.log((1.0 + n_parent + config.c_puct_base) / config.c_puct_base)
    scale = c * math.sqrt(n_parent)
    fpu_q = node.value_sum[m] / node.visits - config.fpu
    best, best_score = -1, -math.inf
    for a in np.flatnonzero(node.legal):
        child = node.children.get(int(a))
        q, n = (fpu_q, 0) if child is None else (child.value_sum[m] / child.visits, child.visits)
        score = q + scale * float(node.prior[a]) / (1.0 + n)
        if score > best_score:
            best, best_score = int(a), score
    return best
