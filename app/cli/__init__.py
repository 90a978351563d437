"""The ``zeroloop`` command. Each module of this package adds its commands through ``register(app)``.

Commands are thin: parse, call one function of the layer below, format. Bad input exits with code 2 and a
message on stderr; ``--home`` selects the data directory for the command and every process it starts.
Commands import their stage inside the function: ``zeroloop --help`` and a typo's error must not wait for torch,
numba or SQLAlchemy (the stage config modules are cheap and imported at the top, for the generated options).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from app.core.config import reset_settings

app = typer.Typer(
    name="zeroloop",
    help="AlphaZero-style self-play training loop: selfplay, training, evaluation, promotion, production.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


@app.callback()
def _root(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", help="Data directory (default: $ZEROLOOP_HOME, else ./zeroloop-data).", envvar=None
        ),
    ] = None,
) -> None:
    if home is not None:
        os.environ["ZEROLOOP_HOME"] = str(home.resolve())
        reset_settings()


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    from app.cli._argv import hoist_home
    from app.cli._errors import debug_requested, describe, format_traceback

    debug, argv = debug_requested(sys.argv[1:])
    argv = hoist_home(argv)
    # SIGTERM unwinds like Ctrl-C, so a stopped command's context managers run: `zeroloop run` hands its jobs
    # back to the queue (and selfplay resumes from the shards it wrote) instead of leaving them "running".
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        _note_new_home(argv)
        app(args=argv, standalone_mode=True)
    except Exception as exc:  # noqa: BLE001 - the one place errors become messages; bugs are re-raised
        message = describe(exc)
        if message is None:
            raise
        if debug:
            err_console.print(format_traceback(exc), markup=False, highlight=False)
        err_console.print("[bold red]error:[/]", escape(message), highlight=False, soft_wrap=True)
        sys.exit(2)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def _note_new_home(argv: list[str]) -> None:
    from app.cli._errors import new_home_notice

    if argv[:1] == ["--home"] and len(argv) > 1:
        os.environ["ZEROLOOP_HOME"] = str(Path(argv[1]).resolve())
        reset_settings()
    elif argv[:1] and argv[0].startswith("--home="):
        os.environ["ZEROLOOP_HOME"] = str(Path(argv[0].split("=", 1)[1]).resolve())
        reset_settings()
    notice = new_home_notice(argv)
    if notice:
        err_console.print(notice, highlight=False, soft_wrap=True)
