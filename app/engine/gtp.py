"""GTP as Hex engines speak it (HTP: MoHex/Benzene and the HexGui GUI), for any game of the registry.

One ``GtpEngine`` holds one game in progress and answers one command line at a time (``handle``); it knows
nothing of processes, so tests drive it directly, and ``serve`` runs it over a pair of text streams.

Answers are ``= result`` or ``? message`` followed by a blank line, with the command's numeric id echoed when it
had one (``12 genmove b`` → ``=12 a1``). An error answers ``? message`` and leaves the engine running: a bad
command can never end a session with a GUI.

Moves are the game's own names: Hex cells as column letter + row number (``a1`` top left; black is player 0, who
moves first and joins top to bottom as in HexGui), ``swap``/``swap-pieces`` where the board has the swap rule,
Connect columns as 1-based numbers. Colours are ``black``/``white`` (``b``/``w``) and, for games of more
players, ``p1`` … ``pN`` in seat order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

import numpy as np

from app.games.base import Game, State
from app.search.types import Agent

PROTOCOL_VERSION = "2"
_COLOURS = {"b": 0, "black": 0, "w": 1, "white": 1}
_SWAP_NAMES = {"swap", "swap-pieces", "swap-sides"}

AgentFactory = Callable[[int], Agent]
"""Builds the agent that plays at a number of simulations (visits) per move."""


class GtpError(Exception):
    """A command that cannot be carried out; its text is the ``?`` answer."""


class GtpEngine:
    """A GTP/HTP session over ``game`` whose moves come from ``agent_for(visits)``.

    ``agent_for`` is called once per visits setting (an agent may hold a loaded network, so it is kept while the
    setting stays). ``name``/``version`` are what ``name`` and ``version`` answer.
    """

    def __init__(
        self,
        game: Game,
        agent_for: AgentFactory,
        *,
        name: str = "zeroloop",
        version: str = "",
        visits: int = 128,
        seed: int | None = None,
    ) -> None:
        if visits < 1:
            raise ValueError(f"visits must be at least 1, got {visits}")
        self.game = game
        self.agent_for = agent_for
        self.name = name
        self.version = version
        self.visits = visits
        self.rng = np.random.default_rng(seed)
        self.done = False
        self._agent: Agent | None = None
        self._names = [self._move_name(a) for a in range(game.action_size)]
        self._by_name = {n.lower(): a for a, n in enumerate(self._names)}
        self._history: list[State] = [game.initial_state()]
        self._commands: dict[str, Callable[[list[str]], str]] = {
            "protocol_version": lambda _args: PROTOCOL_VERSION,
            "name": lambda _args: self.name,
            "version": lambda _args: self.version,
            "known_command": self._known_command,
            "list_commands": lambda _args: "\n".join(sorted(self._commands)),
            "boardsize": self._boardsize,
            "clear_board": self._clear_board,
            "play": self._play,
            "genmove": self._genmove,
            "undo": self._undo,
            "showboard": lambda _args: "\n" + self.game.render(self.state),
            "visits": self._visits,
            "final_score": self._final_score,
            "quit": self._quit,
        }

    @property
    def state(self) -> State:
        return self._history[-1]

    def handle(self, line: str) -> str | None:
        """The full answer (ending in a blank line) to one command line; None for a blank or comment line."""
        text = line.split("#", 1)[0].strip()
        if not text:
            return None
        words = text.split()
        ident = ""
        if words[0].isdigit():
            ident, words = words[0], words[1:]
            if not words:
                return f"?{ident} a command is missing after the id\n\n"
        command, args = words[0].lower(), words[1:]
        handler = self._commands.get(command)
        try:
            if handler is None:
                raise GtpError(f"unknown command: {command}; list_commands names the known ones")
            result = handler(args)
        except GtpError as exc:
            return f"?{ident} {exc}\n\n"
        except Exception as exc:  # noqa: BLE001 - an engine must outlive any failure of one command
            return f"?{ident} internal error: {type(exc).__name__}: {exc}\n\n"
        return f"={ident} {result}".rstrip(" ") + "\n\n"

    # -- commands ------------------------------------------------------------------------------------------------

    def _known_command(self, args: list[str]) -> str:
        _arity(args, 1, "known_command COMMAND")
        return "true" if args[0].lower() in self._commands else "false"

    def _boardsize(self, args: list[str]) -> str:
        if len(args) not in (1, 2) or not all(a.isdigit() for a in args):
            raise GtpError("boardsize takes one size or a width and a height, e.g. boardsize 8")
        width, height = int(args[0]), int(args[-1])
        want = _board_dimensions(self.game)
        if (width, height) != want:
            raise GtpError(
                f"this engine plays {self.game.config_key} ({want[0]}x{want[1]}), not {width}x{height}; "
                f"boardsize {want[0]}"
                + (f" {want[1]}" if want[0] != want[1] else "")
                + " is the size it knows"
            )
        return self._clear_board([])

    def _clear_board(self, args: list[str]) -> str:
        self._history = [self.game.initial_state()]
        return ""

    def _play(self, args: list[str]) -> str:
        _arity(args, 2, "play COLOUR MOVE, e.g. play black a1")
        colour = self._colour(args[0])
        self._check_turn(colour)
        self._history.append(self.game.apply(self.state, self._action(args[1])))
        return ""

    def _genmove(self, args: list[str]) -> str:
        _arity(args, 1, "genmove COLOUR, e.g. genmove white")
        colour = self._colour(args[0])
        self._check_turn(colour)
        if self._agent is None:
            self._agent = self.agent_for(self.visits)
        action = int(self._agent.select_actions(self.game, [self.state], self.rng)[0])
        self._history.append(self.game.apply(self.state, action))
        return self._names[action]

    def _undo(self, args: list[str]) -> str:
        if len(self._history) == 1:
            raise GtpError("cannot undo: no move has been played")
        self._history.pop()
        return ""

    def _visits(self, args: list[str]) -> str:
        if not args:
            return str(self.visits)
        _arity(args, 1, "visits N (simulations per generated move)")
        if not args[0].isdigit() or int(args[0]) < 1:
            raise GtpError(f"visits must be a whole number >= 1, got {args[0]!r}")
        if int(args[0]) != self.visits:
            self.visits, self._agent = int(args[0]), None
        return ""

    def _final_score(self, args: list[str]) -> str:
        if not self.game.is_terminal(self.state):
            raise GtpError("the game is not over")
        returns = self.game.returns(self.state)
        winners = np.flatnonzero(returns == returns.max())
        if len(winners) == len(returns):
            return "0"
        return " ".join(self._colour_name(int(w)) for w in winners) + "+"

    def _quit(self, args: list[str]) -> str:
        self.done = True
        return ""

    # -- helpers -------------------------------------------------------------------------------------------------

    def _move_name(self, action: int) -> str:
        to_string = getattr(self.game, "action_to_string", None)
        name = to_string(action) if to_string is not None else str(action)
        return "swap-pieces" if name == "swap" else name  # HexGui's name for the swap

    def _colour(self, word: str) -> int:
        token = word.lower()
        seat = _COLOURS.get(token) if self.game.num_players == 2 else None
        if seat is None and token.startswith("p") and token[1:].isdigit():
            seat = int(token[1:]) - 1
        if seat is None or not 0 <= seat < self.game.num_players:
            valid = ", ".join(self._colour_name(p) for p in range(self.game.num_players))
            raise GtpError(f"unknown colour {word!r}; the colours are {valid}")
        return seat

    def _colour_name(self, seat: int) -> str:
        if self.game.num_players == 2:
            return ("black", "white")[seat]
        return f"p{seat + 1}"

    def _check_turn(self, seat: int) -> None:
        if self.game.is_terminal(self.state):
            raise GtpError("the game is over; clear_board starts a new one, undo takes a move back")
        mover = self.game.current_player(self.state)
        if seat != mover:
            raise GtpError(f"it is {self._colour_name(mover)}'s turn, not {self._colour_name(seat)}'s")

    def _action(self, word: str) -> int:
        token = word.lower()
        if token in _SWAP_NAMES:
            token = "swap-pieces"
        action = self._by_name.get(token)
        if action is None:
            raise GtpError(
                f"{word!r} is not a move of {self.game.config_key}; moves are "
                f"{self._names[0]} … {self._names[-1]}"
            )
        if not self.game.legal_mask(self.state)[action]:
            raise GtpError(f"illegal move: {self._names[action]} is not legal now")
        return action


def _arity(args: list[str], count: int, usage: str) -> None:
    if len(args) != count:
        raise GtpError(f"expected {usage}")


def _board_dimensions(game: Game) -> tuple[int, int]:
    """(width, height) of the board as ``boardsize`` names it: n×n for Hex, columns × rows for Connect."""
    height, width = game.board_shape
    return int(width), int(height)


def serve(engine: GtpEngine, stdin: TextIO, stdout: TextIO) -> None:
    """Answer commands from ``stdin`` until ``quit`` or the end of input, flushing after every answer."""
    for line in stdin:
        answer = engine.handle(line)
        if answer is None:
            continue
        stdout.write(answer)
        stdout.flush()
        if engine.done:
            return
