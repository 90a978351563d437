import copy
import os

import numpy as np
import pytest
import torch

from app.core.errors import InvalidConfig
from app.nn import NetworkEvaluator, configure_threads, uniform_evaluator


def _batch(rng, b=6, a=25):
    planes = rng.integers(0, 2, size=(b, 3, 5, 5)).astype(np.float32)
    legal = rng.random((b, a)) < 0.5
    legal[0] = False  # a terminal state: no legal move
    legal[1] = False
    legal[1, 7] = True  # exactly one legal move
    return planes, legal


def test_priors_are_a_softmax_over_legal_moves_only(net):
    planes, legal = _batch(np.random.default_rng(0))
    priors, values = NetworkEvaluator(net, "cpu", mode="eager")(planes, legal)
    assert priors.dtype == values.dtype == np.float32
    assert priors.shape == (6, 25) and values.shape == (6, 2)
    assert np.all(priors[~legal] == 0)
    assert np.all(priors[0] == 0)
    assert priors[1, 7] == pytest.approx(1.0)
    np.testing.assert_allclose(priors[2:].sum(axis=1), 1.0, rtol=1e-5)
    # Same ratios as the raw logits among legal moves.
    with torch.no_grad():
        logits, raw_values = net(torch.from_numpy(planes))
    row = 3
    idx = np.flatnonzero(legal[row])
    expected = torch.softmax(logits[row, idx], dim=0).numpy()
    np.testing.assert_allclose(priors[row, idx], expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(values, raw_values.numpy(), rtol=1e-5, atol=1e-6)


def test_frozen_jit_matches_eager(net):
    planes, legal = _batch(np.random.default_rng(1), b=33)
    p_eager, v_eager = NetworkEvaluator(net, "cpu", mode="eager")(planes, legal)
    jit = NetworkEvaluator(net, "cpu", mode="jit")
    assert jit.mode == "jit"
    for b in (33, 1, 7):  # traced once, then called at other batch sizes
        p, v = jit(planes[:b], legal[:b])
        np.testing.assert_allclose(p, p_eager[:b], atol=1e-5)
        np.testing.assert_allclose(v, v_eager[:b], atol=1e-5)


def test_onnx_runtime_matches_eager_on_random_inputs(net):
    pytest.importorskip("onnxruntime")
    planes, legal = _batch(np.random.default_rng(3), b=40)
    planes = np.random.default_rng(4).standard_normal(planes.shape).astype(np.float32)  # not just 0/1 planes
    p_eager, v_eager = NetworkEvaluator(net, "cpu", mode="eager")(planes, legal)
    onnx = NetworkEvaluator(net, "cpu", mode="onnx")
    assert onnx.mode == "onnx"
    for b in (40, 1, 9):  # exported once with a free batch axis
        p, v = onnx(planes[:b], legal[:b])
        assert p.dtype == v.dtype == np.float32
        np.testing.assert_allclose(p, p_eager[:b], atol=1e-5)
        np.testing.assert_allclose(v, v_eager[:b], atol=1e-5)
    assert np.all(p[~legal[:b]] == 0)


def _answers(evaluator, net):
    planes, legal = _batch(np.random.default_rng(5), b=12)
    planes = np.random.default_rng(6).standard_normal(planes.shape).astype(np.float32)
    p_eager, v_eager = NetworkEvaluator(net, "cpu", mode="eager")(planes, legal)
    p, v = evaluator(planes, legal)
    np.testing.assert_allclose(p, p_eager, atol=1e-5)
    np.testing.assert_allclose(v, v_eager, atol=1e-5)


def test_onnx_export_is_cached_in_a_file_and_read_back_without_exporting(net, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    from app.nn import onnx_runtime

    cache = tmp_path / "cache" / "abc.onnx"
    _answers(NetworkEvaluator(net, "cpu", mode="onnx", onnx_cache=cache), net)
    written = cache.read_bytes()
    assert len(written) > 1000 and not list(cache.parent.glob("*.tmp"))

    def no_export(_net):
        raise AssertionError("exported again although the cache answers as the network does")

    monkeypatch.setattr(onnx_runtime, "_export", no_export)
    _answers(NetworkEvaluator(net, "cpu", mode="onnx", onnx_cache=cache), net)
    assert cache.read_bytes() == written


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other_weights"])
def test_a_cache_file_that_does_not_answer_as_the_network_is_exported_again(net, tmp_path, damage):
    pytest.importorskip("onnxruntime")
    cache = tmp_path / "net.onnx"
    NetworkEvaluator(net, "cpu", mode="onnx", onnx_cache=cache)
    good = cache.read_bytes()
    if damage == "garbage":
        cache.write_bytes(b"not an onnx graph")
    elif damage == "truncated":
        cache.write_bytes(good[: len(good) // 2])
    else:  # a valid graph of the same shapes with other weights (a stale or foreign file)
        other = copy.deepcopy(net)
        with torch.no_grad():
            for param in other.parameters():
                param.add_(0.5)
        NetworkEvaluator(other, "cpu", mode="onnx", onnx_cache=cache)
        assert cache.read_bytes() != good
    _answers(NetworkEvaluator(net, "cpu", mode="onnx", onnx_cache=cache), net)
    assert cache.read_bytes() == good  # the fresh export replaced it (the exporter is deterministic)


def test_onnx_mode_refuses_a_gpu_device(net):
    with pytest.raises(InvalidConfig, match="CPU only"):
        NetworkEvaluator(net, "cuda", mode="onnx")


def test_auto_mode_on_cpu_is_the_measured_default(net):
    from app.nn.evaluator import CPU_DEFAULT_MODE

    assert NetworkEvaluator(net, "cpu").mode == CPU_DEFAULT_MODE


@pytest.mark.slow
def test_torch_compile_matches_eager(net):
    planes, legal = _batch(np.random.default_rng(2), b=16)
    p_eager, v_eager = NetworkEvaluator(net, "cpu", mode="eager")(planes, legal)
    p, v = NetworkEvaluator(net, "cpu", mode="compile")(planes, legal)
    np.testing.assert_allclose(p, p_eager, atol=1e-5)
    np.testing.assert_allclose(v, v_eager, atol=1e-5)


def test_evaluator_keeps_its_own_copy_of_the_weights(net):
    planes, legal = _batch(np.random.default_rng(3))
    ev = NetworkEvaluator(net, "cpu", mode="eager")
    before = ev(planes, legal)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    after = ev(planes, legal)
    np.testing.assert_array_equal(before[0], after[0])


def test_bad_shapes_say_what_was_expected(net):
    ev = NetworkEvaluator(net, "cpu", mode="eager")
    with pytest.raises(ValueError, match=r"planes must be float32 \[B, 3, 5, 5\]"):
        ev(np.zeros((2, 3, 4, 4), np.float32), np.ones((2, 25), bool))
    with pytest.raises(ValueError, match=r"legal must be bool \[B=2, A=25\]"):
        ev(np.zeros((2, 3, 5, 5), np.float32), np.ones((2, 24), bool))
    with pytest.raises(InvalidConfig, match="valid modes"):
        NetworkEvaluator(net, "cpu", mode="fast")
    empty = ev(np.zeros((0, 3, 5, 5), np.float32), np.zeros((0, 25), bool))
    assert empty[0].shape == (0, 25) and empty[1].shape == (0, 2)


def test_uniform_evaluator_is_generation_zero():
    ev = uniform_evaluator(4, 3)
    legal = np.array([[True, False, True, True], [False] * 4, [False, True, False, False]])
    priors, values = ev(np.zeros((3, 2, 2, 2), np.float32), legal)
    np.testing.assert_allclose(priors[0], [1 / 3, 0, 1 / 3, 1 / 3])
    assert np.all(priors[1] == 0)
    np.testing.assert_array_equal(priors[2], [0, 1, 0, 0])
    assert priors.dtype == values.dtype == np.float32
    np.testing.assert_array_equal(values, np.zeros((3, 3), np.float32))
    with pytest.raises(ValueError, match="A=4"):
        ev(np.zeros((1, 2, 2, 2), np.float32), np.ones((1, 5), bool))


def test_threads_follow_argument_then_environment(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert configure_threads(1) == 1
        monkeypatch.setenv("ZEROLOOP_TORCH_THREADS", "2")
        assert configure_threads() == 2
        monkeypatch.delenv("ZEROLOOP_TORCH_THREADS")
        assert configure_threads() == 1
        # 0: the machine's usable cores, at most four.
        assert configure_threads(0) == min(len(os.sched_getaffinity(0)), 4)
        with pytest.raises(InvalidConfig, match=">= 1"):
            configure_threads(-1)
        monkeypatch.setenv("ZEROLOOP_TORCH_THREADS", "many")
        with pytest.raises(InvalidConfig, match="ZEROLOOP_TORCH_THREADS"):
            configure_threads()
    finally:
        torch.set_num_threads(before)
