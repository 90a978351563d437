"""``zeroloop run CONFIG_KEY``: the main job — cycles of selfplay, training, evaluation and promotion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.cli._common import console, pairs_scoring
from app.cli._replay import replay
from app.core.errors import InvalidConfig
from app.core.names import MAIN_RUN, parse_run


def register(app: typer.Typer) -> None:
    app.command("run", help=f"{run.__doc__}\n\n{SETTINGS_HELP}")(run)


SETTINGS_HELP = (
    "Settings are every PipelineConfig field, nested ones dotted (cycle.num_simulations); precedence: default < "
    "per-game default < --config < --set. On a resumed run (cycles stored) fixed choices apply to every step not yet "
    "submitted, and cycle.* apply to the next cycle the run creates (recorded in its changes): later cycles "
    "continue from it as the feedback loop leaves them (--show-config shows each value and what set it)."
)


def run(
    config_key: Annotated[
        str | None, typer.Argument(help="What to train, e.g. hex6_2p or connect4_3p.", show_default=False)
    ] = None,
    cycles: Annotated[int, typer.Option("--cycles", min=1, help="Cycles to have finished (resumes).")] = 8,
    minutes: Annotated[
        float | None,
        typer.Option(
            "--minutes",
            help="A wall-clock budget: after it no new cycle starts (those under way finish; run again to go on).",
            show_default=False,
        ),
    ] = None,
    node: Annotated[
        str | None, typer.Option("--node", help="Run every step on a node, e.g. http://127.0.0.1:8770.")
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="ZEROLOOP_TOKEN", help="The node's token.")
    ] = None,
    pairs: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="A setting (repeatable; JSON values, else text), e.g. --set cycle.num_simulations=64.",
        ),
    ] = None,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config", dir_okay=False, help="A TOML file of settings: top-level keys, a \\[cycle] table."
        ),
    ] = None,
    show_config: Annotated[
        bool,
        typer.Option("--show-config", help="Print the resolved settings and their sources; run nothing."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --show-config: print JSON.")] = False,
    run_name: Annotated[
        str, typer.Option("--run", help="The run (branch) to continue; another than main starts with --fork.")
    ] = "main",
    fork: Annotated[
        str | None,
        typer.Option("--fork", metavar="MODEL_ID", help="Start the --run from this registered model."),
    ] = None,
    from_manifest: Annotated[
        Path | None,
        typer.Option(
            "--from-manifest", dir_okay=False, help="Replay the run a manifest.json records into --home NEW."
        ),
    ] = None,
) -> None:
    """Train CONFIG_KEY by self-play; run it again to continue where it stopped."""
    # The signature is the command's options (typer reads them from it); the work is in _train.
    from app.core.config import get_settings
    from app.integration.run_settings import resolve_for_run

    if from_manifest is not None:
        given = {"--set": pairs, "--config": config_file, "--show-config": show_config, "--fork": fork,
                 "--run": run_name != MAIN_RUN, "--node": node}  # fmt: skip
        replay(from_manifest, config_key, view=_View(), conflicting=[flag for flag, v in given.items() if v])
        return
    if config_key is None:
        raise InvalidConfig(
            "zeroloop run needs a CONFIG_KEY, e.g. hex6_2p\nor --from-manifest FILE to replay a run"
        )
    if minutes is not None and not minutes > 0:
        raise InvalidConfig(
            f"--minutes must be a positive number of minutes, got {minutes:g}; e.g. --minutes 60"
        )
    if as_json and not show_config:
        raise InvalidConfig("--json goes with --show-config\nzeroloop run KEY --show-config --json")
    settings = get_settings()
    resolved = resolve_for_run(
        config_key, settings=settings, file=config_file, pairs=pairs or [], run=parse_run(run_name)
    )
    if show_config:
        _show_config(config_key, resolved, as_json=as_json)
        return
    _train(settings, config_key, resolved, cycles=cycles, minutes=minutes, node=node, token=token,
           run_name=run_name, fork=fork)  # fmt: skip


def _train(
    settings, config_key: str, resolved, *, cycles: int, minutes, node, token, run_name: str, fork
) -> None:
    """The pipeline's cycles with a live view, on ``node`` or in this process's own node; then the report."""
    from app.integration.pipeline import Pipeline
    from app.p2p.local_jobs import LocalJobs

    view = _View()
    where = f"jobs on {node}" if node else "jobs in local subprocesses"
    bound = f"{cycles} cycles" + (f" or {minutes:g} minutes, whichever comes first" if minutes else "")
    what = f"{bound}, data in {settings.home.resolve()}, {where}"
    _header(config_key if run_name == MAIN_RUN else f"{config_key} --run {run_name}", what, resolved)
    with (
        _node_client(node, token) if node else LocalJobs(settings, slots=resolved.config.job_slots) as jobs,
        view.progress,
    ):
        pipeline = Pipeline(
            config_key,
            settings=settings,
            config=resolved.config,
            jobs=jobs,
            on_event=view.on_event,
            overrides=resolved.cycle_overrides(),
            run=run_name,
            fork=fork,
        )
        pipeline.run(cycles, minutes=minutes)
    _final_report(settings, config_key, run_name)


def _header(config_key: str, what: str, resolved) -> None:
    console.print(f"[bold]zeroloop run {config_key}[/]: {what}", highlight=False)
    given = ", ".join(f"{k}={json.dumps(v)}" for k, v in resolved.given().items())
    if given:
        console.print(f"settings given: {escape(given)}", highlight=False)
    for note in resolved.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


def _show_config(config_key: str, resolved, *, as_json: bool) -> None:
    rows = resolved.rows()
    if as_json:
        settings = [{"key": k, "value": v, "source": source} for k, v, source in rows]
        body = {"config_key": config_key, "cycle": resolved.cycle, "stored_cycles": resolved.stored_cycles}
        typer.echo(json.dumps(body | {"settings": settings, "notes": list(resolved.notes)}, indent=2))
        return
    stored = f"{resolved.stored_cycles} cycles stored" if resolved.stored_cycles else "a new run"
    typer.echo(f"{config_key}: settings of cycle {resolved.cycle} ({stored})")
    width = max(len(k) for k, _, _ in rows)
    values = [json.dumps(v) for _, v, _ in rows]
    value_width = max(len(v) for v in values)
    for (key, _, source), value in zip(rows, values, strict=True):
        typer.echo(f"  {key:<{width}}  {value:<{value_width}}  {source}")
    for note in resolved.notes:
        typer.echo(f"note: {note}")


def _node_client(url: str, token: str | None):
    from app.integration.p2p_client import P2PIntegration

    parsed = urlparse(url if "://" in url else f"http://{url}")
    if not parsed.hostname or not parsed.port:
        raise ValueError(f"--node must look like http://HOST:PORT, got {url!r}")
    return P2PIntegration(host=parsed.hostname, port=parsed.port, token=token)


class _View:
    """Progress bars per stage and a line per finished cycle.

    Not on a terminal (a pipe, a log file) a live display would only be drawn when it stops, after every cycle
    line and cut to the pipe's width; there each step prints one whole line as it ends, in order, instead.
    """

    def __init__(self, out: Console | None = None) -> None:
        out = out or console
        self.live = out.is_terminal
        self.progress = Progress(
            TextColumn("[bold]{task.description:<22}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[message]}"),
            console=out,
            disable=not self.live,
        )
        self.tasks: dict[tuple[int, str], TaskID] = {}

    def _line(self, text: str) -> None:
        self.progress.console.print(text, highlight=False, soft_wrap=not self.live)

    def _task(self, cycle: int, step: str) -> TaskID:
        key = (cycle, step)
        if key not in self.tasks:
            self.tasks[key] = self.progress.add_task(f"cycle {cycle} {step}", total=1.0, message="")
        return self.tasks[key]

    def on_event(self, event) -> None:
        if event.kind in ("step_start", "progress"):
            self.progress.update(
                self._task(event.cycle, event.step), completed=event.fraction, message=event.message
            )
        elif event.kind == "step_done":
            self.progress.update(
                self._task(event.cycle, event.step), completed=1.0, message=_done_message(event)
            )
            if not self.live:
                self._line(f"  cycle {event.cycle} {event.step}: {_done_message(event)}")
        elif event.kind == "change":
            what = "setting applied" if event.data.get("action") == "set" else "feedback applied"
            self._line(f"  [cyan]{what}[/] {escape(event.message)}")
        elif event.kind == "retry":
            self._line(f"  [yellow]{event.step} failed[/], {event.message}")
        elif event.kind == "budget":
            self._line(f"[yellow]time budget:[/] {escape(event.message)}")
        elif event.kind == "stopped":
            self._line(f"[red]pipeline stopped:[/] {event.message}")
        elif event.kind == "cycle_done":
            self._line(_cycle_line(event.data))


def _done_message(event) -> str:
    d = event.data
    if event.step == "selfplay":
        return (
            f"{d.get('games')} games, {d.get('positions')} positions, {d.get('games_per_s', 0):.1f} games/s"
        )
    if event.step == "training":
        final = d.get("final", {})
        return (
            f"loss {final.get('train/loss', float('nan')):.3f}, val {final.get('val/loss', float('nan')):.3f}"
        )
    if event.step == "evaluation":
        return f"{d.get('decision')} after {d.get('games')} games, LLR {d.get('llr', 0):.2f}"
    return ""


def _fmt(value, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def _cycle_line(s: dict) -> str:
    """One line per finished cycle: candidate, losses, Elo vs production and on the anchored scale, decision."""
    lo, hi = s.get("elo_ci") or (None, None)
    anchored = s.get("elo_ci_anchored") or (None, None)
    anchors = ", ".join(
        f"{r['name']} {r['elo']:.0f}" for r in s.get("ratings", []) if r["name"].startswith("rollout")
    )
    changes = "; ".join(f"{c['action']} {c['changes']}" for c in s.get("changes", [])) or "-"
    colour = "green" if s["decision"] == "promoted" else "yellow"
    return (
        f"[bold]cycle {s['cycle']}[/] {s['candidate']} | loss {_fmt(s.get('train/loss'), '.3f')} train / "
        f"{_fmt(s.get('val/loss'), '.3f')} val | vs {s.get('opponent')} {_fmt(s.get('elo_delta'), '+.0f')} "
        f"[{_fmt(lo, '+.0f')}, {_fmt(hi, '+.0f')}]{_pairs(s.get('gate_pentanomial'))} | "
        f"Elo {_fmt(s.get('elo'))} [{_fmt(anchored[0])}, "
        f"{_fmt(anchored[1])}] (anchors: {anchors or '-'}) | [{colour}]{s['decision']}[/] | feedback applied: {changes}"
    )


def _pairs(pentanomial: list[int] | None) -> str:
    return f", {pairs_scoring(pentanomial)}" if pentanomial else ""  # none when the gate was unpaired


def _final_report(settings, config_key: str, run: str = MAIN_RUN) -> None:
    from app.integration.report import generation_elos, plot_generations

    rows, anchors = generation_elos(settings, config_key, run)
    title = config_key if run == MAIN_RUN else f"{config_key} run {run}"
    table = Table(title=f"{title}: production generations (Elo, random = 0)")
    for col in ("generation", "model", "Elo", "95% interval", "games"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r.generation), r.model_id, _fmt(r.elo), f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]", str(r.games)
        )
    for name, elo in sorted(anchors.items(), key=lambda kv: kv[1]):
        table.add_row("anchor", name, _fmt(elo), "", "")
    console.print(table)
    if not rows:
        console.print("no model has reached production yet; run more cycles (zeroloop run ... --cycles N)")
    name = f"{config_key}_elo.png" if run == MAIN_RUN else f"{config_key}_{run}_elo.png"
    path = plot_generations(settings.path("plots", name), config_key, rows, anchors)
    console.print(f"plot: {path.resolve()}")
