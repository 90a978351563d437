"""Node benchmark over real HTTP: submit and status latency, submissions per second, submit-to-running.

    python bench/node.py [--submits 500] [--statuses 1000] [--threads 4] [--trivial 15]

Starts its own nodes (``python -m app serve``) on free loopback ports in a temporary data directory:
one with ``--slots 0`` (API only, so no job process competes with the measurement) for the latencies, one with
``--slots 1`` for the time from submit to running of a trivial ``sleep`` job on the local executor. The
baseline measured in the same run is ``GET /api/health`` (HTTP + framework, no database).
Targets (issue 5): status p99 <= 20 ms, >= 200 submissions/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.p2p.nodeproc import NodeProcess  # noqa: E402

STATUS_P99_TARGET_MS = 20.0
SUBMISSIONS_TARGET = 200.0


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) a process has used, in ms: unlike wall time, not inflated by other load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def row(name: str, ms: list[float]) -> str:
    return f"  {name:<26} p50 {pct(ms, 50):7.2f} ms   p99 {pct(ms, 99):7.2f} ms   max {max(ms):7.2f} ms   (n={len(ms)})"


def latencies(node: NodeProcess, args: argparse.Namespace) -> tuple[float, float]:
    with node.client() as p2p:
        for _ in range(20):  # warm up connections, imports and caches
            p2p.health()
            p2p.get_job_status(p2p.submit_job("sleep", {"seconds": 0}))
        pid = node.proc.pid
        c0 = cpu_ms(pid)
        health = timed(p2p.health, args.statuses)
        c1 = cpu_ms(pid)
        ids: list[str] = []
        t0 = time.perf_counter()
        submit = timed(lambda: ids.append(p2p.submit_job("sleep", {"seconds": 0})), args.submits)
        sequential_rate = args.submits / (time.perf_counter() - t0)
        c2 = cpu_ms(pid)
        status = timed(lambda: p2p.get_job_status(ids[len(ids) // 2]), args.statuses)
        c3 = cpu_ms(pid)
        listing = timed(lambda: p2p.list_jobs(limit=50), max(50, args.statuses // 10))

    per_thread = args.submits // args.threads
    errors: list[Exception] = []

    def submitter() -> None:
        with node.client() as client:
            try:
                for _ in range(per_thread):
                    client.submit_job("sleep", {"seconds": 0})
            except Exception as exc:  # reported below; a failed submission must not pass silently
                errors.append(exc)

    threads = [threading.Thread(target=submitter) for _ in range(args.threads)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    concurrent_rate = per_thread * args.threads / (time.perf_counter() - t0)
    if errors:
        raise SystemExit(f"{len(errors)} concurrent submissions failed, first: {errors[0]}")

    print("latency over HTTP (node with --slots 0):")
    print(row("GET /api/health (baseline)", health))
    print(row("POST /api/jobs (submit)", submit))
    print(row("GET /api/jobs/{id} (status)", status))
    print(row("GET /api/jobs?limit=50", listing))
    print(f"  submissions/s sequential  {sequential_rate:7.1f}")
    print(f"  submissions/s {args.threads} threads   {concurrent_rate:7.1f}")
    submit_cpu = (c2 - c1) / args.submits
    print("node CPU per request (user+system of the node process; independent of other load):")
    print(
        f"  health {(c1 - c0) / args.statuses:.2f} ms   submit {submit_cpu:.2f} ms   "
        f"status {(c3 - c2) / args.statuses:.2f} ms   -> one core sustains ~{1000 / submit_cpu:.0f} submissions/s"
    )
    return pct(status, 99), max(sequential_rate, concurrent_rate)


def submit_to_running(node: NodeProcess, n: int) -> None:
    claim_ms, observed_ms, total_ms = [], [], []
    with node.client() as p2p:
        for _ in range(n):
            t0 = time.perf_counter()
            job_id = p2p.submit_job("sleep", {"seconds": 0})
            while (job := p2p.get_job_status(job_id)).state.value == "queued":
                time.sleep(0.002)
            observed_ms.append((time.perf_counter() - t0) * 1000)
            done = p2p.wait(job_id, timeout=120, poll_s=0.01)
            total_ms.append((time.perf_counter() - t0) * 1000)
            claim_ms.append((job.started_at - job.created_at).total_seconds() * 1000)
            assert done.succeeded, done.error
    print("trivial sleep job on the local executor (node with --slots 1):")
    print(row("submit -> running (row)", claim_ms))
    print(row("submit -> running (client)", observed_ms))
    print(row("submit -> succeeded", total_ms))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--submits", type=int, default=500)
    parser.add_argument("--statuses", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--trivial", type=int, default=15, help="Trivial jobs timed from submit to running.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zl-bench-") as tmp:
        with NodeProcess(Path(tmp) / "api", slots=0) as node:
            status_p99, rate = latencies(node, args)
        with NodeProcess(Path(tmp) / "run", slots=1) as node:
            submit_to_running(node, args.trivial)
    print("targets:")
    print(
        f"  status p99 {status_p99:.2f} ms (target <= {STATUS_P99_TARGET_MS:g} ms): "
        f"{'met' if status_p99 <= STATUS_P99_TARGET_MS else 'MISSED'}"
    )
    print(
        f"  submissions/s {rate:.1f} (target >= {SUBMISSIONS_TARGET:g}): "
        f"{'met' if rate >= SUBMISSIONS_TARGET else 'MISSED'}"
    )
    print(f"  (machine: {statistics.mean(_load()):.2f} load average over 1 min at the end)")


def _load() -> list[float]:
    try:
        return [float(Path("/proc/loadavg").read_text().split()[0])]
    except OSError:
        return [float("nan")]


if __name__ == "__main__":
    main()
