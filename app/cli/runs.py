"""``zeroloop runs``: a config key's runs (branches) side by side — list, show one, diff two runs' settings."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.table import Table

from app.cli._common import add_group, console
from app.cli._format import value
from app.cli._pairs import json_default, when
from app.core.config import get_settings

ConfigArg = Annotated[str, typer.Argument(help="The config key, e.g. hex6_2p.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _dump(data: Any) -> None:
    typer.echo(json.dumps(data, default=json_default, indent=2))


def list_runs(config_key: ConfigArg, as_json: JsonOpt = False) -> None:
    """Every run of CONFIG_KEY: where it was forked from, its production model, models and cycles."""
    from app.integration.runs import list_runs as runs_of

    runs = runs_of(get_settings(), config_key)
    if as_json:
        _dump([asdict(r) for r in runs])
        return
    if not runs:
        console.print(f"no runs of {config_key} yet: zeroloop run {config_key} starts the main one")
        return
    table = Table(title=f"{config_key}: runs")
    for col in ("run", "forked from", "production", "models", "cycles done", "updated"):
        table.add_column(col, overflow="fold")
    for r in runs:
        table.add_row(
            r.run, r.fork_model_id or "-", r.production or "-", str(r.models), f"{r.cycles_done}/{r.cycles}",
            when(r.updated_at),
        )  # fmt: skip
    console.print(table)


def show(
    config_key: ConfigArg,
    run: Annotated[str, typer.Argument(help="The run, e.g. main or wide.")] = "main",
    as_json: JsonOpt = False,
) -> None:
    """One run: its settings (the cycle.* of its latest cycle) and its lineage back to the fork point."""
    from app.integration.runs import run_detail

    detail = run_detail(get_settings(), config_key, run)
    s = detail.summary
    if as_json:
        lineage = [{"model_id": m.model_id, "run": m.run, "stage": m.stage.value} for m in detail.lineage]
        _dump(asdict(s) | {"settings": detail.settings, "recorded": detail.recorded, "lineage": lineage})
        return
    console.print(
        f"[bold]{config_key} run {s.run}[/]: forked from {s.fork_model_id or 'generation 0'}, production "
        f"{s.production or '-'}, {s.models} models, {s.cycles_done}/{s.cycles} cycles done",
        highlight=False,
    )
    if detail.lineage:
        console.print(
            "lineage: " + " ← ".join(_lineage_name(m, s.run) for m in detail.lineage), highlight=False
        )
    if not detail.recorded:
        console.print("settings not recorded (the run predates runs): fixed settings shown as the defaults")
    width = max(len(k) for k in detail.settings)
    for key, v in detail.settings.items():
        typer.echo(f"  {key:<{width}}  {value(v)}")


def _lineage_name(model, run: str) -> str:
    return model.model_id if model.run == run else f"{model.model_id} (fork point, run {model.run})"


def diff(
    config_key: ConfigArg,
    a: Annotated[str, typer.Argument(help="One run, e.g. main.")],
    b: Annotated[str, typer.Argument(help="The other run, e.g. wide.")],
    as_json: JsonOpt = False,
) -> None:
    """The settings that differ between two runs of CONFIG_KEY (and their fork points)."""
    from app.integration.runs import diff_runs

    rows = diff_runs(get_settings(), config_key, a, b)
    if as_json:
        _dump([{"key": d.key, a: d.a, b: d.b} for d in rows])
        return
    if not rows:
        console.print(f"runs {a} and {b} of {config_key} have the same settings")
        return
    table = Table(title=f"{config_key}: {a} vs {b}")
    for col in ("setting", a, b):
        table.add_column(col, overflow="fold")
    for d in rows:
        table.add_row(d.key, _shown(d.a), _shown(d.b))
    console.print(table)


def _shown(v: Any) -> str:
    return "-" if v is None else value(v)


def register(app: typer.Typer) -> None:
    add_group(
        app, "runs", "A config key's runs (branches): list, show, diff.",
        {"list": list_runs, "show": show, "diff": diff},
    )  # fmt: skip
