"""A config key's runs (branches) for the dashboard and scripts (see ``app.web.dashboard.runs``).

The service module is imported inside each route, as in ``loop``: the node starts and runs jobs without the
evaluation and integration layers it reads.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.core.names import RUN_PATTERN
from app.web.dashboard import runs
from app.web.dashboard.schemas import RunsDiffPublic, RunsPublic
from app.web.deps import ConfigKeyPath, SettingsDep

router = APIRouter(tags=["loop"])
RunQuery = Annotated[
    str, Query(pattern=RUN_PATTERN, max_length=32, description="A run name, e.g. main or wide.")
]


@router.get("/configs/{config_key}/runs")
def list_runs(config_key: ConfigKeyPath, settings: SettingsDep) -> RunsPublic:
    """Every run of a config key: fork point, production, models, cycles, and its production generations' Elo
    on the config key's one anchored scale."""
    return runs.runs_view(settings, config_key)


@router.get("/configs/{config_key}/runs/diff")
def diff_runs(config_key: ConfigKeyPath, a: RunQuery, b: RunQuery, settings: SettingsDep) -> RunsDiffPublic:
    """The settings two runs differ in (and their fork points); 404 names the runs there are."""
    return runs.runs_diff(settings, config_key, a, b)
