"""The arena: agents play each other, many games at once, with seat rotation and paired openings.

A *lineup* lists the agents of one game in seat order. Every opening is played once per rotation of the lineup
(``seat_rotations``): for two players that is the classic pair with seats swapped, for three or four players each
agent sits in each seat exactly once. Rotations rather than all P! permutations keep a group at P games while still
balancing seats, which is what removes the first-player advantage from the comparison.

All games of a call advance together: at each step the games are grouped by the agent to move and each agent
chooses for all of its games in one ``select_actions`` call, so network agents evaluate one batch per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.core.errors import InvalidConfig
from app.games.base import Game, State
from app.search.types import Agent


@dataclass(frozen=True)
class PlayedGame:
    """A finished game. ``players`` and ``returns`` are per seat; ``moves`` start with the ``opening``.

    ``rotation`` r says where the lineup sat: ``lineup[i]`` played in seat ``(i + r) % P``.
    """

    players: tuple[str, ...]
    returns: tuple[float, ...]
    opening: tuple[int, ...]
    moves: tuple[int, ...]
    opening_group: int
    rotation: int = 0

    @property
    def length(self) -> int:
        return len(self.moves)

    def seat_of(self, lineup_index: int) -> int:
        return (lineup_index + self.rotation) % len(self.players)

    def points(self, lineup_index: int = 0, against: int = 1) -> float:
        """1, 0.5 or 0: did ``lineup[lineup_index]`` finish ahead of, level with or behind ``lineup[against]``."""
        mine = self.returns[self.seat_of(lineup_index)]
        theirs = self.returns[self.seat_of(against)]
        return 1.0 if mine > theirs else 0.5 if mine == theirs else 0.0


def seat_rotations(lineup: Sequence[Agent]) -> list[tuple[Agent, ...]]:
    """The P cyclic rotations of a lineup of P agents: rotation r puts ``lineup[i]`` in seat ``(i + r) % P``."""
    p = len(lineup)
    return [tuple(lineup[(seat - r) % p] for seat in range(p)) for r in range(p)]


def play_games(
    game: Game,
    seatings: Sequence[Sequence[Agent]],
    openings: Sequence[Sequence[int]],
    *,
    rng: np.random.Generator,
    opening_groups: Sequence[int] | None = None,
    rotations: Sequence[int] | None = None,
) -> list[PlayedGame]:
    """Play ``len(seatings)`` games together: game i seats ``seatings[i]`` (one agent per seat) after ``openings[i]``.

    An agent object may sit in several seats and games; it is asked once per step for all states where it moves.
    """
    if len(seatings) != len(openings):
        raise InvalidConfig(
            f"{len(seatings)} seatings but {len(openings)} openings: give one opening per game"
        )
    groups = list(opening_groups) if opening_groups is not None else list(range(len(seatings)))
    rotation_of = list(rotations) if rotations is not None else [0] * len(seatings)
    for i, seats in enumerate(seatings):
        if len(seats) != game.num_players:
            raise InvalidConfig(
                f"seating {i} has {len(seats)} agents but {game.config_key} has {game.num_players} seats"
            )
    states, moves = _start_from(game, openings)
    _play_out(game, seatings, states, moves, rng)
    return [
        PlayedGame(
            players=tuple(a.name for a in seatings[i]),
            returns=tuple(float(r) for r in game.returns(states[i])),
            opening=tuple(int(a) for a in openings[i]),
            moves=tuple(moves[i]),
            opening_group=groups[i],
            rotation=rotation_of[i],
        )
        for i in range(len(seatings))
    ]


def _start_from(game: Game, openings: Sequence[Sequence[int]]) -> tuple[list[State], list[list[int]]]:
    """The states after each opening and the moves so far; an opening that ends the game is refused."""
    states: list[State] = []
    moves: list[list[int]] = []
    for opening in openings:
        state = game.initial_state()
        for action in opening:
            state = game.apply(state, int(action))
        if game.is_terminal(state):
            raise InvalidConfig(f"opening {list(opening)} ends the game; an opening must leave it running")
        states.append(state)
        moves.append([int(a) for a in opening])
    return states, moves


def _play_out(
    game: Game,
    seatings: Sequence[Sequence[Agent]],
    states: list[State],
    moves: list[list[int]],
    rng: np.random.Generator,
) -> None:
    """Advance every game to its end in place, asking each agent once per step for all states where it moves."""
    # A fixed order of agents (first appearance) keeps the rng's draws, and so whole runs, reproducible.
    agents: list[Agent] = []
    for seats in seatings:
        for agent in seats:
            if not any(agent is a for a in agents):
                agents.append(agent)
    running = [i for i, s in enumerate(states) if not game.is_terminal(s)]
    while running:
        to_move: dict[int, list[int]] = {}
        for i in running:
            mover = seatings[i][game.current_player(states[i])]
            to_move.setdefault(next(k for k, a in enumerate(agents) if a is mover), []).append(i)
        for k in sorted(to_move):
            games_of_agent = to_move[k]
            actions = agents[k].select_actions(game, [states[i] for i in games_of_agent], rng)
            if len(actions) != len(games_of_agent):
                raise RuntimeError(
                    f"agent {agents[k].name!r} returned {len(actions)} actions for {len(games_of_agent)} states"
                )
            for i, action in zip(games_of_agent, actions, strict=True):
                states[i] = game.apply(states[i], int(action))
                moves[i].append(int(action))
        running = [i for i in running if not game.is_terminal(states[i])]


def play_rotated(
    game: Game,
    lineup: Sequence[Agent],
    openings: Sequence[Sequence[int]],
    *,
    rng: np.random.Generator,
    first_group: int = 0,
) -> list[list[PlayedGame]]:
    """Play every opening once per seat rotation of ``lineup``; returns one list of P games per opening (group)."""
    if len(lineup) != game.num_players:
        raise InvalidConfig(
            f"a lineup for {game.config_key} needs {game.num_players} agents, got {len(lineup)}"
        )
    rotations = seat_rotations(lineup)
    seatings = [r for _ in openings for r in rotations]
    per_game_openings = [o for o in openings for _ in rotations]
    groups = [first_group + g for g in range(len(openings)) for _ in rotations]
    rotation_of = [r for _ in openings for r in range(len(rotations))]
    played = play_games(
        game, seatings, per_game_openings, rng=rng, opening_groups=groups, rotations=rotation_of
    )
    p = len(rotations)
    return [played[g * p : (g + 1) * p] for g in range(len(openings))]
