"""Batched MCTS: many independent trees advance together and their pending leaves share one evaluation call.

Each step, a numba kernel descends every tree of a group to a leaf (``selection.select_leaves``), the game makes
the new leaves' states (``game.apply`` runs only here, once per created node), one evaluator call values all of
them, and a second kernel backs the values up (``backup.backup_leaves``).

With ``overlap``, the trees are split in two groups and the network call of one group runs on a worker thread
while the other group is descended and encoded, so the tree work hides behind the network's. That pays when the
network waits on an accelerator with the GIL released; with a one-thread CPU network on a busy 2-core machine the
two threads contend (for the cores and for the GIL around each torch call) and serial steps measured as fast or
faster (bench/search.py prints both), so by default only evaluators on another device overlap.

Values are vectors over players in absolute order; the player to move at a node maximises their own component,
which makes the same search correct for 2, 3 and 4 players.
"""

from __future__ import annotations

import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from app.core.errors import InvalidConfig
from app.games.base import Game, State
from app.search.backup import LeafEvaluations, backup_leaves
from app.search.config import MCTSConfig
from app.search.gumbel import MIN_PRIOR, GumbelParams, considered_visits_table, gumbel_root_outputs
from app.search.leaves import LeafEvaluator, NetworkLeaves
from app.search.selection import RULE_GUMBEL, RULES, SelectionParams, select_leaves
from app.search.solver import immediate_wins, root_proven_actions
from app.search.tree import LEAF_NEW, ROOT, PendingLeaves, Tree
from app.search.types import EvaluateFn, SearchOutput

_SWITCH_INTERVAL = 0.0002
"""Seconds between GIL hand-offs while a network evaluation runs on the worker thread."""


@dataclass
class _Run:
    """One call of ``run()``: the trees, the game states beside them (``states[b][n]``: tree b, node n) and the
    Gumbel noise of their roots."""

    tree: Tree
    states: list[list[State]]
    gumbel: GumbelParams


@dataclass
class _Step:
    """One group's pending leaves between selection and backup (K = leaves kept this step)."""

    count: int
    pending: PendingLeaves
    evals: LeafEvaluations  # [K] rows; prior and value of the evaluated rows arrive in _finish
    eval_rows: np.ndarray  # int64 [E], rows of the leaves that need the evaluator
    prepared: Any  # the evaluator's input for those rows, or None when E == 0


class BatchedMCTS:
    """``BatchedMCTS(game, evaluate_fn, config).run(states, rng, add_noise=...)``.

    ``evaluate_fn`` is an ``EvaluateFn`` (network contract, see ``app.search.types``) or a ``LeafEvaluator``
    (``app.search.leaves``; e.g. ``RolloutLeaves`` for network-free search). ``overlap``: run evaluator calls on a
    worker thread, pipelined with the tree work (True), or on the calling thread (False); None (default) overlaps
    when the evaluator reports a non-CPU ``device`` (as ``NetworkEvaluator`` does). Results are the same either way.

    Memory: B trees of ``num_simulations + 1`` nodes × A actions (about 9 bytes per edge).
    """

    def __init__(
        self,
        game: Game,
        evaluate_fn: EvaluateFn | LeafEvaluator,
        config: MCTSConfig,
        *,
        overlap: bool | None = None,
    ) -> None:
        if not isinstance(config, MCTSConfig):
            raise TypeError(f"config must be an MCTSConfig, got {type(config).__name__}")
        self.game = game
        self.config = config
        self.leaves: LeafEvaluator = (
            evaluate_fn if isinstance(evaluate_fn, LeafEvaluator) else NetworkLeaves(game, evaluate_fn)
        )
        self.overlap = _runs_off_cpu(evaluate_fn) if overlap is None else bool(overlap)
        if config.solver and game.num_players != 2:
            raise InvalidConfig(
                f"solver=True needs a two-player game ({game.config_key} has {game.num_players} players): "
                "with more players a proven value is not unique; leave solver off"
            )
        self._params = SelectionParams(
            rule=RULE_GUMBEL if config.gumbel else RULES[config.selection],
            c_explore=float(config.c_uct if config.selection == "ucb1" else config.c_puct),
            c_puct_base=float(config.c_puct_base),
            fpu=float(config.fpu),
            solver=bool(config.solver),
            leaves_per_tree=int(config.leaves_per_step),
            num_simulations=int(config.num_simulations),
        )
        self._table = considered_visits_table(
            config.max_considered_actions if config.gumbel else 0, config.num_simulations
        )

    def run(self, states: list[State], rng: np.random.Generator, *, add_noise: bool) -> SearchOutput:
        """Search from each of B non-terminal ``states``.

        ``add_noise``: PUCT mixes Dirichlet noise into the root priors; Gumbel samples its root Gumbel noise
        (without it the noise is zero, so the search is greedy and deterministic given the evaluator).
        All randomness comes from ``rng``, drawn in a fixed order, so a seeded run is reproducible.
        """
        states = list(states)
        self._check_roots(states, rng)
        cfg = self.config
        run = self._start(states, rng, add_noise=add_noise)
        self._search(run, rng)
        out = self._outputs(run)
        if not cfg.solver:
            return out
        proven = root_proven_actions(run.tree, immediate_wins(self.game, states, run.tree.legal[:, ROOT]))
        action = out.action if out.action is None else np.where(proven >= 0, proven, out.action)
        return replace(out, action=action, proven_action=proven)

    def _check_roots(self, states: list[State], rng: np.random.Generator) -> None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
            )
        if not states:
            raise ValueError("run() needs at least one state to search from, got an empty list")
        for i, state in enumerate(states):
            if self.game.is_terminal(state):
                raise ValueError(
                    f"states[{i}] is terminal: search needs positions where a player has a move to make "
                    f"(check game.is_terminal before searching)"
                )

    def _start(self, states: list[State], rng: np.random.Generator, *, add_noise: bool) -> _Run:
        """The trees with their roots evaluated and the root noise drawn (Gumbel noise, or Dirichlet noise mixed
        into the root priors), in that order from ``rng``."""
        game, cfg = self.game, self.config
        tree = Tree.empty(len(states), cfg.num_simulations + 1, game.action_size, game.num_players)
        self._expand_roots(tree, states, rng)
        root_gumbel = np.zeros((tree.batch_size, game.action_size), dtype=np.float64)
        if cfg.gumbel:
            if add_noise and cfg.gumbel_scale > 0:
                root_gumbel = cfg.gumbel_scale * rng.gumbel(size=root_gumbel.shape)
        elif add_noise and cfg.dirichlet_epsilon > 0:
            self._add_dirichlet_noise(tree, rng)
        num_considered = np.minimum(cfg.max_considered_actions, tree.legal[:, ROOT].sum(axis=1)).astype(
            np.int32
        )
        gumbel = GumbelParams(
            c_visit=float(cfg.c_visit),
            c_scale=float(cfg.c_scale),
            root_gumbel=root_gumbel,
            considered_table=self._table,
            num_considered=num_considered,
        )
        return _Run(tree=tree, states=[[state] for state in states], gumbel=gumbel)

    def _expand_roots(self, tree: Tree, states: list[State], rng: np.random.Generator) -> None:
        game = self.game
        to_move = np.array([game.current_player(s) for s in states], dtype=np.int32)
        legal = np.stack([game.legal_mask(s) for s in states]).astype(np.bool_)
        priors, values = self.leaves.compute(self.leaves.prepare(states, to_move, legal), rng)
        tree.prior[:, ROOT] = priors
        tree.logits[:, ROOT] = np.log(np.maximum(priors, MIN_PRIOR))
        tree.legal[:, ROOT] = legal
        tree.to_move[:, ROOT] = to_move
        tree.raw_value[:, ROOT] = values
        tree.value_sum[:, ROOT] = values
        tree.visits[:, ROOT] = 1
        tree.expanded[:, ROOT] = True
        tree.num_nodes[:] = 1

    def _add_dirichlet_noise(self, tree: Tree, rng: np.random.Generator) -> None:
        cfg = self.config
        legal = tree.legal[:, ROOT]
        noise = np.where(legal, rng.gamma(cfg.dirichlet_alpha, size=legal.shape), 0.0)
        noise /= np.maximum(noise.sum(axis=1, keepdims=True), np.finfo(np.float64).tiny)
        mixed = (1.0 - cfg.dirichlet_epsilon) * tree.prior[:, ROOT] + cfg.dirichlet_epsilon * noise
        tree.prior[:, ROOT] = np.where(legal, mixed, 0.0)

    def _search(self, run: _Run, rng: np.random.Generator) -> None:
        ids = np.arange(run.tree.batch_size, dtype=np.int64)
        if not (self.overlap and self.leaves.threaded and run.tree.batch_size >= 2):
            while (step := self._select(run, ids)) is not None:
                self._finish(run, step, self._compute(step, rng))
            return
        groups = np.array_split(ids, 2)
        # The network thread needs the GIL briefly before and after each forward pass; with Python's default 5 ms
        # switch interval it would wait out the whole of this thread's tree work instead of overlapping it.
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(switch_interval, _SWITCH_INTERVAL))
        try:
            self._pipeline(run, rng, groups)
        finally:
            sys.setswitchinterval(switch_interval)

    def _pipeline(self, run: _Run, rng: np.random.Generator, groups: list[np.ndarray]) -> None:
        """Alternate two groups of trees: one group's evaluation runs on a worker thread while the other group
        is backed up, descended and encoded here."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mcts-eval") as pool:

            def start(group: np.ndarray) -> tuple[_Step, Future | None] | None:
                step = self._select(run, group)
                if step is None:
                    return None
                future = (
                    None if step.prepared is None else pool.submit(self.leaves.compute, step.prepared, rng)
                )
                return step, future

            pending = [start(g) for g in groups]
            while any(p is not None for p in pending):
                for i, group in enumerate(groups):
                    if pending[i] is None:
                        continue
                    step, future = pending[i]
                    self._finish(run, step, None if future is None else future.result())
                    pending[i] = start(group)

    def _select(self, run: _Run, ids: np.ndarray) -> _Step | None:
        """Descend the trees ``ids``, create the new leaves' states and prepare the evaluator's batch; None when
        every tree of ``ids`` has spent its budget."""
        pending = PendingLeaves.empty(ids.size * self.config.leaves_per_step)
        count, _ = select_leaves(run.tree, ids, self._params, run.gumbel, pending)
        if count == 0:
            return None
        evals = LeafEvaluations.empty(count, self.game.action_size, self.game.num_players)
        eval_rows, eval_states = self._make_leaf_states(run.states, pending, count, evals)
        rows = np.array(eval_rows, dtype=np.int64)
        prepared = None
        if eval_states:
            prepared = self.leaves.prepare(eval_states, evals.to_move[rows], evals.legal[rows])
        return _Step(count=count, pending=pending, evals=evals, eval_rows=rows, prepared=prepared)

    def _make_leaf_states(
        self, node_states: list[list[State]], pending: PendingLeaves, count: int, evals: LeafEvaluations
    ) -> tuple[list[int], list[State]]:
        """Apply the move of each new leaf (``game.apply`` runs only here, once per created node), append the
        state to its tree's list, and fill ``evals`` for it: returns of a terminal state, mover and legal moves of
        one to evaluate. Returns the rows and states of the leaves the evaluator must value."""
        game = self.game
        eval_rows: list[int] = []
        eval_states: list[State] = []
        apply, is_terminal = game.apply, game.is_terminal
        current_player, legal_mask, returns = game.current_player, game.legal_mask, game.returns
        kinds = pending.kind[:count].tolist()
        trees = pending.tree[:count].tolist()
        parents = pending.parent[:count].tolist()
        actions = pending.action[:count].tolist()
        for j in range(count):
            if kinds[j] != LEAF_NEW:
                continue
            states_of_tree = node_states[trees[j]]
            # Nodes are numbered in creation order and listed in that order, so the new node is the next index.
            state = apply(states_of_tree[parents[j]], actions[j])
            states_of_tree.append(state)
            if is_terminal(state):
                evals.terminal[j] = True
                evals.value[j] = returns(state)
            else:
                eval_rows.append(j)
                eval_states.append(state)
                evals.to_move[j] = current_player(state)
                evals.legal[j] = legal_mask(state)
        return eval_rows, eval_states

    def _compute(self, step: _Step, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
        return None if step.prepared is None else self.leaves.compute(step.prepared, rng)

    def _finish(self, run: _Run, step: _Step, result: tuple[np.ndarray, np.ndarray] | None) -> None:
        if result is not None:
            priors, values = result
            step.evals.prior[step.eval_rows] = priors
            step.evals.value[step.eval_rows] = values
        backup_leaves(run.tree, step.count, step.pending, step.evals, self.config.gumbel, self.config.solver)

    def _outputs(self, run: _Run) -> SearchOutput:
        tree = run.tree
        visit_counts = tree.root_child_visits().astype(np.float32)
        if not self.config.gumbel:
            policy = visit_counts / visit_counts.sum(axis=1, keepdims=True)
            return SearchOutput(visit_counts=visit_counts, policy=policy, root_values=tree.root_values())
        policy = np.zeros(visit_counts.shape, dtype=np.float32)
        action = np.zeros(tree.batch_size, dtype=np.int64)
        gumbel_root_outputs(tree, run.gumbel, policy, action)
        return SearchOutput(
            visit_counts=visit_counts, policy=policy, root_values=tree.root_values(), action=action
        )


def _runs_off_cpu(evaluate_fn: object) -> bool:
    """Whether the evaluator reports a device other than the CPU (``NetworkEvaluator.device``)."""
    device = getattr(evaluate_fn, "device", None)
    return device is not None and getattr(device, "type", str(device)) != "cpu"
