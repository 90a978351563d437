"""The ``pipeline`` job type: a whole run of the loop submitted to a node like any other job.

The job's process starts its own in-process node (``LocalJobs``) for the stage jobs, so a pipeline job never waits
for a slot that it occupies itself; other nodes sharing the database may pick up those stage jobs just as well.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.core.config import Settings, get_settings
from app.core.progress import ProgressFn, no_progress
from app.games.job_config import GameJobConfig
from app.integration.pipeline_config import PipelineConfig, defaults_for
from app.p2p.local_jobs import LocalJobs


class PipelineJobConfig(GameJobConfig):
    cycles: int = Field(default=4, ge=1, le=10_000, description="Cycles to have finished (resumes).")
    pipeline: PipelineConfig | None = Field(
        default=None, description="Pipeline settings; None = the defaults."
    )


def run_pipeline_job(
    cfg: PipelineJobConfig, *, settings: Settings | None = None, progress: ProgressFn = no_progress
) -> dict[str, Any]:
    from app.integration.pipeline import Pipeline, PipelineEvent  # torch and the stages: only when a job runs

    key = cfg.config_key
    steps = 4 * cfg.cycles

    def on_event(event: PipelineEvent) -> None:
        if event.kind in ("progress", "step_done") and event.step:
            index = (event.cycle - 1) * 4 + ("selfplay", "training", "evaluation").index(event.step)
            progress(
                min(1.0, (index + event.fraction) / steps),
                f"cycle {event.cycle} {event.step}: {event.message}",
            )

    settings = settings or get_settings()
    config = cfg.pipeline or defaults_for(key)
    with LocalJobs(settings, slots=config.job_slots) as jobs:
        pipeline = Pipeline(key, settings=settings, config=config, jobs=jobs, on_event=on_event)
        cycles = pipeline.run(cfg.cycles)
    return {"config_key": key, "cycles": [c.summary for c in cycles]}
