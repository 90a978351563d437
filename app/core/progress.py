"""How long-running work reports progress: a callable taking a fraction in [0, 1] and a short message.

Stages receive one of these; the job system turns calls into rows of the job table, the CLI into progress bars.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """The progress callback for callers that do not watch."""
