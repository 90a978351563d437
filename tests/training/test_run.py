import pytest
import torch
from pydantic import ValidationError

from app.core.errors import AlreadyExists, ChecksumMismatch, InvalidConfig
from app.core.files import sha256_file
from app.nn import NetConfig, PolicyValueNet, load_checkpoint, save_checkpoint
from app.registry import ModelLifecycle
from app.storage.shards import ShardStore
from app.training import TrainConfig, run_training

from .conftest import TINY_NET, learnable_shard, write_random_shards

METRIC_NAMES = {"policy_loss", "value_loss", "loss", "policy_accuracy", "value_mse"}


def _cfg(**overrides) -> TrainConfig:
    base = dict(
        board_type="hex5",
        num_players=2,
        epochs=3,
        batch_size=32,
        learning_rate=3e-3,
        net=TINY_NET,
        validation_fraction=0.2,
        init="scratch",
        seed=1,
    )
    return TrainConfig(**(base | overrides))


def test_training_lowers_the_loss_and_records_its_lineage(settings):
    store = ShardStore(settings)
    shards = [store.write("hex5_2p", f"syn{i}", learnable_shard(20, 16, seed=i)).name for i in range(2)]
    calls = []
    result = run_training(
        _cfg(epochs=8, batch_size=64, learning_rate=1e-2, output_model_id="hex5_2p_v1"),
        settings=settings,
        progress=lambda f, m: calls.append((f, m)),
    )
    first, last = result.history[0], result.history[-1]
    assert {f"train/{m}" for m in METRIC_NAMES} | {f"val/{m}" for m in METRIC_NAMES} <= set(last)
    assert last["train/loss"] < 0.8 * first["train/loss"]
    assert last["val/loss"] < 0.8 * first["val/loss"]
    assert last["val/policy_loss"] < first["val/policy_loss"]
    assert last["val/value_mse"] < first["val/value_mse"]
    assert 0 <= last["val/policy_accuracy"] <= 1
    # value_loss sums the squared error over both players; value_mse averages it.
    assert last["val/value_loss"] == pytest.approx(2 * last["val/value_mse"])
    assert result.final == last and len(result.history) == 8
    assert result.shards == list(reversed(shards))  # newest first
    assert result.train_positions + result.val_positions == result.positions == 640
    assert result.val_positions == 8 * 16  # 20% of the 40 games, whole games
    assert (
        result.games == 40 and result.steps > 0 and result.resumed_from_step == 0 and result.samples_per_s > 0
    )
    assert [f for f, _ in calls] == sorted(f for f, _ in calls) and calls[-1][0] == 1.0

    net, meta = load_checkpoint(result.checkpoint_path, config_key="hex5_2p", expected_sha256=result.sha256)
    assert result.checkpoint_path.endswith("models/hex5_2p/hex5_2p_v1.safetensors")
    assert meta.model_id == "hex5_2p_v1" and meta.parent_model_id is None
    assert meta.extra["shards"] == result.shards
    assert meta.extra["hyperparameters"]["learning_rate"] == 1e-2
    assert meta.extra["metrics"]["val/loss"] == pytest.approx(last["val/loss"])
    assert meta.net_config == NetConfig(**TINY_NET)


def test_rerunning_a_finished_run_returns_it_and_a_taken_model_id_is_refused(settings):
    write_random_shards(settings, shards=1, games=6)
    cfg = _cfg(epochs=1, output_model_id="hex5_2p_v1")
    first = run_training(cfg, settings=settings)
    again = run_training(cfg, settings=settings)
    assert again == first
    with pytest.raises(InvalidConfig, match="learning_rate differ"):
        run_training(_cfg(epochs=1, output_model_id="hex5_2p_v1", learning_rate=1e-2), settings=settings)
    with pytest.raises(AlreadyExists, match="hex5_2p_v1 already has a checkpoint"):
        run_training(_cfg(epochs=1, output_model_id="hex5_2p_v1", resume=False), settings=settings)


def test_no_shards_is_a_clear_error_and_nothing_is_invented(settings):
    with pytest.raises(InvalidConfig, match="no training shards for hex5_2p.*run selfplay"):
        run_training(_cfg(), settings=settings)
    assert not (settings.home / "models").exists()


def test_the_production_model_is_the_default_parent(settings):
    write_random_shards(settings, shards=1, games=8)
    lifecycle = ModelLifecycle(settings)
    torch.manual_seed(5)
    parent = PolicyValueNet(4, (5, 5), 25, 2, NetConfig(**TINY_NET))
    path = settings.home / "models" / "hex5_2p" / "hex5_2p_v1.safetensors"
    meta = save_checkpoint(path, parent, {"config_key": "hex5_2p", "model_id": "hex5_2p_v1"})
    lifecycle.register_model("hex5_2p_v1", "STAGING", artifact_path=str(path), sha256=meta.sha256)
    lifecycle.promote_to_production("hex5_2p_v1")

    # Only board type, players and epochs: production parent, its architecture, newest shards.
    result = run_training(
        TrainConfig(board_type="hex5", num_players=2, epochs=1, batch_size=64), settings=settings
    )
    assert result.parent_model_id == "hex5_2p_v1" and result.net == NetConfig(**TINY_NET)
    _, child = load_checkpoint(result.checkpoint_path, expected_sha256=result.sha256)
    assert child.parent_model_id == "hex5_2p_v1" and child.extra["parent_sha256"] == meta.sha256

    with pytest.raises(InvalidConfig, match="differs from the parent's architecture"):
        run_training(_cfg(init="production", net="cpu"), settings=settings)

    # A parent whose file no longer matches the registry is refused.
    path.write_bytes(path.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ChecksumMismatch):
        run_training(_cfg(parent_model_id="hex5_2p_v1", init="production", net=None), settings=settings)


def test_scratch_ignores_production_and_config_errors_name_the_problem(settings):
    write_random_shards(settings, shards=1, games=6)
    result = run_training(_cfg(epochs=1), settings=settings)
    assert result.parent_model_id is None and result.model_id is None
    assert sha256_file(result.checkpoint_path) == result.sha256
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        TrainConfig(board_type="hex5", epochs=1, epoch=2)
    with pytest.raises(ValidationError, match="not a model of hex5_2p"):
        TrainConfig(board_type="hex5", output_model_id="hex8_2p_v2")
    with pytest.raises(ValidationError, match="unknown board type"):
        TrainConfig(board_type="chess")
    with pytest.raises(ValidationError, match="contradicts"):
        TrainConfig(board_type="hex5", parent_model_id="hex5_2p_v1", init="scratch")


def test_three_player_training_runs_with_onecycle(settings):
    write_random_shards(settings, "connect4", 3, shards=1, games=6)
    result = run_training(
        _cfg(
            board_type="connect4",
            num_players=3,
            epochs=2,
            lr_schedule="onecycle",
            output_model_id="connect4_3p_v1",
        ),
        settings=settings,
    )
    net, meta = load_checkpoint(result.checkpoint_path, config_key="connect4_3p")
    assert meta.num_players == 3 and net.num_players == 3
    assert result.history[-1]["lr"] < 3e-3 / 100  # one-cycle ends far below its peak
