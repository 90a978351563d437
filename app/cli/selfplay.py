"""``zeroloop selfplay``: play games of a config key with one model and write them as a training shard."""

from __future__ import annotations

import json
import re
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from app.cli._common import build_config, console
from app.core.names import parse_config_key

# run_selfplay reports "k/N games" after every move of the batch; other messages (start, reuse, the end) are not
# counts, so the bar keeps its last count and only jumps to the end on the final call.
_GAMES_DONE = re.compile(r"^(\d+)/(\d+) games")
# Errors name the option the user typed, not the config field behind it.
_OPTION_OF_FIELD = {
    "games": "--games",
    "model_id": "--model",
    "num_simulations": "--simulations",
    "parallel_games": "--parallel",
    "seed": "--seed",
    "shard_name": "--shard",
}


def register(app: typer.Typer) -> None:
    app.command("selfplay")(selfplay)


class _GamesPerSecond(ProgressColumn):
    """Finished games per second of wall time since the bar started."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:.2f} games/s")


def selfplay(
    config_key: Annotated[str, typer.Argument(help="Config key to play, e.g. hex8_2p.")],
    games: Annotated[int, typer.Option("--games", "-n", help="Games to play.")] = 64,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Model id to play with, or 'uniform' (generation 0). Default: production."
        ),
    ] = None,
    simulations: Annotated[int, typer.Option("--simulations", "-s", help="MCTS simulations per move.")] = 64,
    parallel: Annotated[
        int, typer.Option("--parallel", "-p", help="Games advanced together in one batch.")
    ] = 64,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random choice of the run.")] = 0,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard", help="Shard name (written once; a rerun reuses it). Default: model, seed, games."
        ),
    ] = None,
    gumbel: Annotated[
        bool, typer.Option("--gumbel", help="Gumbel root with sequential halving instead of PUCT + noise.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Play GAMES games of CONFIG_KEY and write their positions as one shard (idempotent per shard name)."""
    from app.selfplay import SelfplayConfig, run_selfplay

    key = parse_config_key(config_key)
    cfg = build_config(
        SelfplayConfig,
        dict(
            board_type=key.board_type,
            num_players=key.num_players,
            games=games,
            model_id=model,
            num_simulations=simulations,
            parallel_games=parallel,
            seed=seed,
            shard_name=shard,
            gumbel=gumbel,
        ),
        _OPTION_OF_FIELD,
    )

    progress = Progress(
        TextColumn(f"[bold]selfplay {config_key}"),
        BarColumn(bar_width=24),
        TextColumn("{task.completed:.0f}/{task.total:.0f} games"),
        _GamesPerSecond(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[message]}"),
        console=console,
        disable=as_json,
    )

    def on_progress(fraction: float, message: str) -> None:
        counted = _GAMES_DONE.match(message)
        if counted is not None:
            progress.update(task, completed=int(counted.group(1)), message="")
        elif fraction >= 1.0:
            progress.update(task, completed=cfg.games, message=message)
        else:
            progress.update(task, message=message)

    with progress:
        task = progress.add_task("selfplay", total=cfg.games, message="starting")
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
