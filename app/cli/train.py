"""``zeroloop train``: train a new network on the newest shards of a config key."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from app.cli._common import console, stage_progress
from app.cli._options import ConfigOptions
from app.cli._pairs import parse_pairs
from app.core.errors import InvalidConfig
from app.core.names import parse_config_key
from app.training.config import TrainConfig

_OPTS = ConfigOptions(TrainConfig)


def register(app: typer.Typer) -> None:
    app.command("train")(train)


def train(
    config_key: Annotated[str, typer.Argument(help="Config key to train, e.g. hex8_2p.")],
    epochs: int = _OPTS.option("epochs", "--epochs", "-e"),
    batch_size: int = _OPTS.option("batch_size", "--batch-size", "-b"),
    learning_rate: float = _OPTS.option("learning_rate", "--lr"),
    replay_window: int = _OPTS.option("replay_window", "--window"),
    parent_model_id: str | None = _OPTS.option(
        "parent_model_id", "--parent", help="Model id to start from (default: the production model)."
    ),
    scratch: Annotated[bool, typer.Option("--scratch", help="Start from fresh weights.")] = False,
    output_model_id: str | None = _OPTS.option(
        "output_model_id", "--output", "-o", help="Model id of the result, e.g. hex8_2p_v4 (resumable)."
    ),
    net: str | None = _OPTS.option("net", "--net", help="Network preset for a fresh network: cpu or gpu."),
    seed: int = _OPTS.option("seed", "--seed"),
    settings_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Any other TrainConfig field as KEY=VALUE (JSON values), e.g. --set augment=false."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Train on the newest shards of CONFIG_KEY and save a checkpoint whose lineage names parent and shards."""
    from app.training import run_training

    key = parse_config_key(config_key)
    extra = parse_pairs(settings_, "--set", numbers=False)
    clash = sorted(set(extra) & {"board_type", "num_players"})
    if clash:
        raise InvalidConfig(f"--set cannot change {clash}: they come from the config key {config_key}")
    cfg = _OPTS.build(
        locals(),
        extra=extra,
        board_type=key.board_type,
        num_players=key.num_players,
        init="scratch" if scratch else "production",
    )

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
