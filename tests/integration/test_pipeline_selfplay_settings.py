"""Search settings of the loop's selfplay (MCTS-solver, playout cap randomisation, random openings) reach the
selfplay job."""

from __future__ import annotations

from app.integration import pipeline_stages
from app.integration.pipeline import Pipeline
from app.selfplay import SelfplayConfig

from .test_pipeline import KEY, tiny_config


def _selfplay(settings, **update):
    config = tiny_config().model_copy(update=update)
    with Pipeline(KEY, settings=settings, config=config, jobs=object()) as pipeline:
        cycle = pipeline._ensure_cycle(1)
        config = pipeline_stages.selfplay_config(
            pipeline.config, cycle, pipeline.config.cycle, board_type="hex5", num_players=2
        )
        return pipeline_stages.job_config(config)


def test_defaults_send_nothing_new(settings):
    job = _selfplay(settings)
    assert not {"solver", "full_search_fraction", "cheap_simulations", "opening_moves", "successor"} & set(
        job
    )


def test_solver_and_playout_cap_reach_a_valid_selfplay_job(settings):
    job = _selfplay(settings, solver=True, full_search_fraction=0.25, cheap_simulations=2)
    assert (job["solver"], job["full_search_fraction"], job["cheap_simulations"]) == (True, 0.25, 2)
    config = SelfplayConfig(**job)
    assert config.solver and config.full_search_fraction == 0.25 and config.cheap_simulations == 2


def test_random_openings_reach_a_valid_selfplay_job(settings):
    job = _selfplay(settings, selfplay_opening_moves=2)
    assert job["opening_moves"] == 2 and SelfplayConfig(**job).opening_moves == 2
