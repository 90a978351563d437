"""A fixed sample budget (``TrainConfig.samples``, what the pipeline's sample_reuse sets) trains exactly that many
samples, whether it is less than one pass over the window or several."""

import pytest

import app.training.run as run_module
from app.storage.shards import ShardStore
from app.training import TrainConfig, run_training

from .conftest import TINY_NET, learnable_shard


@pytest.fixture
def counted(monkeypatch):
    """The rows each optimiser step really trained on."""
    rows: list[int] = []
    real = run_module._train_step

    def counting(model, cfg, planes, policy, value):
        rows.append(len(planes))
        return real(model, cfg, planes, policy, value)

    monkeypatch.setattr(run_module, "_train_step", counting)
    return rows


def _cfg(**overrides) -> TrainConfig:
    base = dict(board_type="hex5", num_players=2, batch_size=32, net=TINY_NET, init="scratch", seed=3)
    return TrainConfig(**(base | overrides))


@pytest.mark.parametrize("samples", [50, 1000])
def test_a_sample_budget_trains_exactly_that_many_samples(settings, counted, samples):
    ShardStore(settings).write("hex5_2p", "syn", learnable_shard(20, 16, seed=0))  # 320 positions
    result = run_training(_cfg(samples=samples, epochs=7, validation_fraction=0.25), settings=settings)
    assert result.train_positions == 240
    assert sum(counted) == samples == result.samples_trained
    assert result.epochs == -(-samples // 240) == len(result.history)  # the last pass cut short
    assert result.steps == len(counted)


def test_without_a_budget_whole_epochs_are_trained(settings, counted):
    ShardStore(settings).write("hex5_2p", "syn", learnable_shard(10, 16, seed=0))
    result = run_training(_cfg(epochs=2, validation_fraction=0.0), settings=settings)
    assert sum(counted) == 2 * 160 == result.samples_trained and result.epochs == 2
