"""Hosts for the cluster tests: Linux network namespaces on this machine, each with a Ray node.

``Cluster.up(root, workers)`` makes a head namespace holding a bridge at 10.231.7.1/24 and one namespace per worker
host, joined to the bridge by a veth pair (10.231.7.2, .3, ...): the addresses exist only inside the test's own
namespaces, so no packet leaves them. The head's Ray node (no CPUs: every CPU task lands on a worker host) runs
as root; each worker host's Ray node runs as ``nobody`` in a mount namespace of its own where ``/root`` is an
empty tmpfs with only the Python installation bound back in, so the worker can run the code but cannot read the
node's data directory (mode 0700) or anything else of root's. ``down`` kills every process left in the
namespaces (by pid, from ``ip netns pids``) and deletes them, whatever happened before.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SUBNET = "10.231.7"
HEAD_IP = f"{SUBNET}.1"
RAY_PORT = 6379
NOBODY = 65534
PYENV = Path("/root/.pyenv")


def _sh(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} exited {done.returncode}: {done.stderr.strip() or done.stdout.strip()}"
        )
    return done


def netns_unavailable() -> str | None:
    """Why this machine cannot run the cluster tests, or None when it can."""
    if os.geteuid() != 0:
        return "the cluster tests make network namespaces and users' processes: they need root"
    for tool in ("ip", "unshare", "setpriv"):
        if shutil.which(tool) is None:
            return f"{tool} is missing"
    probe = f"zlprobe{os.getpid()}"
    made = _sh("ip", "netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"ip netns is not permitted here ({made.stderr.strip()})"
    _sh("ip", "netns", "del", probe, check=False)
    return None


def _as_nobody(host: Host, base: Path) -> list[str]:
    """A command prefix: on ``host``, in a mount namespace of its own where root's home is an empty tmpfs with only
    the Python installation bound back in, as ``nobody``."""
    script = (
        f"mount --bind {PYENV} {base}/pyenv && mount -t tmpfs -o mode=755 tmpfs /root && "
        f"mkdir /root/.pyenv && mount --bind {base}/pyenv /root/.pyenv && "
        f'exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups "$0" "$@"'
    )
    return [
        "ip",
        "netns",
        "exec",
        host.netns,
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
    ]


def ray_env(temp_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROLOOP_", "RAY_"))}
    env.update(RAY_TMPDIR=temp_dir, PYTHONPATH=str(REPO), RAY_USAGE_STATS_ENABLED="0")
    return env


@dataclass
class Host:
    netns: str
    ip: str
    resource: str  # a custom Ray resource only this host has (1 of it)


@dataclass
class Cluster:
    root: Path  # short, for Ray's socket paths
    head: Host
    workers: list[Host] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{HEAD_IP}:{RAY_PORT}"

    @classmethod
    def up(cls, workers: int, tag: str) -> Cluster:
        root = Path(tempfile.mkdtemp(prefix="zlc", dir="/tmp"))
        root.chmod(0o755)
        head = Host(f"zl{tag}h", HEAD_IP, "zl_head")
        cluster = cls(
            root, head, [Host(f"zl{tag}w{i}", f"{SUBNET}.{i + 2}", f"zl_w{i}") for i in range(workers)]
        )
        try:
            cluster._network()
            cluster._start_head()
            for host in cluster.workers:
                cluster._start_worker(host)
            cluster.wait_for_nodes(1 + workers)
        except BaseException:
            cluster.down()
            raise
        return cluster

    def _network(self) -> None:
        h = self.head.netns
        _sh("ip", "netns", "add", h)
        _sh("ip", "-n", h, "link", "set", "lo", "up")
        _sh("ip", "-n", h, "link", "add", "zlbr", "type", "bridge")
        _sh("ip", "-n", h, "addr", "add", f"{HEAD_IP}/24", "dev", "zlbr")
        _sh("ip", "-n", h, "link", "set", "zlbr", "up")
        for i, host in enumerate(self.workers):
            w = host.netns
            _sh("ip", "netns", "add", w)
            _sh(
                "ip", "link", "add", f"zlv{i}", "netns", h, "type", "veth", "peer", "name", "eth0", "netns", w
            )
            _sh("ip", "-n", h, "link", "set", f"zlv{i}", "master", "zlbr", "up")
            _sh("ip", "-n", w, "addr", "add", f"{host.ip}/24", "dev", "eth0")
            _sh("ip", "-n", w, "link", "set", "eth0", "up")
            _sh("ip", "-n", w, "link", "set", "lo", "up")

    def _ray_start(self, host: Host, prefix: list[str], temp_dir: Path, *extra: str) -> None:
        ray = str(Path(sys.executable).parent / "ray")
        args = [
            *prefix, ray, "start", f"--node-ip-address={host.ip}", "--disable-usage-stats",
            "--include-log-monitor=false", f"--temp-dir={temp_dir}",
            f"--resources={json.dumps({host.resource: 1})}", *extra,
        ]  # fmt: skip
        env = ray_env(str(temp_dir))
        env["HOME"] = str(temp_dir.parent)
        env["NUMBA_CACHE_DIR"] = str(temp_dir.parent / "numba")
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=180)
        if done.returncode != 0:
            raise RuntimeError(
                f"ray start on {host.netns} failed: {done.stderr[-3000:]}{done.stdout[-2000:]}"
            )

    def _start_head(self) -> None:
        temp = self.root / "head" / "ray"
        temp.mkdir(parents=True)
        self._ray_start(
            self.head, ["ip", "netns", "exec", self.head.netns], temp,
            "--head", f"--port={RAY_PORT}", "--num-cpus=0", "--include-dashboard=false",
        )  # fmt: skip

    def _start_worker(self, host: Host) -> None:
        base = self.root / host.netns
        temp = base / "ray"
        temp.mkdir(parents=True)
        (base / "pyenv").mkdir()
        for path in (base, temp):
            os.chown(path, NOBODY, NOBODY)
        prefix = _as_nobody(host, base)
        self._ray_start(host, prefix, temp, f"--address={self.address}", "--num-cpus=1")

    def as_worker(self, host: Host, *command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run a command on a worker host as its Ray node's user, with its view of the filesystem."""
        prefix = _as_nobody(host, self.root / host.netns)
        return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=timeout)

    def wait_for_nodes(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        script = "import ray,sys; ray.init(address=sys.argv[1]); print(sum(n['Alive'] for n in ray.nodes()))"
        while True:
            done = subprocess.run(
                ["ip", "netns", "exec", self.head.netns, sys.executable, "-c", script, self.address],
                capture_output=True, text=True, env=ray_env(str(self.root / "head" / "ray")), timeout=120,
            )  # fmt: skip
            if done.returncode == 0 and done.stdout.strip().splitlines()[-1:] == [str(count)]:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the Ray cluster did not reach {count} nodes: {done.stdout}{done.stderr[-2000:]}"
                )
            time.sleep(2)

    def revive(self) -> None:
        """Start the Ray node again on every worker host that ``kill_host`` (or a test) took down: a replacement
        machine at the same address."""
        dead = [
            h for h in self.workers if not _sh("ip", "netns", "pids", h.netns, check=False).stdout.split()
        ]
        for host in dead:
            shutil.rmtree(self.root / host.netns, ignore_errors=True)
            self._start_worker(host)
        if dead:
            self.wait_for_nodes(1 + len(self.workers))

    def kill_host(self, host: Host) -> list[int]:
        """SIGKILL every process on a host (its Ray node and the job processes under it): the machine died."""
        pids = [int(p) for p in _sh("ip", "netns", "pids", host.netns, check=False).stdout.split()]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    def down(self) -> None:
        for host in [*self.workers, self.head]:
            for _ in range(3):
                if not self.kill_host(host):
                    break
                time.sleep(0.5)
            _sh("ip", "netns", "del", host.netns, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
