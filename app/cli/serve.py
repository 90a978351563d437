"""``zeroloop serve`` (start a node) and ``zeroloop jobs ...`` (the job table, read and written directly)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError
from rich import box
from rich.table import Table

from app.cli._common import console
from app.core.config import DEFAULT_PORT, Settings, get_settings
from app.core.errors import InvalidConfig
from app.core.jobs import JobCreate, JobPublic, JobState

jobs_app = typer.Typer(help="List, inspect, submit and cancel jobs (works with or without a node running).")


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default 127.0.0.1; others need a token).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help=f"Port (default {DEFAULT_PORT}; 0 = pick a free one)."),
    ] = None,
    token: Annotated[str | None, typer.Option(help="Bearer token every endpoint but health demands.")] = None,
    slots: Annotated[
        int | None,
        typer.Option(
            min=0, help="Jobs run at once (0: API only; default: cores/2, on Ray two per CPU of the cluster)."
        ),
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option(help="Run jobs on Ray: 'local' starts one, 'auto' or host:port joins one.")
    ] = None,
    node_id: Annotated[str | None, typer.Option(help="Name of this node (default: hostname:port).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn/node log level.")] = "warning",
) -> None:
    """Start a node: the job API (OpenAPI at /docs) and a job runner sharing the data directory's database."""
    from app.web.server import bind
    from app.web.server import serve as run_server

    base = get_settings()
    overrides = {"host": host, "token": token, "node_id": node_id}
    values = {**base.model_dump(), **{k: v for k, v in overrides.items() if v is not None}}
    chosen_port = base.port if port is None else port
    values["port"] = chosen_port or DEFAULT_PORT  # validated below once the real port is known
    settings = _settings(values)
    sock = bind(settings.host, chosen_port)
    settings = _settings({**values, "port": sock.getsockname()[1]})
    run_server(
        settings,
        sock,
        slots=slots,
        ray_address=ray_address,
        log_level=log_level,
        announce=lambda line: console.print(line, highlight=False, soft_wrap=True),
    )


def _settings(values: dict) -> Settings:
    try:
        return Settings(**values)
    except ValidationError as exc:
        # Say what is wrong in the settings' own words, without pydantic's framing.
        reasons = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise InvalidConfig(reasons) from None


def _job_table(jobs: list[JobPublic]) -> Table:
    # Light borders and short times leave room in 80 columns (a pipe); what does not fit folds, never cut.
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    table.add_column("id", no_wrap=True, min_width=16)  # ids are copied from here: never break them
    for name in ("type", "state", "done"):
        table.add_column(name, no_wrap=True)
    table.add_column("config", overflow="fold")
    table.add_column("message", overflow="fold", ratio=1)
    table.add_column("node", overflow="fold")
    table.add_column("created", no_wrap=True)
    for j in jobs:
        table.add_row(
            j.id,
            j.type,
            j.state.value,
            f"{j.progress:.0%}",
            j.config_key or "-",
            (j.error_summary if j.error_summary else j.message or "")[:120],
            j.node_id or "-",
            j.created_at.strftime("%m-%d %H:%M"),
        )
    return table


@jobs_app.command("list")
def jobs_list(
    state: Annotated[JobState | None, typer.Option(help="Only jobs in this state.")] = None,
    type: Annotated[str | None, typer.Option("--type", help="Only jobs of this type.")] = None,
    config_key: Annotated[
        str | None, typer.Option(help="Only jobs of this config key, e.g. hex8_2p.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Newest jobs first."""
    from app.p2p import store

    page = store.list_jobs(get_settings(), state=state, job_type=type, config_key=config_key, limit=limit)
    console.print(_job_table(page.data))
    console.print(f"{len(page.data)} of {page.count} jobs")


@jobs_app.command("status")
def jobs_status(job_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One job in full (config, result, error)."""
    from app.p2p import store

    job = store.get_job(get_settings(), job_id)
    if as_json:
        console.print_json(job.model_dump_json())
        return
    console.print(_job_table([job]))
    console.print(f"config: {json.dumps(job.config)}", highlight=False, soft_wrap=True)
    if job.result is not None:
        console.print(f"result: {json.dumps(job.result)}", highlight=False, soft_wrap=True)
    if job.error:
        console.print(f"[red]error:[/] {job.error}", highlight=False, soft_wrap=True)


@jobs_app.command("submit")
def jobs_submit(
    job_type: Annotated[str, typer.Argument(help="selfplay, training, evaluation, sleep, ...")],
    config: Annotated[str, typer.Option(help="The job's config as a JSON object.")] = "{}",
    priority: Annotated[int, typer.Option(min=-1000, max=1000)] = 0,
) -> None:
    """Queue a job; any node sharing this data directory's database runs it."""
    from app.p2p import store

    try:
        parsed = json.loads(config)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--config is not valid JSON: {exc}") from None
    job = store.submit(get_settings(), JobCreate(type=job_type, config=parsed, priority=priority))
    console.print(job.id)


@jobs_app.command("cancel")
def jobs_cancel(job_id: str) -> None:
    """Cancel a queued or running job (the node running it stops its process)."""
    from app.p2p import store

    job = store.cancel(get_settings(), job_id)
    console.print(f"{job.id}: {job.state.value}")


@jobs_app.command("log")
def jobs_log(job_id: str, max_chars: Annotated[int, typer.Option(min=1)] = 20_000) -> None:
    """The tail of a job's log (what its process printed, when it started and stopped)."""
    from app.p2p import paths, store

    settings = get_settings()
    job = store.get_job(settings, job_id)  # a short id names the job; the log is under its full id
    console.print(paths.log_tail(settings, job.id, max_chars), highlight=False, markup=False, end="")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(jobs_app, name="jobs")
