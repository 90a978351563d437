"""Helpers shared by the CLI modules: the console, stage configs from options, and a stage progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from app.core.errors import InvalidConfig

console = Console()
M = TypeVar("M", bound=BaseModel)


def pairs_scoring(pentanomial: list[int]) -> str:
    """A paired gate's pairs by the candidate's points: when nearly all score 1, the openings decide the games."""
    return f"pairs scoring 0/0.5/1/1.5/2: {'/'.join(map(str, pentanomial))}"


def build_config(model: type[M], fields: Mapping[str, Any], options: Mapping[str, str] | None = None) -> M:
    """``model(**fields)``; a validation error becomes ``InvalidConfig`` naming each bad field by its option.

    ``options`` maps field names to the option a user typed (``{"games": "--games"}``). A validator's own error
    (an unknown board, say) is shown as it was raised, without pydantic's prefix.
    """
    try:
        return model(**fields)
    except ValidationError as exc:
        raise InvalidConfig(validation_message(exc, options or {})) from None


def validation_message(exc: ValidationError, options: Mapping[str, str]) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(map(str, e["loc"]))
        where = options.get(where, where)
        error = e.get("ctx", {}).get("error") if e["type"] == "value_error" else None
        text = str(error) if error is not None else e["msg"]
        parts.append(f"{where}: {text}" if where else text)
    return "; ".join(parts)


@contextmanager
def stage_progress(title: str, *, disable: bool = False) -> Iterator[Callable[[float, str], None]]:
    """A progress bar for one stage; yields the ``ProgressFn`` to hand to the stage function."""
    progress = Progress(
        TextColumn(f"[bold]{title}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[message]}"),
        console=console,
        disable=disable,
    )
    with progress:
        task = progress.add_task(title, total=1.0, message="starting")
        yield lambda fraction, message: progress.update(task, completed=fraction, message=message)


def add_group(app: typer.Typer, name: str, help: str, commands: Mapping[str, Callable[..., Any]]) -> None:
    """``zeroloop NAME COMMAND``: a command group of ``app`` (shows its help when given no command)."""
    group = typer.Typer(help=help, no_args_is_help=True)
    for command, function in commands.items():
        group.command(command)(function)
    app.add_typer(group, name=name)
