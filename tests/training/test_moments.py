"""``optimizer_from_parent``: a candidate's training continues the AdamW moments its parent's run left."""

from __future__ import annotations

import pytest
import torch

from app.core.errors import ChecksumMismatch
from app.nn import NetConfig, PolicyValueNet, load_checkpoint
from app.registry import ModelLifecycle
from app.training import TrainConfig, run_training
from app.training.moments import MOMENTS_FILE, continue_moments, save_moments

from .conftest import TINY_NET, write_random_shards


def _stepped(seed: int, lr: float):
    torch.manual_seed(seed)
    net = PolicyValueNet(4, (5, 5), 25, 2, NetConfig(**TINY_NET))
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    for _ in range(3):
        optimizer.zero_grad()
        policy, value = net(torch.randn(4, 4, 5, 5))
        (policy.square().mean() + value.square().mean()).backward()
        optimizer.step()
    return net, optimizer


def test_the_moments_carry_over_and_this_runs_learning_rate_stays(tmp_path):
    _, parent = _stepped(0, lr=1e-2)
    save_moments(tmp_path, parent)
    net, _ = _stepped(1, lr=1e-2)
    child = torch.optim.AdamW(net.parameters(), lr=3e-4, weight_decay=0.5)
    assert continue_moments(child, tmp_path)
    assert child.param_groups[0]["lr"] == 3e-4 and child.param_groups[0]["weight_decay"] == 0.5
    saved = parent.state_dict()["state"]
    for index, state in child.state_dict()["state"].items():
        assert torch.equal(state["exp_avg_sq"], saved[index]["exp_avg_sq"]) and state["step"] == 3
    assert not continue_moments(child, tmp_path / "none")  # a parent that left none: fresh moments


def test_damaged_or_foreign_moments_are_refused_not_replaced_by_fresh_ones(tmp_path):
    _, parent = _stepped(0, lr=1e-2)
    save_moments(tmp_path, parent)
    other = torch.optim.AdamW(torch.nn.Linear(3, 2).parameters())
    with pytest.raises(ChecksumMismatch, match="do not fit this network"):
        continue_moments(other, tmp_path)
    (tmp_path / MOMENTS_FILE).write_bytes(b"not a torch file")
    with pytest.raises(ChecksumMismatch, match="cannot be read.*delete the file"):
        continue_moments(parent, tmp_path)


def _cfg(model_id: str, **overrides) -> TrainConfig:
    base = dict(board_type="hex5", epochs=1, batch_size=16, net=None, output_model_id=model_id, seed=2)
    return TrainConfig(**(base | overrides))


def test_a_child_trained_from_its_parents_moments_differs_from_one_with_fresh_moments(settings):
    write_random_shards(settings, shards=1, games=8)
    first = run_training(
        _cfg("hex5_2p_v1", init="scratch", net=TINY_NET, optimizer_from_parent=True), settings=settings
    )
    assert (settings.home / "training" / "hex5_2p" / "hex5_2p_v1" / MOMENTS_FILE).is_file()
    ModelLifecycle(settings).register_model(
        "hex5_2p_v1", "STAGING", artifact_path=first.checkpoint_path, sha256=first.sha256
    )
    carried = run_training(
        _cfg("hex5_2p_v2", parent_model_id="hex5_2p_v1", optimizer_from_parent=True), settings=settings
    )
    fresh = run_training(_cfg("hex5_2p_v3", parent_model_id="hex5_2p_v1"), settings=settings)
    assert not (settings.home / "training" / "hex5_2p" / "hex5_2p_v3" / MOMENTS_FILE).exists()
    a, _ = load_checkpoint(carried.checkpoint_path)
    b, _ = load_checkpoint(fresh.checkpoint_path)
    assert any(
        not torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )
    assert carried.parent_model_id == fresh.parent_model_id == "hex5_2p_v1"
