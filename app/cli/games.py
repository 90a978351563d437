"""``zeroloop games list / show / export``: stored arena and selfplay games, as tables, Hex SGF or JSON lines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from app.cli._common import console
from app.core.errors import InvalidConfig

games_app = typer.Typer(help="Stored games: list them, show one move by move, export them (SGF, JSON lines).")
FORMATS = ("sgf", "jsonl")


def register(app: typer.Typer) -> None:
    app.add_typer(games_app, name="games")


KindOption = Annotated[str | None, typer.Option("--kind", "-k", help="arena or selfplay (default: both).")]
ConfigArg = Annotated[str | None, typer.Argument(help="Config key, e.g. hex8_2p (default: every one).")]


@games_app.command("list")
def list_(
    config_key: ConfigArg = None,
    kind: KindOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many of the newest games.")] = 20,
) -> None:
    """The newest stored games with their id (what games show takes), players and result."""
    from app.core.config import get_settings
    from app.records import list_games
    from app.records.sgf import winners

    if limit < 1:
        raise InvalidConfig(f"-n must be at least 1, got {limit}")
    games = list_games(get_settings(), config_key=config_key, kind=kind, limit=limit)
    if not games:
        console.print("no stored games" + (f" for {config_key}" if config_key else ""))
        return
    table = Table()
    for name in ("game", "config", "source", "players", "moves", "winner", "created"):
        table.add_column(
            name, justify="right" if name == "moves" else "left", overflow="fold", no_wrap=name == "game"
        )
    for g in games:
        best = winners(g.returns)
        winner = "draw" if len(best) == len(g.returns) else ", ".join(f"seat {s}" for s in best)
        players = g.players[0] if len(set(g.players)) == 1 else " vs ".join(g.players)
        table.add_row(
            g.game_id,
            g.config_key,
            g.source,
            players,
            str(len(g.moves)),
            winner,
            f"{g.created_at:%m-%d %H:%M}",
        )
    console.print(table)


@games_app.command("show")
def show(
    game_id: Annotated[str, typer.Argument(help="A game id from games list, e.g. arena:12.")],
    sgf: Annotated[bool, typer.Option("--sgf", help="Print the game as Hex SGF (for HexGui).")] = False,
) -> None:
    """One game: who played, every move in order, and the final position."""
    from app.core.config import get_settings
    from app.games.registry import game_for_key
    from app.records import get_game, to_sgf
    from app.records.sgf import move_names

    record = get_game(get_settings(), game_id)
    if sgf:
        typer.echo(to_sgf(record), nl=False)
        return
    game = game_for_key(record.config_key)
    seats = ", ".join(f"seat {i}: {p}" for i, p in enumerate(record.players))
    console.print(f"{record.game_id} ({record.config_key}, {record.source}) {seats}", highlight=False)
    names = move_names(game, record.moves)
    if record.opening_length:
        console.print(f"opening (random): {' '.join(names[: record.opening_length])}", highlight=False)
    console.print(f"moves: {' '.join(names[record.opening_length :])}", highlight=False)
    state = game.initial_state()
    for action in record.moves:
        state = game.apply(state, action)
    console.print(game.render(state), markup=False, highlight=False)
    console.print("returns by seat: " + ", ".join(f"{r:+g}" for r in record.returns), highlight=False)


@games_app.command("export")
def export(
    config_key: ConfigArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")] = Path("games.jsonl"),
    fmt: Annotated[str, typer.Option("--format", "-f", help="sgf (Hex only) or jsonl.")] = "jsonl",
    kind: KindOption = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="Only the newest N games.")] = None,
) -> None:
    """Write stored games to a file: one SGF game tree or one JSON object per game, oldest first."""
    from app.core.config import get_settings
    from app.records import SGF_UNSUPPORTED, list_games, to_json_line, to_sgf
    from app.records.sgf import is_hex

    if fmt not in FORMATS:
        raise InvalidConfig(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if limit is not None and limit < 1:
        raise InvalidConfig(f"-n must be at least 1, got {limit}")
    games = list_games(get_settings(), config_key=config_key, kind=kind, limit=limit)[::-1]
    if fmt == "sgf":
        others = sorted({g.config_key for g in games if not is_hex(g.config_key)})
        if others:
            raise InvalidConfig(f"{', '.join(others)}: {SGF_UNSUPPORTED} (or pick a Hex config key)")
    write = to_sgf if fmt == "sgf" else (lambda g: to_json_line(g) + "\n")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(write(g) for g in games), encoding="utf-8")
    console.print(f"wrote {len(games)} games to {output}", highlight=False)
