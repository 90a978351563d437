"""The one place where an exception that escapes a command becomes a short message and exit code 2.

Users see what is wrong and what would be valid; ``--debug`` or ``ZEROLOOP_DEBUG=1`` keeps the traceback for bug
reports. Errors not listed here are bugs and keep their traceback.
"""

from __future__ import annotations

import os
import sqlite3
import traceback

from app.core.config import get_settings
from app.core.errors import ZeroloopError

DEBUG_FLAG = "--debug"


def debug_requested(argv: list[str]) -> tuple[bool, list[str]]:
    """Whether tracebacks were asked for, and ``argv`` without ``--debug`` (typer does not know the flag)."""
    wanted = DEBUG_FLAG in argv or os.environ.get("ZEROLOOP_DEBUG", "").strip() not in ("", "0", "false")
    return wanted, [a for a in argv if a != DEBUG_FLAG]


def _home() -> str:
    try:
        return str(get_settings().home)
    except Exception:  # noqa: BLE001 - settings themselves may be what is broken
        return os.environ.get("ZEROLOOP_HOME", "zeroloop-data")


def _is_database_error(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.DatabaseError):
        return True
    orig = getattr(exc, "orig", None)
    return type(exc).__module__.startswith("sqlalchemy") and isinstance(orig, sqlite3.DatabaseError)


def describe(exc: BaseException) -> str | None:
    """The user-facing message for ``exc``, or None when it is a bug that deserves its traceback."""
    if isinstance(exc, (ZeroloopError, ValueError, LookupError)) and not isinstance(exc, UnicodeError):
        return str(exc)
    if _is_database_error(exc):
        orig = getattr(exc, "orig", exc)
        return (
            f"the database in {_home()} cannot be read ({orig}).\nRestore zeroloop.db from a backup "
            "or pass --home with another data directory"
        )
    if isinstance(exc, PermissionError) and "token" in str(exc):
        msg = str(exc).replace(
            "pass P2PIntegration(token=...) or set ZEROLOOP_TOKEN", "pass --token or set ZEROLOOP_TOKEN"
        )
        if "refused this client's token" in msg:
            msg += "; pass the node's token with --token or ZEROLOOP_TOKEN"
        return msg
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        return (
            f"the data directory {_home()} is not a directory ({exc.strerror}: {exc.filename}).\n"
            "pass --home with a directory path (it is created when missing)"
        )
    if isinstance(exc, FileNotFoundError):
        return (
            f"a file zeroloop needs is missing: {exc.filename or exc}; re-register the model with a valid "
            "--artifact, or use another --home"
        )
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename or ''} (data directory {_home()})".rstrip()
    return None


def format_traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


# Commands that only read: run in a data directory that does not exist yet, they would quietly answer "nothing
# stored", which hides a mistyped --home.
READ_ONLY = {("ratings",), ("models", "list"), ("models", "show"), ("models", "history"), ("jobs", "list")}


def new_home_notice(argv: list[str]) -> str | None:
    """A note naming the data directory when a read-only command runs in one that holds no database yet."""
    words = [a for a in argv if not a.startswith("-")]
    if argv[:1] == ["--home"]:
        words = [a for a in argv[2:] if not a.startswith("-")]
    if tuple(words[:1]) not in READ_ONLY and tuple(words[:2]) not in READ_ONLY:
        return None
    try:
        settings = get_settings()
    except Exception:  # noqa: BLE001 - a broken setting is reported by the command itself
        return None
    if not settings.is_sqlite or (settings.home / "zeroloop.db").exists():
        return None
    return f"note: the data directory {settings.home.resolve()} is new (no database yet); pass --home to use another"
