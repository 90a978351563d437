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


ALL_CORES = 0
"""A thread count for a process that has the machine to itself (the trainer between the loop's other stages): one
thread per core it may run on, at most ``MAX_ALL_CORES``."""
# The 4x32 net's ops at batch 128 are small; threads beyond a few are unmeasured here and likely idle.
MAX_ALL_CORES = 4


def threads_for(num_threads: int) -> int:
    """``num_threads`` as a count: ``ALL_CORES`` becomes one per usable core, at most ``MAX_ALL_CORES``."""
    return min(usable_cores(), MAX_ALL_CORES) if num_threads == ALL_CORES else num_threads
