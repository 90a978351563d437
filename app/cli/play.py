"""``zeroloop play``: a person plays against an agent (a model, generation 0 or an anchor) in the terminal.

Moves are typed as the game names them (``action_to_string``: a Hex cell such as ``c3``, a Connect column such
as ``4``) or, where those names are not numbers themselves, as the action index. Illegal or unreadable input is
refused with the reason and the prompt comes back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer

from app.cli._common import console
from app.core.errors import InvalidConfig
from app.core.names import PRODUCTION

if TYPE_CHECKING:
    from app.core.config import Settings
    from app.games.base import Game, State
    from app.search.types import Agent

_QUIT = {"q", "quit", "resign", "exit"}
_HELP = {"?", "h", "help", "moves"}


def register(app: typer.Typer) -> None:
    app.command("play")(play)


class MoveReader:
    """Turns what a person types into an action of ``game``.

    The game's own move names come first (case-insensitive); a bare integer is read as the action index only when
    no move name is a number (for Connect, "3" is the third column and never the action index 3).
    """

    def __init__(self, game: Game) -> None:
        to_string = getattr(game, "action_to_string", None)
        self.names = [to_string(a) if to_string is not None else str(a) for a in range(game.action_size)]
        self.by_name = {name.lower(): a for a, name in enumerate(self.names)}
        self.index_fallback = to_string is not None and not any(name.isdigit() for name in self.names)
        self.game = game

    def hint(self) -> str:
        names = f"{self.names[0]} … {self.names[-1]}"
        index = f", or an index 0-{self.game.action_size - 1}" if self.index_fallback else ""
        return f"a move such as {names}{index}; ? lists legal moves, q resigns"

    def legal_names(self, state: State) -> list[str]:
        return [self.names[a] for a in np.flatnonzero(self.game.legal_mask(state))]

    def parse(self, text: str, state: State) -> int:
        """The legal action ``text`` names in ``state``; ValueError saying why otherwise."""
        token = text.strip().lower()
        action = self.by_name.get(token)
        if action is None and self.index_fallback and token.isdigit():
            action = int(token)
            if action >= self.game.action_size:
                raise ValueError(f"{text.strip()!r} is not an action index (0-{self.game.action_size - 1})")
        if action is None:
            raise ValueError(f"{text.strip()!r} is not a move; type {self.hint()}")
        if not self.game.legal_mask(state)[action]:
            raise ValueError(f"{self.names[action]} is not a legal move now")
        return action


def play(
    config_key: Annotated[str, typer.Argument(help="Config key to play, e.g. hex8_2p or connect4_2p.")],
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="Opponent: a model id, production, uniform (generation 0), random or rollout_mcts_<n>.",
        ),
    ] = PRODUCTION,
    seat: Annotated[int, typer.Option("--seat", help="Your seat: 0 moves first.")] = 0,
    simulations: Annotated[
        int, typer.Option("--simulations", "-s", help="MCTS simulations per move of a model or uniform.")
    ] = 128,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the agent's random choices.")] = None,
) -> None:
    """Play CONFIG_KEY against an agent: you type moves, the agent answers, until the game ends."""
    from app.core.config import get_settings
    from app.games.registry import game_for_key

    game = game_for_key(config_key)
    if not 0 <= seat < game.num_players:
        raise InvalidConfig(f"--seat must be in 0-{game.num_players - 1} for {config_key}, got {seat}")
    if simulations < 1:
        raise InvalidConfig(f"--simulations must be at least 1, got {simulations}")
    agent = _agent(model, game, simulations, get_settings())
    rng = np.random.default_rng(seed)
    reader = MoveReader(game)
    console.print(
        f"you are player {seat} against {agent.name} on {game.config_key}; type {reader.hint()}",
        highlight=False,
    )

    state = game.initial_state()
    while not game.is_terminal(state):
        console.print(game.render(state), markup=False, highlight=False)
        mover = game.current_player(state)
        if mover == seat:
            action = _ask(reader, state)
            if action is None:
                console.print(f"you resigned; {agent.name} wins", highlight=False)
                return
            console.print(f"you play {reader.names[action]}", highlight=False)
        else:
            action = agent.select_actions(game, [state], rng)[0]
            console.print(f"{agent.name} (player {mover}) plays {reader.names[action]}", highlight=False)
        state = game.apply(state, action)

    console.print(game.render(state), markup=False, highlight=False)
    console.print(_result_line(game.returns(state), seat, agent.name), highlight=False)


def _agent(name: str, game: Game, simulations: int, settings: Settings) -> Agent:
    from app.core.names import PlayerKind, parse_player, uniform_player
    from app.evaluation.players import make_agent, resolve_name

    try:
        player = parse_player(name, config_key=game.config_key)
    except ValueError as exc:
        raise InvalidConfig(
            f"unknown opponent {name!r}; --model is a model id such as {game.config_key}_v3, production, "
            f"uniform, random or rollout_mcts_<simulations> ({exc})"
        ) from None
    if player.kind is PlayerKind.UNIFORM and player.simulations is None:
        name = uniform_player(simulations)
    elif player.kind is PlayerKind.PRODUCTION:
        name = resolve_name(name, game.config_key, settings)
    return make_agent(name, game, settings, num_simulations=simulations)


def _ask(reader: MoveReader, state: State) -> int | None:
    """The person's next legal move, asking again until there is one; None when they resign."""
    while True:
        text = typer.prompt("your move")
        token = text.strip().lower()
        if token in _QUIT:
            return None
        if token in _HELP:
            console.print("legal moves: " + " ".join(reader.legal_names(state)), highlight=False)
            continue
        try:
            return reader.parse(text, state)
        except ValueError as exc:
            console.print(f"[red]refused:[/] {exc}", highlight=False)


def _result_line(returns: np.ndarray, seat: int, agent_name: str) -> str:
    values = ", ".join(f"{r:+g}" for r in returns)
    best = returns.max()
    winners = np.flatnonzero(returns == best)
    if len(winners) == len(returns):
        outcome = "draw"
    elif winners.tolist() == [seat]:
        outcome = "you won"
    elif seat in winners:
        outcome = "you shared first place"
    else:
        outcome = f"you lost; {agent_name} won (player {', '.join(map(str, winners))})"
    return f"result: {outcome} (returns by player: {values})"
