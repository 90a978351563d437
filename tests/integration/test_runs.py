"""Runs (branches): a fork from a registered model trains a line of its own and leaves the main run as it was."""

from __future__ import annotations

import pytest

from app.core.errors import InvalidConfig, ModelNotFound
from app.evaluation import config_ratings
from app.integration import ModelLifecycle, ModelStage
from app.integration.pipeline import Pipeline
from app.integration.pipeline_config import CycleSettings
from app.integration.pipeline_state import PipelineState
from app.integration.runs import diff_runs, list_runs, open_run, run_detail
from app.p2p import store as job_store
from app.p2p.local_jobs import LocalJobs
from app.storage.shards import ShardStore
from tests.integration.test_pipeline import KEY, tiny_config

V1 = f"{KEY}_v1"


def _main_snapshot(settings) -> list[tuple]:
    models = ModelLifecycle(settings).list_models(KEY, run="main")
    return [(m.model_id, m.stage, m.parent_model_id) for m in models]


def _wide_config():
    config = tiny_config()
    cycle = config.cycle.model_copy(update={"num_simulations": 6})
    return config.model_copy(update={"cycle": cycle, "gate_max_games": 6})


@pytest.mark.slow
def test_a_fork_trains_two_candidates_from_v1_while_main_is_untouched_and_resumes(settings):
    with LocalJobs(settings) as jobs:
        Pipeline(KEY, settings=settings, config=tiny_config(), jobs=jobs).run(2)
        lifecycle = ModelLifecycle(settings)
        main_before, production = _main_snapshot(settings), lifecycle.get_production(KEY)
        fork = Pipeline(KEY, settings=settings, config=_wide_config(), jobs=jobs, run="wide", fork=V1)
        [first] = fork.run(1)
        # Resumed without --fork: it continues the run from its stored fork point.
        cycles = Pipeline(KEY, settings=settings, config=_wide_config(), jobs=jobs, run="wide").run(2)
    assert _main_snapshot(settings) == main_before
    assert lifecycle.get_production(KEY) == production
    assert len(PipelineState(settings, KEY).cycles()) == 2
    wide = lifecycle.list_models(KEY, run="wide")
    assert [m.model_id for m in wide] == [f"{KEY}_wide_v3", f"{KEY}_wide_v4"]
    assert [m.parent_model_id for m in wide] == [V1, f"{KEY}_wide_v3"]
    assert all(m.stage in (ModelStage.PRODUCTION, ModelStage.RETIRED) for m in wide)
    assert cycles[0].settings["num_simulations"] == 6  # the fork's own setting (then the feedback loop tunes)
    assert first.opponent == V1  # the fork model plays the first selfplay and gates the first candidate
    jobs_ = job_store.list_jobs(settings, config_key=KEY, limit=100).data
    selfplay = sorted((j.config["shard_name"], j.config["model_id"]) for j in jobs_ if j.type == "selfplay")
    assert selfplay[:2] == [("cycle0001", "uniform"), ("cycle0002", selfplay[1][1])]
    assert selfplay[2] == ("wide-cycle0001", V1)
    training = {j.config["output_model_id"]: j for j in jobs_ if j.type == "training"}
    assert training[f"{KEY}_wide_v3"].config["shard_prefix"] == "wide-"
    assert training[V1].config.get("shard_prefix") is None
    assert all(name.startswith("wide-") for name in training[f"{KEY}_wide_v4"].result["shards"])
    assert {s.name for s in ShardStore(settings).records(KEY)} == {
        "cycle0001", "cycle0002", "wide-cycle0001", "wide-cycle0002"
    }  # fmt: skip
    # Both runs' models are rated in the config key's one anchored fit.
    rated = {r.name for r in config_ratings(KEY, settings=settings).ratings}
    assert {V1, f"{KEY}_v2", f"{KEY}_wide_v3", f"{KEY}_wide_v4"} <= rated and "random" in rated
    check_the_runs_views(settings)


def check_the_runs_views(settings) -> None:
    main, wide = list_runs(settings, KEY)
    assert (main.run, main.fork_model_id, main.models, main.cycles_done) == ("main", None, 2, 2)
    assert (wide.run, wide.fork_model_id, wide.models, wide.cycles, wide.cycles_done) == ("wide", V1, 2, 2, 2)
    detail = run_detail(settings, KEY, "wide")
    assert [m.model_id for m in detail.lineage] == [f"{KEY}_wide_v4", f"{KEY}_wide_v3", V1]
    latest = PipelineState(settings, KEY, "wide").cycles()[-1]
    assert detail.settings["cycle.num_simulations"] == latest.settings["num_simulations"]
    assert detail.settings["gate_max_games"] == 6 and detail.recorded
    diff = {d.key: (d.a, d.b) for d in diff_runs(settings, KEY, "main", "wide")}
    assert list(diff)[0] == "fork" and diff["fork"] == (None, V1)
    assert diff["gate_max_games"] == (4, 6)
    assert "anchors" not in diff and "parallel_games" not in diff


def _registered(settings, model_id: str, *, checkpoint: bool = True) -> None:
    path = settings.ensure_home() / "models" / f"{model_id}.safetensors" if checkpoint else None
    ModelLifecycle(settings).register_model(model_id, ModelStage.EVALUATION, artifact_path=path)


@pytest.mark.parametrize(
    ("run", "fork", "error", "match"),
    [
        (
            "wide",
            None,
            InvalidConfig,
            r"there is no run 'wide' of hex5_2p yet .*\n.*--run wide --fork MODEL_ID",
        ),
        ("main", V1, InvalidConfig, r"--fork hex5_2p_v1 needs a run of its own"),
        ("wide", f"{KEY}_v9", ModelNotFound, r"no model 'hex5_2p_v9' is registered; models of hex5_2p: "),
        ("wide", "v1", InvalidConfig, r"--fork 'v1' is not a model id"),
        ("wide", "hex6_2p_v1", InvalidConfig, r"--fork hex6_2p_v1 is a model of hex6_2p, not hex5_2p"),
        ("wide", f"{KEY}_v2", InvalidConfig, r"--fork hex5_2p_v2 has no checkpoint yet \(stage EVALUATION\)"),
    ],
)
def test_bad_forks_are_refused_before_anything_is_stored(settings, run, fork, error, match):
    _registered(settings, V1)
    _registered(settings, f"{KEY}_v2", checkpoint=False)
    _registered(settings, "hex6_2p_v1")
    with pytest.raises(error, match=match):
        Pipeline(KEY, settings=settings, config=tiny_config(), jobs=object(), run=run, fork=fork).run(1)
    assert PipelineState(settings, KEY, run).get_run() is None
    assert PipelineState(settings, KEY, run).cycles() == []


def test_a_resumed_run_keeps_its_fork_point_and_run_names_are_checked(settings):
    PipelineState(settings, KEY, "wide").save_run(fork_model_id=V1, settings={})
    with pytest.raises(InvalidConfig, match="run wide of hex5_2p was forked from hex5_2p_v1, not hex5_2p_v2"):
        Pipeline(KEY, settings=settings, jobs=object(), run="wide", fork=f"{KEY}_v2").run(1)
    with pytest.raises(ValueError, match="malformed run name 'Wide_1': a run name is a lower-case letter"):
        Pipeline(KEY, settings=settings, jobs=object(), run="Wide_1")
    with pytest.raises(Exception, match="no run 'other' of hex5_2p; runs of hex5_2p: wide"):
        run_detail(settings, KEY, "other")


def test_a_new_fork_starts_from_the_given_settings(settings):
    cycle = CycleSettings(selfplay_games=8, num_simulations=4, epochs=1, batch_size=32, replay_window=5_000)
    main = PipelineState(settings, KEY)
    main.create_cycle(1, settings=cycle.model_dump(), changes=[], candidate_model_id=V1, opponent="x")
    _registered(settings, V1)
    pipeline = Pipeline(KEY, settings=settings, config=_wide_config(), jobs=object(), run="wide", fork=V1)
    pipeline.fork = open_run(pipeline.state, pipeline.lifecycle, V1, pipeline.config.model_dump(mode="json"))
    created = pipeline._ensure_cycle(1)
    assert created.candidate_model_id == f"{KEY}_wide_v2"  # versions count across the config key's runs
    assert created.opponent == V1 and created.run == "wide"
    assert created.settings["num_simulations"] == 6
