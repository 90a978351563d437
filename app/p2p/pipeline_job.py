"""The ``pipeline`` job type: a whole run of the loop submitted to a node like any other job.

The job's process starts its own in-process node (``LocalJobs``) for the stage jobs, so a pipeline job never waits
for a slot that it occupies itself; other nodes sharing the database may pick up those stage jobs just as well.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.config import Settings, get_settings
from app.core.names import config_key
from app.core.progress import ProgressFn, no_progress
from app.integration.pipeline_config import PipelineConfig, defaults_for
from app.p2p.local_jobs import LocalJobs


class PipelineJobConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    board_type: str = Field(description="Board type from the games registry, e.g. 'hex6'.")
    num_players: int = Field(default=2, ge=2, le=4, description="Players per game.")
    cycles: int = Field(default=4, ge=1, le=10_000, description="Cycles to have finished (resumes).")
    pipeline: PipelineConfig | None = Field(
        default=None, description="Pipeline settings; None = the defaults."
    )

    @model_validator(mode="after")
    def _known_game(self) -> PipelineJobConfig:
        # Imported here: the game kernels (numba) load when a config is checked, not when its module is imported.
        from app.games.registry import make_game

        make_game(self.board_type, self.num_players)
        return self


def run_pipeline_job(
    cfg: PipelineJobConfig, *, settings: Settings | None = None, progress: ProgressFn = no_progress
) -> dict[str, Any]:
    from app.integration.pipeline import Pipeline, PipelineEvent  # torch and the stages: only when a job runs

    key = config_key(cfg.board_type, cfg.num_players)
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
