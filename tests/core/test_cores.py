"""usable_cores: the affinity mask where the OS has one, else the machine's count."""

import os

from app.core.cores import usable_cores
from app.integration.pipeline_config import PipelineConfig


def test_the_affinity_mask_counts_where_there_is_one(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert usable_cores() == 3
    assert PipelineConfig(selfplay_jobs=0).job_slots == 3
    assert PipelineConfig(selfplay_jobs=0, mode="async").job_slots == 4  # the other lane's slot


def test_without_sched_getaffinity_the_machine_count_is_used(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)  # macOS, Windows
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert usable_cores() == 8
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert usable_cores() == 1
