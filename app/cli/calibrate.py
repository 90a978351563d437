"""``zeroloop calibrate``: rate the anchors once among themselves, so later fits pin them (a stable scale)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from app.cli._common import console, stage_progress


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate)


def calibrate(
    config_key: Annotated[str, typer.Argument(help="Config key, e.g. hex8_2p.")],
    anchors: Annotated[
        list[str] | None,
        typer.Option("--anchor", "-a", help="An anchor, repeatable (default: random, rollout_mcts_50/200)."),
    ] = None,
    games: Annotated[
        int, typer.Option("--games", "-n", min=2, help="Games per pair of anchors (a multiple of the seats).")
    ] = 16,
    seed: Annotated[int, typer.Option("--seed", help="Seed of openings and agents.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the calibration as JSON.")] = False,
) -> None:
    """Play a round-robin of the anchors, fit them among themselves and store the ratings as a new version.

    From then on `zeroloop ratings` and every evaluation fit the other players with these anchor ratings pinned.
    Cost: one round-robin, (anchors choose 2) x --games games.
    """
    from app.evaluation.scale import calibrate_anchors

    with stage_progress(f"calibrate {config_key}", disable=as_json) as on_progress:
        cal = calibrate_anchors(config_key, anchors, games_per_pair=games, seed=seed, progress=on_progress)
    if as_json:
        data = {
            "config_key": cal.config_key,
            "version": cal.version,
            "games": cal.games,
            "ratings": cal.ratings,
        }
        typer.echo(json.dumps(data, indent=2))
        return
    listed = ", ".join(f"{n} {elo:+.0f}" for n, elo in sorted(cal.ratings.items(), key=lambda kv: kv[1]))
    console.print(f"{cal.config_key} anchors, calibration v{cal.version} over {cal.games} games: {listed}")
