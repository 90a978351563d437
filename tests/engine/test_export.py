"""``zeroloop export``: the exported file answers as the PyTorch network does and says what it is."""

import json

import numpy as np
import pytest

from app.engine.export import FORMATS, export_metadata, export_model, plane_names
from app.games.registry import make_game
from tests.cli.zl import run_cli
from tests.tiny_models import register_tiny_model

torch = pytest.importorskip("torch")


def test_metadata_describes_planes_and_actions():
    hex5 = export_metadata(make_game("hex5swap", 2), "hex5swap_2p_v1", "ab")
    assert hex5["config_key"] == "hex5swap_2p" and hex5["input"] == "planes float32 [B, 5, 5, 5]"
    assert json.loads(hex5["action_names"])[-1] == "swap" and "action 25 is the swap" in hex5["action_layout"]
    assert len(json.loads(hex5["input_planes"])) == 5
    connect = make_game("connect4", 3)
    assert (
        plane_names(connect)[-1] == "ones (on the board)" and len(plane_names(connect)) == connect.num_planes
    )


def test_torchscript_export_matches_pytorch_and_carries_metadata(settings, tmp_path):
    from app.nn import load_checkpoint
    from app.nn.torchscript import load_torchscript
    from app.registry import model_artifact

    register_tiny_model(settings)
    path = tmp_path / "m.pt"
    result = export_model("hex5_2p_v1", "torchscript", path, settings=settings)
    assert result.max_policy_diff <= 1e-4 and result.max_value_diff <= 1e-4
    module, text = load_torchscript(path)
    meta = json.loads(text)
    assert meta["config_key"] == "hex5_2p" and meta["model_id"] == "hex5_2p_v1"
    net, _ = load_checkpoint(model_artifact(settings, "hex5_2p_v1").path)
    planes = torch.from_numpy(np.random.default_rng(5).random((3, 4, 5, 5), dtype=np.float32))
    with torch.inference_mode():
        want, got = net.eval()(planes), module(planes)
    assert torch.allclose(want[0], got[0], atol=1e-5) and torch.allclose(want[1], got[1], atol=1e-5)


def test_cli_export_and_its_errors(settings, tmp_path, capsys, monkeypatch):
    register_tiny_model(settings)
    out = tmp_path / "x.pt"
    r = run_cli(capsys, monkeypatch, "export", "hex5_2p_v1", "-f", "torchscript", "-o", str(out))
    assert r.code == 0 and out.exists() and "matches PyTorch within" in r.out
    r = run_cli(capsys, monkeypatch, "export", "hex5_2p_v1", "-f", "tflite")
    assert r.code == 2 and f"--format must be one of {', '.join(FORMATS)}" in r.err
    r = run_cli(capsys, monkeypatch, "export", "hex5_2p_v9", "-f", "torchscript", "-o", str(out))
    assert r.code == 2 and "not registered" in r.err
    r = run_cli(capsys, monkeypatch, "export", "production")
    assert r.code == 2 and "needs --config" in r.err


def test_onnx_export_runs_in_onnxruntime_and_matches_pytorch(settings, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    from app.nn import load_checkpoint
    from app.registry import model_artifact

    register_tiny_model(settings)
    path = tmp_path / "m.onnx"
    result = export_model("hex5_2p_v1", "onnx", path, settings=settings)
    assert result.max_policy_diff <= 1e-4 and result.max_value_diff <= 1e-4
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert props["config_key"] == "hex5_2p" and props["model_id"] == "hex5_2p_v1"
    assert json.loads(props["action_names"])[:2] == ["a1", "b1"]
    assert props["checkpoint_sha256"] == model_artifact(settings, "hex5_2p_v1").sha256

    # Independently of export_model's own check: a batch size it never saw, compared here.
    net, _ = load_checkpoint(model_artifact(settings, "hex5_2p_v1").path)
    planes = np.random.default_rng(9).random((5, 4, 5, 5), dtype=np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    policy, values = session.run(None, {session.get_inputs()[0].name: planes})
    with torch.inference_mode():
        want_policy, want_values = net.eval()(torch.from_numpy(planes))
    np.testing.assert_allclose(policy, want_policy.numpy(), atol=1e-4)
    np.testing.assert_allclose(values, want_values.numpy(), atol=1e-4)


def test_an_export_that_differs_is_refused_and_not_kept(settings, tmp_path, monkeypatch):
    import app.engine.export as export

    register_tiny_model(settings)
    real = export._run_torchscript
    monkeypatch.setattr(
        export, "_run_torchscript", lambda path, planes: tuple(a + 0.01 for a in real(path, planes))
    )
    path = tmp_path / "bad.pt"
    with pytest.raises(export.ExportMismatch, match="more than the tolerance"):
        export_model("hex5_2p_v1", "torchscript", path, settings=settings)
    assert not path.exists()
