"""How many CPU cores this process may use."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on: its affinity mask where the OS has one (Linux), else the machine's count.

    ``os.cpu_count()`` alone counts the host's cores, which a container limited by affinity does not have; macOS and
    Windows have no ``sched_getaffinity``."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
