"""``zeroloop selfplay``: play games of a config key with one model and write them as a training shard."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from app.cli._common import console, stage_progress
from app.cli._options import ConfigOptions
from app.core.names import parse_config_key
from app.selfplay.config import SelfplayConfig

_OPTS = ConfigOptions(SelfplayConfig)


def selfplay(
    config_key: Annotated[str, typer.Argument(help="Config key to play, e.g. hex8_2p.")],
    games: int = _OPTS.option("games", "--games", "-n"),
    model_id: str | None = _OPTS.option(
        "model_id",
        "--model",
        "-m",
        help="Model id to play with, or 'uniform' (generation 0). Default: production.",
    ),
    num_simulations: int = _OPTS.option("num_simulations", "--simulations", "-s"),
    parallel_games: int = _OPTS.option("parallel_games", "--parallel", "-p"),
    seed: int = _OPTS.option("seed", "--seed"),
    shard_name: str | None = _OPTS.option(
        "shard_name",
        "--shard",
        help="Shard name (written once; a rerun reuses it). Default: model, seed, games.",
    ),
    gumbel: bool = _OPTS.option("gumbel", "--gumbel"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Play GAMES games of CONFIG_KEY and write their positions as one shard (idempotent per shard name)."""
    from app.selfplay import run_selfplay

    key = parse_config_key(config_key)
    cfg = _OPTS.build(locals(), board_type=key.board_type, num_players=key.num_players)
    with stage_progress(f"selfplay {config_key}", disable=as_json) as on_progress:
        result = run_selfplay(cfg, progress=on_progress)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
        return

    verb = "reused existing shard" if result.reused else "wrote shard"
    console.print(
        f"[bold green]{verb}[/] {result.shard_name} for {result.config_key} with {result.model_id}: "
        f"{result.games} games, mean length {result.mean_length:.1f}",
        highlight=False,
    )
    console.print(f"shard file {result.shard_path}", highlight=False)
    console.print(_result_table(result))


def _result_table(result) -> Table:
    table = Table(title="selfplay")
    for name in ("games", "positions", "games/s", "positions/s", "shard", "reused"):
        table.add_column(name, justify="left" if name == "shard" else "right")
    table.add_row(
        str(result.games),
        str(result.positions),
        f"{result.games_per_s:.2f}",
        f"{result.positions_per_s:.1f}",
        result.shard_name,
        "yes" if result.reused else "no",
    )
    return table


def register(app: typer.Typer) -> None:
    app.command("selfplay")(selfplay)
