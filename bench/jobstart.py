"""Job start-up on the local executor: forked from the warm fork server vs a fresh worker process per job.

    python bench/jobstart.py [--jobs 6]

Runs ``--jobs`` trivial ``sleep`` jobs one after another on an in-process node (one slot) in a temporary data
directory, once with the fork server (the default) and once starting ``python -m app.p2p.worker`` for each job
(the baseline, what every job paid before standby workers; a standby worker paid the same CPU, only earlier).
Prints per job the wall time from submit to succeeded and the CPU-seconds the whole machine spent (from
``/proc/stat``, so the worker processes count), and the ratios. The first job of each round is left out: it
pays the fork server's own start-up once.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def machine_cpu_s() -> float:
    """Busy CPU-seconds of all cores since boot (/proc/stat: everything but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def round_of(forked: bool, jobs: int) -> tuple[float, float]:
    """(median wall s per job, CPU-s per job) over ``jobs`` jobs after a first one."""
    from app.core.config import Settings
    from app.core.jobs import wait_for
    from app.p2p import store
    from app.p2p.executors.local import LocalExecutor
    from app.p2p.local_jobs import LocalJobs
    from app.p2p.node import Node

    home = Path(tempfile.mkdtemp(prefix="zl-bench-jobstart-"))
    settings = Settings(home=home)
    jobs_client = LocalJobs(settings, run_jobs=False)
    node = Node(
        settings, LocalExecutor(settings, standby=forked), node_id=f"{socket.gethostname()}:bench", slots=1
    )
    node.start()
    try:

        def one() -> float:
            started = time.perf_counter()
            job_id = jobs_client.submit("sleep", {"seconds": 0, "progress_steps": 1})
            node.job_submitted()
            job = wait_for(lambda j: store.get_job(settings, j), job_id, 120)
            assert job.succeeded, job.error
            return time.perf_counter() - started

        one()  # the fork server's own start-up, paid once per node
        time.sleep(1.0)
        cpu0 = machine_cpu_s()
        walls = [one() for _ in range(jobs)]
        time.sleep(1.0)  # let a worker's teardown finish inside the measurement
        cpu = (machine_cpu_s() - cpu0) / jobs
    finally:
        node.stop()
    return statistics.median(walls), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=6)
    args = parser.parse_args()
    fork_wall, fork_cpu = round_of(True, args.jobs)
    plain_wall, plain_cpu = round_of(False, args.jobs)
    print(f"job start-up, {args.jobs} trivial jobs each (median wall per job; machine CPU-s per job):")
    print(f"  fork server      {fork_wall * 1000:8.0f} ms   {fork_cpu:6.2f} CPU-s")
    print(f"  fresh process    {plain_wall * 1000:8.0f} ms   {plain_cpu:6.2f} CPU-s")
    print(f"  ratio            {plain_wall / fork_wall:8.1f}x      {plain_cpu / max(fork_cpu, 1e-3):6.1f}x")


if __name__ == "__main__":
    main()
