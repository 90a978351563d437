"""``zeroloop evaluate`` (gate a candidate, rate it against the anchors) and ``zeroloop ratings`` (the table)."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated

import typer
from rich.table import Table

from app.cli._common import console, pairs_scoring, stage_progress
from app.cli._options import ConfigOptions
from app.core.errors import InvalidConfig
from app.core.names import parse_config_key, parse_model_id
from app.evaluation.config import EvalConfig

_OPTS = ConfigOptions(EvalConfig)
_OPTS.flags["candidate"] = "CANDIDATE"  # an argument, not an option


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
    app.command("ratings")(ratings)


def _config_key(candidate: str, opponent: str, config: str | None) -> str:
    """The config key: given, or read from whichever player is a model id."""
    keys = set()
    for name in (candidate, opponent):
        with contextlib.suppress(ValueError):  # not a model id: an anchor or 'production'
            keys.add(parse_model_id(name).config_key)
    if config is not None:
        parse_config_key(config)
        return config
    if len(keys) == 1:
        return keys.pop()
    if keys:
        raise InvalidConfig(f"candidate and opponent play different config keys: {sorted(keys)}")
    raise InvalidConfig(
        f"cannot tell the config key from {candidate!r} and {opponent!r}; give --config, e.g. --config hex8_2p"
    )


def evaluate(
    candidate: Annotated[str, typer.Argument(help="Model id (hex8_2p_v3) or anchor (rollout_mcts_200).")],
    opponent: str = _OPTS.option(
        "opponent", "--opponent", "-o", help="production, random, rollout_mcts_<n> or a model id."
    ),
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="Config key; needed when no player is a model id.")
    ] = None,
    max_games: int = _OPTS.option("max_games", "--games", "-n"),
    elo0: float = _OPTS.option("elo0", "--elo0"),
    elo1: float = _OPTS.option("elo1", "--elo1"),
    alpha: float = _OPTS.option("alpha", "--alpha"),
    beta: float = _OPTS.option("beta", "--beta"),
    num_simulations: int = _OPTS.option("num_simulations", "--simulations", "-s"),
    opening_moves: int = _OPTS.option("opening_moves", "--opening-moves"),
    batch_games: int = _OPTS.option("batch_games", "--batch-games"),
    anchors: str = _OPTS.option(
        "anchors",
        "--anchors",
        help="Comma-separated anchors to rate against ('' for none).",
        default=",".join(_OPTS.default("anchors")),
    ),
    anchors_games: int = _OPTS.option("anchors_games", "--anchor-games"),
    seed: int = _OPTS.option("seed", "--seed"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Play CANDIDATE against an opponent until the SPRT decides (or the cap), then rate it against the anchors."""
    from app.evaluation import run_evaluation

    key = parse_config_key(_config_key(candidate, opponent, config))
    cfg = _OPTS.build(
        locals(),
        board_type=key.board_type,
        num_players=key.num_players,
        anchors=[a.strip() for a in anchors.split(",") if a.strip()],
    )

    with stage_progress(f"{candidate} vs {opponent}", disable=as_json) as on_progress:
        result = run_evaluation(cfg, progress=on_progress)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
        return

    colour = {"accept": "green", "reject": "red"}.get(result.decision, "yellow")
    console.print(
        f"[bold {colour}]{result.decision}[/]: {result.candidate} vs {result.opponent} ({result.config_key}), "
        f"{result.games} games, score {result.score:.3f}, "
        f"Elo {result.elo_delta:+.1f} [{result.elo_ci_low:+.1f}, {result.elo_ci_high:+.1f}], "
        f"LLR {result.llr:+.2f} in [{result.llr_lower:.2f}, {result.llr_upper:.2f}] "
        f"(H0 {result.elo0:+g}, H1 {result.elo1:+g})"
    )
    counts = f"W/D/L {result.wins}/{result.draws}/{result.losses}"
    if result.pentanomial is not None:
        counts += f", {pairs_scoring(result.pentanomial)}"
    console.print(counts)
    if result.ratings:
        console.print(_table(f"ratings on {result.config_key} (random = 0)", result.ratings))


def ratings(
    config_key: Annotated[str, typer.Argument(help="Config key, e.g. hex8_2p.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """The rating table of CONFIG_KEY, fitted over every stored arena game."""
    from app.core.config import get_settings
    from app.evaluation import config_ratings
    from app.evaluation.scale import drift_check

    table = config_ratings(config_key)
    calibration, drift = drift_check(get_settings(), config_key)
    if as_json:
        data = {
            "config_key": config_key,
            "anchor": table.anchor,
            "games": table.games,
            "ratings": [
                {"name": r.name, "elo": r.elo, "ci_low": r.ci_low, "ci_high": r.ci_high, "games": r.games}
                for r in table.ratings
            ],
            "unrated": table.unrated,
            "calibration": calibration.version if calibration else None,
            "drift": [{"name": d.name, "pinned": d.pinned, "free": d.free, "drift": d.drift} for d in drift],
        }
        typer.echo(json.dumps(data, indent=2))
        return
    if not table.ratings:
        console.print(
            f"no rated players for {config_key}: {table.games} games stored"
            + (f", none linked to {table.anchor}" if table.games else "")
        )
        return
    console.print(_table(f"{config_key}: {table.games} games ({table.anchor} = 0)", table.ratings))
    if table.unrated:
        console.print(f"unrated (no games linking them to {table.anchor}): {', '.join(table.unrated)}")
    _print_drift(calibration, drift)


def _print_drift(calibration, drift) -> None:
    if calibration is None:
        console.print("anchors not calibrated: the scale floats (zeroloop calibrate CONFIG_KEY pins it)")
        return
    table = Table(title=f"drift check: anchors pinned at calibration v{calibration.version} vs a free fit")
    for col in ("anchor", "pinned", "free fit", "drift"):
        table.add_column(col, justify="left" if col == "anchor" else "right")
    for d in drift:
        free = "-" if d.free is None else f"{d.free:+.1f}"
        gap = "-" if d.drift is None else f"{d.drift:+.1f}"
        table.add_row(d.name, f"{d.pinned:+.1f}", free, gap)
    console.print(table)


def _table(title: str, rows) -> Table:
    from app.evaluation.players import is_anchor

    table = Table(title=title)
    table.add_column("player", no_wrap=True)
    table.add_column("Elo", justify="right")
    table.add_column("± 95%", justify="right")
    table.add_column("games", justify="right")
    for r in sorted(rows, key=lambda r: -r.elo):
        half = 0.5 * (r.ci_high - r.ci_low)
        table.add_row(
            r.name + (" (anchor)" if is_anchor(r.name) else ""),
            f"{r.elo:+.1f}",
            f"{half:.1f}",
            str(r.games),
            style="dim" if is_anchor(r.name) else None,
        )
    return table
