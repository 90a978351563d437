"""``zeroloop tournament``: a round-robin of models and anchors, with the rating table and the score matrix."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated

import typer
from rich.table import Table

from app.cli._common import console, stage_progress
from app.core.errors import InvalidConfig


def register(app: typer.Typer) -> None:
    app.command("tournament")(tournament)


def tournament(
    players: Annotated[
        list[str],
        typer.Argument(help="Players: model ids, production, random, rollout_mcts_<n>, uniform_mcts_<n>."),
    ],
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="Config key; needed when no player is a model id.")
    ] = None,
    games: Annotated[
        int, typer.Option("--games", "-n", help="Games per pair (a multiple of the seats).")
    ] = 40,
    simulations: Annotated[int, typer.Option("--simulations", "-s", help="MCTS simulations per move.")] = 64,
    opening_moves: Annotated[int, typer.Option("--opening-moves", help="Random moves per opening.")] = 2,
    seed: Annotated[int, typer.Option("--seed", help="Seed of openings and agents.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Play every pair of PLAYERS (seats rotated, openings paired), store the games, print ratings and scores."""
    from app.evaluation.tournament import run_tournament
    from app.games.registry import game_for_key

    key = _config_key(players, config)
    seats = game_for_key(key).num_players
    if games < seats or games % seats:
        raise InvalidConfig(
            f"-n must be a positive multiple of {seats} (one game per seat rotation), got {games}"
        )
    if simulations < 1:
        raise InvalidConfig(f"--simulations must be at least 1, got {simulations}")
    if opening_moves < 0:
        raise InvalidConfig(f"--opening-moves must be 0 or more, got {opening_moves}")
    with stage_progress(f"tournament {key}", disable=as_json) as on_progress:
        result = run_tournament(
            key, players, games_per_lineup=games, num_simulations=simulations,
            opening_moves=opening_moves, seed=seed, progress=on_progress,
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(_as_json(result), indent=2))
        return
    from app.cli.evaluate import _table

    table = result.ratings
    mine = [r for r in table.ratings if r.name in result.players or r.name == table.anchor]
    console.print(_table(f"{key}: {table.games} stored games ({table.anchor} = 0)", mine))
    unrated = [n for n in result.players if n in table.unrated]
    if unrated:
        console.print(f"unrated (no games linking them to {table.anchor}): {', '.join(unrated)}")
    console.print(_matrix(result))


def _config_key(players: list[str], config: str | None) -> str:
    from app.core.names import parse_config_key, parse_model_id

    keys = set()
    for name in players:
        with contextlib.suppress(ValueError):  # not a model id: an anchor or 'production'
            keys.add(parse_model_id(name).config_key)
    if config is not None:
        parse_config_key(config)
        keys.discard(config)
        if keys:
            raise InvalidConfig(f"players of {sorted(keys)} cannot play --config {config}")
        return config
    if len(keys) == 1:
        return keys.pop()
    if keys:
        raise InvalidConfig(f"the players play different config keys: {sorted(keys)}")
    raise InvalidConfig("no player is a model id, so the config key is unknown; give --config, e.g. hex8_2p")


def _matrix(result) -> Table:
    """The row player's mean score against each column player."""
    table = Table(title=f"score of row vs column ({result.games_played} games)")
    table.add_column("player", no_wrap=True)
    for j in range(len(result.players)):
        table.add_column(str(j + 1), justify="right")
    for i, name in enumerate(result.players):
        cells = [
            "-" if s is None else f"{s:.2f}" for s in (result.score(i, j) for j in range(len(result.players)))
        ]
        table.add_row(f"{i + 1} {name}", *cells)
    return table


def _as_json(result) -> dict:
    r = result.ratings
    return {
        "config_key": result.config_key,
        "players": list(result.players),
        "games_played": result.games_played,
        "points": [list(row) for row in result.points],
        "games": [list(row) for row in result.games],
        "ratings": [
            {"name": x.name, "elo": x.elo, "ci_low": x.ci_low, "ci_high": x.ci_high, "games": x.games}
            for x in r.ratings
        ],
        "unrated": r.unrated,
        "anchor": r.anchor,
    }
