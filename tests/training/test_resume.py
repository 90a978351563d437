"""A training run killed mid-way continues from its saved state, and ends where an uninterrupted run ends."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from app.core.errors import ChecksumMismatch
from app.nn import load_checkpoint
from app.storage.shards import ShardStore
from app.training import TrainConfig, run_training
from app.training.state import (
    STATE_FILE,
    CompletedState,
    LoopPosition,
    Manifest,
    RunningState,
    load_state,
    save_state,
)

from .conftest import TINY_NET, learnable_shard

ROOT = Path(__file__).resolve().parents[2]


def _cfg(model_id: str) -> TrainConfig:
    return TrainConfig(
        board_type="hex5",
        epochs=3,
        batch_size=8,
        learning_rate=3e-3,
        net=TINY_NET,
        init="scratch",
        output_model_id=model_id,
        checkpoint_every_steps=10,
        seed=4,
    )


def test_a_killed_run_resumes_from_its_saved_step_and_matches_an_uninterrupted_run(settings, home):
    ShardStore(settings).write("hex5_2p", "syn", learnable_shard(40, 16, seed=0))
    cfg = _cfg("hex5_2p_v7")
    run_dir = home / "training" / "hex5_2p" / "hex5_2p_v7"
    script = (
        "import sys; from app.training import TrainConfig, run_training; "
        "run_training(TrainConfig.model_validate_json(sys.argv[1]))"
    )
    env = os.environ | {"ZEROLOOP_HOME": str(home), "ZEROLOOP_TORCH_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", script, cfg.model_dump_json()], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while not (run_dir / "state.pt").exists():
            assert proc.poll() is None, (
                f"training exited with {proc.returncode} before its first state checkpoint"
            )
            assert time.monotonic() < deadline, "no state checkpoint within 120 s"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    saved = load_state(run_dir)
    assert isinstance(saved, RunningState)
    total_steps = 3 * (576 // 8)  # 36 of the 40 games train (validation_fraction 0.1), 16 positions each
    assert 10 <= saved.position.step < total_steps, "killed too late to test resuming"
    assert not (home / "models" / "hex5_2p" / "hex5_2p_v7.safetensors").exists()

    resumed = run_training(cfg, settings=settings)
    assert resumed.resumed_from_step == saved.position.step
    assert resumed.train_positions == 576
    assert resumed.steps == total_steps and len(resumed.history) == 3
    assert [h["epoch"] for h in resumed.history] == [1.0, 2.0, 3.0]

    # The same run without interruption, under another model id: same batches, same weights.
    straight = run_training(_cfg("hex5_2p_v8"), settings=settings)
    assert straight.resumed_from_step == 0
    a, _ = load_checkpoint(resumed.checkpoint_path, expected_sha256=resumed.sha256)
    b, _ = load_checkpoint(straight.checkpoint_path, expected_sha256=straight.sha256)
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-5, msg=name)
    for key in ("train/loss", "val/loss"):
        assert abs(resumed.final[key] - straight.final[key]) < 1e-3


def test_a_damaged_state_is_refused_until_resume_is_turned_off(settings, home):
    ShardStore(settings).write("hex5_2p", "syn", learnable_shard(10, 8, seed=1))
    state = home / "training" / "hex5_2p" / "hex5_2p_v3" / "state.pt"
    state.parent.mkdir(parents=True)
    state.write_bytes(b"not a torch file")
    cfg = _cfg("hex5_2p_v3").model_copy(update={"epochs": 1})
    with pytest.raises(ChecksumMismatch, match="resume=False"):
        run_training(cfg, settings=settings)
    fresh = run_training(cfg.model_copy(update={"resume": False}), settings=settings)
    assert fresh.resumed_from_step == 0 and fresh.steps > 0


MANIFEST = {
    "fingerprint": {"lr": 0.1},
    "shards": ["b", "a"],
    "shard_sha256": ["0" * 64, "1" * 64],
    "parent_model_id": None,
    "parent_sha256": None,
    "net": {"blocks": 1},
}


def _running_dict() -> dict:
    """A state file's contents as the loop has always written them mid-run."""
    return {
        "manifest": MANIFEST,
        "completed": False,
        "model": {"w": torch.ones(2)},
        "optimizer": {"state": {}, "param_groups": []},
        "scheduler": {"last_epoch": 3},
        "scaler": {},
        "torch_rng": torch.get_rng_state(),
        "step": 12,
        "epoch": 1,
        "batch": 4,
        "sums": {"loss": 3.5},
        "count": 32,
        "history": [{"epoch": 1.0, "train/loss": 0.5}],
    }


def test_a_state_file_in_the_dict_format_loads_as_typed_state_and_saves_back_the_same_keys(tmp_path):
    torch.save(_running_dict(), tmp_path / STATE_FILE)
    state = load_state(tmp_path)
    assert isinstance(state, RunningState)
    assert state.manifest == Manifest(**MANIFEST)
    assert state.position == LoopPosition(
        step=12, epoch=1, batch=4, sums={"loss": 3.5}, count=32, history=[{"epoch": 1.0, "train/loss": 0.5}]
    )
    save_state(tmp_path, state)
    again = torch.load(tmp_path / STATE_FILE, weights_only=True)
    assert again.keys() == _running_dict().keys() and again["step"] == 12 and again["manifest"] == MANIFEST

    done = CompletedState(manifest=state.manifest, result={"steps": 12})
    save_state(tmp_path, done)
    assert load_state(tmp_path) == done
    assert torch.load(tmp_path / STATE_FILE, weights_only=True) == {
        "manifest": MANIFEST,
        "completed": True,
        "result": {"steps": 12},
    }


@pytest.mark.parametrize(
    "broken",
    [{"completed": False}, {k: v for k, v in _running_dict().items() if k != "step"}, [1, 2]],
    ids=["no-manifest", "no-step", "not-a-dict"],
)
def test_a_state_that_lacks_what_the_loop_needs_is_refused(tmp_path, broken):
    torch.save(broken, tmp_path / STATE_FILE)
    with pytest.raises(ChecksumMismatch, match="resume=False"):
        load_state(tmp_path)
