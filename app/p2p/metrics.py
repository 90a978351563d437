"""Prometheus metrics of a node: jobs by type and state (read from the database at scrape time, so every node
reports the whole cluster's queue) and the durations of the jobs this node ran."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from app.core.config import Settings
from app.core.jobs import JobPublic, JobState
from app.p2p import nodes, store

DURATION_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 3 * 3600, 12 * 3600, float("inf"))


class _JobTableCollector:
    def __init__(self, settings: Settings, hostname: str):
        self.settings, self.hostname = settings, hostname

    def collect(self):
        jobs = GaugeMetricFamily(
            "zeroloop_jobs", "Jobs in the job table by type and state.", labels=["type", "state"]
        )
        counts = store.counts_by_state(self.settings)
        for job_type in sorted({t for t, _ in counts}):
            for state in JobState:
                jobs.add_metric([job_type, state.value], counts.get((job_type, state.value), 0))
        yield jobs
        status = nodes.cluster_status(self.settings, hostname=self.hostname)
        alive = GaugeMetricFamily("zeroloop_nodes_alive", "Nodes beating within the staleness window.")
        alive.add_metric([], sum(n.alive for n in status.nodes))
        yield alive
        slots = GaugeMetricFamily("zeroloop_cluster_slots", "Job slots of the live nodes together.")
        slots.add_metric([], status.slots)
        yield slots


class JobMetrics:
    """One registry per node (not the global one), so several nodes can live in one process (tests)."""

    def __init__(self, settings: Settings, hostname: str):
        self.registry = CollectorRegistry()
        self.duration = Histogram(
            "zeroloop_job_duration_seconds",
            "Wall time from start to finish of the jobs this node ran, by type and final state.",
            ["type", "state"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_JobTableCollector(settings, hostname))

    def observe(self, job: JobPublic) -> None:
        if job.done and job.started_at is not None and job.finished_at is not None:
            seconds = max(0.0, (job.finished_at - job.started_at).total_seconds())
            self.duration.labels(job.type, job.state.value).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
