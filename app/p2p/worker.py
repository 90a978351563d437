"""Run one claimed job: forked by ``python -m app.p2p.worker --forkserver`` or started as ``python -m app.p2p.worker
JOB_ID --lease N`` (local executor), or ``run_job`` (Ray).

The worker owns the job's row while it runs: it records its pid and host, turns the stage's progress calls
into row updates, beats a heartbeat, and writes the result or the error with a traceback summary. Every write
is fenced by the lease (see ``store``): when one finds the job no longer running under that lease (cancelled,
or re-queued and claimed again), the worker stops at once and writes nothing more. It also stops when the node
that started it dies, so that a dead node's jobs can be re-queued rather than run twice.

Exit codes: 0 outcome recorded (or nothing to do), 3 another process holds the job, anything else a crash
the node records as the job's failure.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from typing import Any

from pydantic import BaseModel, TypeAdapter

from app.core.config import Settings, get_settings
from app.p2p import leased, paths
from app.p2p.jobtypes import get_job_type

EXIT_BUSY = 3
EXIT_SUPERSEDED = 4
PROGRESS_MIN_INTERVAL_S = 0.2
HEARTBEAT_S = 2.0
PARENT_CHECK_S = 0.25
TRACEBACK_FRAMES = 8


class Superseded(Exception):
    """The job is no longer running under this worker's lease (cancelled or claimed again)."""


def format_error(exc: BaseException) -> str:
    """``Type: message`` then the innermost frames, enough to find the failing line without flooding the row."""
    frames = traceback.format_tb(exc.__traceback__)[-TRACEBACK_FRAMES:]
    head = f"{type(exc).__name__}: {exc}"
    return head + "\n\nTraceback (innermost frames last):\n" + "".join(frames)


def to_jsonable(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return TypeAdapter(Any).dump_python(result, mode="json")


class _Reporter:
    """The stage's ``progress`` callable: throttled writes, the latest pending one flushed by the heartbeat."""

    def __init__(self, settings: Settings, job_id: str, lease: int):
        self.settings, self.job_id, self.lease = settings, job_id, lease
        self._lock = threading.Lock()
        self._last = 0.0
        self._pending: tuple[float, str] | None = None
        self.superseded = False
        self.finished = False  # set before the outcome is written, so the heartbeat stops competing with it

    def __call__(self, fraction: float, message: str) -> None:
        if self.superseded:
            raise Superseded(self.job_id)
        now = time.monotonic()
        with self._lock:
            if now - self._last < PROGRESS_MIN_INTERVAL_S and fraction < 1.0:
                self._pending = (fraction, message)
                return
            self._pending = None
            self._last = now
        if not leased.report_progress(self.settings, self.job_id, self.lease, fraction, str(message)):
            self.superseded = True
            raise Superseded(self.job_id)

    def beat(self) -> bool:
        """Write the pending progress, or just the heartbeat; False once the job is no longer ours."""
        if self.finished:
            return True
        with self._lock:
            pending, self._pending = self._pending, None
            self._last = time.monotonic()
        if pending is not None:
            ok = leased.report_progress(self.settings, self.job_id, self.lease, *pending)
        else:
            ok = leased.heartbeat(self.settings, self.job_id, self.lease)
        self.superseded = self.superseded or not ok
        return ok


class _Watchdog(threading.Thread):
    """Heartbeats the job and kills the worker when the job is no longer its own or its node has died."""

    def __init__(self, settings: Settings, job_id: str, reporter: _Reporter, parent_pid: int | None):
        super().__init__(name=f"watchdog-{job_id}", daemon=True)
        self.settings, self.job_id, self.reporter, self.parent_pid = settings, job_id, reporter, parent_pid
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        next_beat = time.monotonic() + HEARTBEAT_S
        while not self._stop_event.wait(PARENT_CHECK_S):
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                self._die(f"node process {self.parent_pid} is gone")
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + HEARTBEAT_S
                try:
                    ok = self.reporter.beat()
                except Exception as exc:  # a busy or unreachable DB is retried on the next beat
                    paths.append_log(self.settings, self.job_id, f"heartbeat failed: {exc}")
                    continue
                if not ok and not self._stop_event.is_set():
                    self._die("job was cancelled or claimed again")

    def _die(self, reason: str) -> None:
        paths.append_log(self.settings, self.job_id, f"stop pid={os.getpid()}: {reason}")
        if os.getpgrp() == os.getpid():
            # The local executor made us a process-group leader: take the stage's children with us.
            os.killpg(os.getpgrp(), signal.SIGKILL)
        os._exit(EXIT_SUPERSEDED)


def run_job(
    job_id: str, lease: int, *, settings: Settings | None = None, parent_pid: int | None = None
) -> int:
    """Run the job if it is running under ``lease``; returns the exit code (see module docstring)."""
    settings = settings or get_settings()
    lock = paths.take_lock(settings, job_id)
    if lock is None:
        paths.append_log(
            settings, job_id, f"refused lease={lease} pid={os.getpid()}: another process holds the job"
        )
        return EXIT_BUSY
    try:
        job = leased.load_for_run(settings, job_id, lease)
        if job is None:
            paths.append_log(
                settings, job_id, f"skip lease={lease}: job is no longer running under this lease"
            )
            return 0
        host = socket.gethostname()
        paths.append_log(
            settings,
            job_id,
            f"start type={job.type} lease={lease} attempt={job.attempts} node={job.node_id} "
            f"executor={job.executor} host={host} pid={os.getpid()}",
        )
        if not leased.worker_started(settings, job_id, lease, pid=os.getpid(), host=host):
            return 0
        reporter = _Reporter(settings, job_id, lease)
        watchdog = _Watchdog(settings, job_id, reporter, parent_pid)
        watchdog.start()
        try:
            return _execute(settings, job_id, lease, job.type, job.config, reporter)
        finally:
            watchdog.stop()
    finally:
        lock.close()


def _execute(
    settings: Settings, job_id: str, lease: int, job_type: str, config: dict[str, Any], reporter: _Reporter
) -> int:
    started = time.monotonic()
    try:
        jt = get_job_type(job_type)
        cfg = jt.config_model().model_validate(config)
        result = to_jsonable(jt.runner()(cfg, settings=settings, progress=reporter))
    except Superseded:
        reporter.finished = True
        paths.append_log(settings, job_id, f"stopped lease={lease}: job was cancelled or claimed again")
        return 0
    except Exception as exc:
        reporter.finished = True
        error = format_error(exc)
        recorded = leased.record_failure(settings, job_id, lease, error)
        _log_outcome(settings, job_id, f"failed lease={lease}", started, recorded, f"\n{error}")
        return 0
    reporter.finished = True
    recorded = leased.record_success(settings, job_id, lease, result)
    _log_outcome(settings, job_id, f"succeeded lease={lease}", started, recorded)
    return 0


def _log_outcome(
    settings: Settings, job_id: str, outcome: str, started: float, recorded: bool, detail: str = ""
) -> None:
    elapsed = time.monotonic() - started
    paths.append_log(settings, job_id, f"{outcome} after {elapsed:.3f}s recorded={recorded}{detail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.p2p.worker", description="Run one claimed zeroloop job."
    )
    parser.add_argument("job_id", nargs="?", help="The job to run (omit with --forkserver).")
    parser.add_argument("--lease", type=int, help="The lease the node claimed the job under.")
    parser.add_argument(
        "--parent-pid", type=int, default=None, help="Stop when this process (the node) is gone."
    )
    parser.add_argument(
        "--forkserver",
        action="store_true",
        help="Load the stages, then fork a process per 'JOB_ID LEASE' line on stdin (see serve_forks).",
    )
    args = parser.parse_args(argv)
    if args.forkserver:
        return serve_forks()
    if args.job_id is None or args.lease is None:
        parser.error("JOB_ID and --lease are required without --forkserver")
    if args.parent_pid is not None and os.getppid() != args.parent_pid:
        return EXIT_SUPERSEDED  # the node died before we even started
    settings = get_settings()
    _log_termination(settings, args.job_id)
    return run_job(args.job_id, args.lease, settings=settings, parent_pid=args.parent_pid)


def _preload() -> None:
    """Pay the start-up (interpreter, torch, the stages, the database's migrations) before there is a job."""
    from app.p2p.jobtypes import job_types
    from app.storage.db import dispose_engines, get_engine

    for jt in job_types():
        try:
            jt.config_model()
            jt.runner()
        except Exception:  # noqa: S112 - a type that cannot load fails in its own job, with the reason logged
            continue
    get_engine(get_settings())
    dispose_engines()  # no connection is shared with a forked job: each opens its own
    # The CPU evaluator's runtime, imported lazily elsewhere: loading it here takes ~1 s off the job's start.
    import onnx  # noqa: F401
    import onnxruntime  # noqa: F401


def serve_forks() -> int:
    """The fork server: preload once, then fork one process per job line ``JOB_ID LEASE`` read on stdin.

    Each job still runs in a process of its own (its own session, so cancel takes its children; its output in
    the job's log), but starts in milliseconds without paying the ~4 CPU-seconds of start-up again, which on a
    small machine competed with the job that was running. Reports ``started JOB_ID PID`` and ``exit PID CODE``
    (as ``Popen.returncode``: a signal is negative) on stdout. EOF on stdin (the node is gone or closing) ends
    the server; its jobs then see their parent gone and stop, as a worker whose node died does.
    """
    _preload()
    out, write_lock, forked = sys.stdout.fileno(), threading.Lock(), threading.Semaphore(0)

    def say(line: str) -> None:
        with write_lock:
            os.write(out, line.encode() + b"\n")

    def reap() -> None:
        while True:
            forked.acquire()
            pid, status = os.wait()
            say(f"exit {pid} {os.waitstatus_to_exitcode(status)}")

    threading.Thread(target=reap, name="reaper", daemon=True).start()
    server = os.getpid()
    for raw in sys.stdin.buffer:
        words = raw.decode(errors="replace").split()
        if len(words) != 2 or not words[1].isdigit():
            continue
        with write_lock:  # never fork while the reaper is half-way through a write
            pid = os.fork()
        if pid == 0:
            _run_forked(words[0], int(words[1]), server)
        say(f"started {words[0]} {pid}")
        forked.release()
    return 0


def _run_forked(job_id: str, lease: int, server: int) -> None:
    """The forked child: a session of its own, stdin closed, output to the job's log, the job, then exit."""
    code = 1
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        settings = get_settings()
        _redirect_output(paths.log_path(settings, job_id))
        paths.append_log(settings, job_id, f"forked pid={os.getpid()} by the fork server pid={server}")
        _log_termination(settings, job_id)
        code = run_job(job_id, lease, settings=settings, parent_pid=server)
    except BaseException:  # noqa: BLE001 - the job's log gets the traceback; the exit code tells the node
        traceback.print_exc()
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _redirect_output(log: os.PathLike) -> None:
    """Point stdout/stderr (and any child's) at the job's log, as a worker started for the job would have."""
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _log_termination(settings: Settings, job_id: str) -> None:
    """Leave a line in the job's log when the node terminates us (cancel, shutdown), then die of the signal."""

    def handler(signum: int, _frame: Any) -> None:
        paths.append_log(
            settings, job_id, f"stop pid={os.getpid()}: terminated by {signal.Signals(signum).name}"
        )
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    code = main()
    # The outcome is committed: skip the interpreter's teardown (slow with torch and numba loaded, slower on a
    # busy machine), which would keep the job's slot taken after the job is done.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
