"""The remote-job seam without Ray: a node installation and a task's scratch installation, two homes apart.

``run_remote`` is called in this process with a stand-in mailbox; what it returns is accepted into the node's
home, which is the only place anything gets indexed.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import pytest

from app.core.config import Settings, get_settings
from app.core.errors import ChecksumMismatch
from app.core.jobs import JobCreate, JobState
from app.p2p import store
from app.p2p.executors.ray_reports import Mailbox, write_reports
from app.p2p.remote_selfplay import SelfplayAdapter
from app.p2p.remote_task import run_remote
from app.p2p.transfer import Blob, RemoteWork, StayOnNode, remote_adapter
from app.storage.shards import ShardStore
from tests.p2p.ray_body import SMALL_SELFPLAY
from tests.tiny_models import register_tiny_model


class _Call:
    def __init__(self, fn):
        self.remote = fn


class FakeMailbox:
    """The actor handle's shape (``mailbox.report.remote(...)``) over a real ``Mailbox`` in this process."""

    def __init__(self):
        self.box = Mailbox()
        self.seen: list[dict] = []
        self.report = _Call(self._report)

    def _report(self, job_id, lease, report):
        self.seen.append(report)
        self.box.report(job_id, lease, report)


def test_a_blob_is_refused_when_its_bytes_do_not_match_its_sha256():
    blob = Blob.of("shard:x", b"abc")
    assert blob.verified() == b"abc"
    with pytest.raises(ChecksumMismatch, match="shard:x arrived damaged"):
        dataclasses.replace(blob, data=b"abd").verified()


def test_only_types_with_a_seam_run_remotely():
    assert remote_adapter("sleep") is not None and remote_adapter("selfplay") is not None
    assert remote_adapter("training") is not None and remote_adapter("evaluation") is not None
    assert remote_adapter("pipeline") is None


def _remote_selfplay(settings: Settings, config: dict, mailbox: FakeMailbox):
    adapter = SelfplayAdapter()
    pinned, inputs = adapter.prepare(settings, config)
    outcome = run_remote(RemoteWork("job1", 1, "selfplay", pinned), mailbox, *inputs)
    return adapter, pinned, inputs, outcome


@pytest.mark.slow  # plays hex5 games with a real network (torch, the game kernels)
def test_selfplay_plays_the_sent_checkpoint_in_scratch_and_the_node_indexes_its_shards_once(
    settings, tmp_path
):
    from app.registry import ModelLifecycle

    model_id = register_tiny_model(settings)
    ModelLifecycle(settings).promote_to_production(model_id)
    mailbox = FakeMailbox()
    config = {**SMALL_SELFPLAY, "model_id": None, "shard_games": 1}
    adapter, pinned, inputs, outcome = _remote_selfplay(settings, config, mailbox)
    # The node resolved "the production model" and pinned it: the task plays exactly that checkpoint.
    assert pinned["model_id"] == model_id and [b.name for b in inputs] == [f"model:{model_id}"]
    assert outcome.error is None, outcome.error
    assert set(outcome.extra["seconds"]) == {"materialize", "stage", "collect"}
    names = outcome.result["shards"]
    assert len(names) == 2 and sorted(b.name for b in outcome.blobs) == [f"shard:{n}" for n in names]
    # The task played in a scratch installation that is gone now; the node's home has no shard yet.
    assert not Path(outcome.result["shard_path"]).exists()
    node_store = ShardStore(settings)
    assert node_store.records("hex5_2p") == []
    assert mailbox.seen[0]["started"]["pid"] > 0 and any(r.get("progress") for r in mailbox.seen)

    result = adapter.accept(settings, pinned, outcome)
    records = node_store.records("hex5_2p")
    assert sorted(r.name for r in records) == sorted(names)
    assert all(Path(r.path).is_file() and str(r.path).startswith(str(settings.home)) for r in records)
    assert result.games == SMALL_SELFPLAY["games"] and result.model_id == model_id
    assert result.positions == sum(r.positions for r in records) == outcome.result["positions"]
    assert Path(result.shard_path).parent == settings.home / "shards" / "hex5_2p"

    # The same outcome again (a job that ran twice): nothing is indexed a second time.
    again = adapter.accept(settings, pinned, outcome)
    assert len(node_store.records("hex5_2p")) == 2 and again.games == result.games


@pytest.mark.slow  # plays hex5 games (the game kernels)
def test_a_damaged_shard_fails_the_outcome_before_any_shard_is_indexed(settings):
    mailbox = FakeMailbox()
    adapter, pinned, inputs, outcome = _remote_selfplay(
        settings, {**SMALL_SELFPLAY, "shard_games": 1}, mailbox
    )
    assert inputs == [] and pinned["model_id"] == "uniform" and outcome.error is None
    damaged = dataclasses.replace(outcome.blobs[1], data=outcome.blobs[1].data[:-1])
    with pytest.raises(ChecksumMismatch, match="arrived damaged"):
        adapter.accept(settings, pinned, dataclasses.replace(outcome, blobs=[outcome.blobs[0], damaged]))
    assert ShardStore(settings).records("hex5_2p") == []


def test_a_stage_error_comes_back_in_the_outcome_and_the_scratch_home_is_removed(
    settings, tmp_path, monkeypatch
):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    tempfile.tempdir = None  # re-read TMPDIR
    try:
        outcome = run_remote(RemoteWork("job2", 3, "sleep", {"seconds": 0, "fail": True}), FakeMailbox())
    finally:
        tempfile.tempdir = None
    assert outcome.error.startswith("SleepFailed:") and outcome.blobs == []
    assert list(tmp_path.glob("zeroloop-job-*")) == []
    # The process-wide installation is the test's own again, not the task's scratch one.
    assert get_settings().home == settings.home


def test_reports_reach_the_row_through_the_lease_and_a_stale_lease_is_refused(settings):
    job = store.submit(settings, JobCreate(type="sleep", config={"seconds": 0}))
    (claim,) = store.claim(settings, node_id="n", executor="ray", limit=1)
    box = Mailbox()
    box.report(job.id, claim.lease, {"started": {"pid": 42, "host": "w1/10.0.0.2"}})
    box.report(job.id, claim.lease, {"progress": (0.5, "half")})
    box.report(job.id, claim.lease, {"progress": None})  # a bare beat keeps the pending progress
    refused: list[str] = []
    heard = write_reports(settings, box.drain(), {job.id: claim.lease}, refused.append)
    row = store.get_job(settings, job.id)
    assert job.id in heard and refused == []
    assert (row.pid, row.worker_host, row.progress, row.message) == (42, "w1/10.0.0.2", 0.5, "half")
    assert box.drain() == {}

    # Cancelled meanwhile: the worker's next report is refused and the node is told to stop the task.
    store.cancel(settings, job.id)
    box.report(job.id, claim.lease, {"progress": (0.9, "late")})
    assert write_reports(settings, box.drain(), {job.id: claim.lease}, refused.append) == {}
    assert refused == [job.id]
    row = store.get_job(settings, job.id)
    assert row.state is JobState.CANCELLED and row.progress == 0.5

    # A report under an older lease than the one the node runs is ignored outright.
    box.report(job.id, claim.lease - 1, {"progress": (0.1, "old")})
    assert write_reports(settings, box.drain(), {job.id: claim.lease}, refused.append) == {}
    assert refused == [job.id]


@pytest.mark.slow  # plays hex5 games and trains a small network (torch)
def test_training_gets_the_window_and_parent_and_the_node_keeps_the_checkpoint(settings):
    from app.core.files import sha256_file
    from app.selfplay import SelfplayConfig, run_selfplay
    from app.training.config import TrainResult

    parent = register_tiny_model(settings)
    run_selfplay(SelfplayConfig(**{**SMALL_SELFPLAY, "shard_games": 1}), settings=settings)
    window = [r.name for r in ShardStore(settings).records("hex5_2p")]
    config = {"board_type": "hex5", "num_players": 2, "epochs": 1, "batch_size": 16, "replay_window": 5000,
              "parent_model_id": parent, "output_model_id": "hex5_2p_v2"}  # fmt: skip
    adapter = remote_adapter("training")
    sent, inputs = adapter.prepare(settings, config)
    assert sent == config
    assert [b.name for b in inputs] == [f"model:{parent}"] + [f"shard:{n}" for n in reversed(window)]
    outcome = run_remote(RemoteWork("job3", 1, "training", sent), FakeMailbox(), *inputs)
    assert outcome.error is None, outcome.error
    checkpoint = settings.home / "models" / "hex5_2p" / "hex5_2p_v2.safetensors"
    assert not checkpoint.exists()  # trained in the task's scratch installation

    result = TrainResult.model_validate(adapter.accept(settings, sent, outcome))
    assert result.checkpoint_path == str(checkpoint) and sha256_file(checkpoint) == result.sha256
    assert result.shards == window and result.parent_model_id == parent and result.steps > 0

    # The run has a checkpoint on the node now: running it again is the stage's business there.
    with pytest.raises(StayOnNode):
        adapter.prepare(settings, config)
    # A checkpoint that arrives damaged is refused and the node's file is left alone.
    damaged = dataclasses.replace(outcome.blobs[0], data=outcome.blobs[0].data[:-1])
    with pytest.raises(ChecksumMismatch):
        adapter.accept(settings, sent, dataclasses.replace(outcome, blobs=[damaged]))
    assert sha256_file(checkpoint) == result.sha256


@pytest.mark.slow  # plays hex5 games and trains a small network (torch)
def test_a_continuous_trainer_gets_its_parents_moments_and_the_node_keeps_the_runs_own(settings):
    from app.selfplay import SelfplayConfig, run_selfplay
    from app.training.moments import moments_file, save_moments

    torch = pytest.importorskip("torch")
    from app.nn import load_checkpoint
    from app.registry import model_artifact

    parent = register_tiny_model(settings)
    net, _ = load_checkpoint(model_artifact(settings, parent).path)
    moments_dir = moments_file(settings.home, "hex5_2p", parent).parent
    moments_dir.mkdir(parents=True)
    groups = [[q for q in net.parameters() if q.ndim > 1], [q for q in net.parameters() if q.ndim <= 1]]
    optimizer = torch.optim.AdamW([{"params": g} for g in groups])  # the trainer's two groups
    save_moments(moments_dir, optimizer)  # what the parent's run would have left
    run_selfplay(SelfplayConfig(**{**SMALL_SELFPLAY, "shard_games": 1}), settings=settings)
    config = {"board_type": "hex5", "num_players": 2, "epochs": 1, "batch_size": 16, "replay_window": 5000,
              "parent_model_id": parent, "output_model_id": "hex5_2p_v2", "optimizer_from_parent": True}  # fmt: skip
    adapter = remote_adapter("training")
    sent, inputs = adapter.prepare(settings, config)
    assert f"moments:{parent}" in [b.name for b in inputs]
    outcome = run_remote(RemoteWork("job4", 1, "training", sent), FakeMailbox(), *inputs)
    assert outcome.error is None, outcome.error
    assert "moments:hex5_2p_v2" in [b.name for b in outcome.blobs]
    adapter.accept(settings, sent, outcome)
    assert moments_file(settings.home, "hex5_2p", "hex5_2p_v2").is_file()  # the next candidate continues them


@pytest.mark.slow  # plays hex5 games with real networks (torch, the game kernels)
def test_evaluation_plays_the_sent_players_remotely_and_the_node_stores_and_rates_its_games_once(settings):
    from app.evaluation import store as eval_store
    from app.evaluation.arena import PlayedGame
    from app.evaluation.config import EvalResult
    from app.registry import ModelLifecycle

    production = register_tiny_model(settings, "hex5_2p_v1")
    ModelLifecycle(settings).promote_to_production(production)
    candidate = register_tiny_model(settings, "hex5_2p_v2")
    config = {"board_type": "hex5", "num_players": 2, "candidate": candidate, "opponent": "production",
              "max_games": 4, "anchors": ["random", "rollout_mcts_4"], "anchors_games": 2,
              "calibration_games": 2, "num_simulations": 2, "purpose": "gate"}  # fmt: skip
    adapter = remote_adapter("evaluation")
    # The anchors' link is short of games on the node: topping it up needs the node's counts, so it stays.
    with pytest.raises(StayOnNode, match="random and rollout_mcts_4"):
        adapter.prepare(settings, config)
    linked = [PlayedGame(("random", "rollout_mcts_4"), (1.0, -1.0), (), (0,), i) for i in range(2)]
    eval_store.save_games(settings, "hex5_2p", linked, purpose="calibration")

    sent, inputs = adapter.prepare(settings, config)
    # Pinned: the model the node meant, and no calibration left for the task to do.
    assert (sent["opponent"], sent["calibration_games"]) == (production, 0)
    assert sorted(b.name for b in inputs) == sorted([f"model:{candidate}", f"model:{production}"])
    outcome = run_remote(RemoteWork("job4", 1, "evaluation", sent), FakeMailbox(), *inputs)
    assert outcome.error is None, outcome.error
    remote = EvalResult.model_validate(outcome.result)
    assert eval_store.count_games(settings, "hex5_2p") == 2  # played in scratch: nothing stored here yet

    result = adapter.accept(settings, sent, outcome)
    stored = eval_store.load_games(settings, "hex5_2p", evaluation_id=remote.evaluation_id)
    assert len(stored) == remote.games + remote.anchor_games == result.games + 2 * 2
    assert {r.purpose for r in stored} == {"gate", "anchor"}
    assert eval_store.get_evaluation(settings, remote.evaluation_id).status == "finished"
    # Rated on the node, over every stored game: the node's calibration games rate the anchor too.
    rated = {r.name: r for r in result.ratings}
    assert set(rated) == {candidate, production, "random", "rollout_mcts_4"}
    assert rated["rollout_mcts_4"].games == 2 + 2 and result.candidate_rating.name == candidate
    assert (result.decision, result.llr) == (remote.decision, remote.llr)

    # The same outcome again (a job that ran twice): its games are not stored a second time.
    again = adapter.accept(settings, sent, outcome)
    assert eval_store.count_games(settings, "hex5_2p") == 2 + len(stored) and again == result
    short = dataclasses.replace(
        outcome, result={**outcome.result, "evaluation_id": "other"}, extra={"games": []}
    )
    with pytest.raises(ChecksumMismatch, match="sent 0"):
        adapter.accept(settings, sent, short)


def test_a_successor_is_pinned_when_registered_and_dropped_when_not(settings):
    """The task cannot see the node's registry: a successor already registered is what it plays; one that is
    not is dropped, so the task plays the one model it was sent."""
    model_id = register_tiny_model(settings)
    config = {**SMALL_SELFPLAY, "model_id": model_id, "successor": "hex5_2p_v2", "shard_games": 1}
    pinned, inputs = SelfplayAdapter().prepare(settings, config)
    assert (pinned["model_id"], pinned["successor"]) == (model_id, None)
    assert [b.name for b in inputs] == [f"model:{model_id}"]
    register_tiny_model(settings, "hex5_2p_v2")
    pinned, inputs = SelfplayAdapter().prepare(settings, config)
    assert (pinned["model_id"], pinned["successor"]) == ("hex5_2p_v2", None)
    assert [b.name for b in inputs] == ["model:hex5_2p_v2"]


def test_a_follow_rule_is_resolved_on_the_node_and_pinned(settings):
    """The task cannot ask the node's registry before each shard: it plays the model the rule names when the job
    is sent, and follows no more."""
    register_tiny_model(settings)
    register_tiny_model(settings, "hex5_2p_v2")
    config = {**SMALL_SELFPLAY, "model_id": "uniform", "follow": {"model": "latest"}, "shard_games": 1}
    pinned, inputs = SelfplayAdapter().prepare(settings, config)
    assert (pinned["model_id"], pinned["follow"]) == ("hex5_2p_v2", None)
    assert [b.name for b in inputs] == ["model:hex5_2p_v2"]
