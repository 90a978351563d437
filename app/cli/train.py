"""``zeroloop train``: train a new network on the newest shards of a config key."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from app.cli._common import build_config, console, stage_progress
from app.cli._pairs import parse_pairs
from app.core.errors import InvalidConfig
from app.core.names import parse_config_key

_OPTION_OF_FIELD = {
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "learning_rate": "--lr",
    "replay_window": "--window",
    "parent_model_id": "--parent",
    "output_model_id": "--output",
    "net": "--net",
    "seed": "--seed",
}


def register(app: typer.Typer) -> None:
    app.command("train")(train)


def train(
    config_key: Annotated[str, typer.Argument(help="Config key to train, e.g. hex8_2p.")],
    epochs: Annotated[int, typer.Option("--epochs", "-e", help="Passes over the replay window.")] = 4,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", help="Positions per step.")] = 256,
    learning_rate: Annotated[float, typer.Option("--lr", help="Peak learning rate.")] = 2e-3,
    window: Annotated[int, typer.Option("--window", help="Replay window: newest positions.")] = 500_000,
    parent: Annotated[
        str | None, typer.Option("--parent", help="Model id to start from (default: the production model).")
    ] = None,
    scratch: Annotated[bool, typer.Option("--scratch", help="Start from fresh weights.")] = False,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Model id of the result, e.g. hex8_2p_v4 (resumable)."),
    ] = None,
    net: Annotated[
        str | None, typer.Option("--net", help="Network preset for a fresh network: cpu or gpu.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of init, split, shuffling, augmentation.")] = 0,
    settings_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Any other TrainConfig field as KEY=VALUE (JSON values), e.g. --set augment=false."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Train on the newest shards of CONFIG_KEY and save a checkpoint whose lineage names parent and shards."""
    from app.training import TrainConfig, run_training

    key = parse_config_key(config_key)
    fields = {
        "board_type": key.board_type,
        "num_players": key.num_players,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "replay_window": window,
        "parent_model_id": parent,
        "init": "scratch" if scratch else "production",
        "output_model_id": output,
        "net": net,
        "seed": seed,
    }
    extra = parse_pairs(settings_, "--set", numbers=False)
    clash = sorted(set(extra) & {"board_type", "num_players"})
    if clash:
        raise InvalidConfig(f"--set cannot change {clash}: they come from the config key {config_key}")
    # Fields set through --set keep their own names; the rest are named by the option the user typed.
    options = {f: o for f, o in _OPTION_OF_FIELD.items() if f not in extra}
    cfg = build_config(TrainConfig, fields | extra, options)

    with stage_progress(f"train {config_key}", disable=as_json) as on_progress:
        result = run_training(cfg, progress=on_progress)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
        return

    resumed = f", resumed from step {result.resumed_from_step}" if result.resumed_from_step else ""
    console.print(
        f"[bold green]trained[/] {result.model_id or 'a model'} for {result.config_key} from "
        f"{result.parent_model_id or 'fresh weights'}: {result.steps} steps over {result.epochs} epoch(s){resumed}, "
        f"{result.positions} positions of {result.games} games in {len(result.shards)} shard(s), "
        f"{result.samples_per_s:.0f} samples/s on {result.device}"
    )
    console.print(f"checkpoint {result.checkpoint_path} (sha256 {result.sha256[:16]}…)")
    console.print(_metrics_table(result.history))


def _metrics_table(history: list[dict[str, float]]) -> Table:
    """Metrics of the first and the last epoch side by side (the whole history is in ``--json``)."""
    shown = [history[0], history[-1]] if len(history) > 1 else history[-1:]
    table = Table(title="metrics")
    table.add_column("metric")
    for h in shown:
        table.add_column(f"epoch {int(h['epoch'])}", justify="right")
    for name in (k for k in history[-1] if "/" in k):
        table.add_row(name, *(f"{h[name]:.4f}" if name in h else "-" for h in shown))
    return table
