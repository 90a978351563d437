import numpy as np
import pytest
import torch

from app.core.errors import InvalidConfig
from app.nn import NetConfig, PolicyValueNet

from .conftest import TINY, ShapeOnlyGame


@pytest.mark.parametrize("players", [2, 3, 4])
def test_outputs_have_one_logit_per_action_and_one_value_per_player(players):
    # Connect-style: fewer actions than cells (one per column).
    net = PolicyValueNet(4, (6, 7), 7, players, TINY)
    logits, values = net(torch.randn(5, 4, 6, 7))
    assert logits.shape == (5, 7) and values.shape == (5, players)
    assert logits.dtype == values.dtype == torch.float32
    assert torch.all(values.abs() < 1)


def test_for_game_takes_the_games_shapes():
    game = ShapeOnlyGame(num_planes=2, board_shape=(4, 3), action_size=13, num_players=3)
    net = PolicyValueNet.for_game(game, TINY)
    assert net.shapes == {"num_planes": 2, "board_shape": [4, 3], "action_size": 13, "num_players": 3}
    assert net.cfg == TINY


def test_presets_and_validation():
    assert (NetConfig.cpu().blocks, NetConfig.cpu().channels) == (4, 32)
    assert NetConfig.gpu().channels > NetConfig.cpu().channels
    assert NetConfig.preset("gpu") == NetConfig.gpu()
    with pytest.raises(InvalidConfig, match=r"valid: \['cpu', 'gpu'\] or a size"):
        NetConfig.preset("tpu")
    with pytest.raises(ValueError):
        NetConfig(blocks=2, channels=0)
    with pytest.raises(ValueError):
        NetConfig(blocks=2, channels=8, dropout=0.1)  # unknown field
    with pytest.raises(InvalidConfig, match="board shape"):
        PolicyValueNet(3, (5,), 25, 2, TINY)


def test_sizes_named_as_katago_names_its_nets():
    sized = NetConfig.preset("b6c48")
    assert (sized.blocks, sized.channels, sized.value_hidden) == (6, 48, NetConfig.cpu().value_hidden)
    with pytest.raises(InvalidConfig, match="'b99c32' is out of range: blocks input should be less than"):
        NetConfig.preset("b99c32")
    with pytest.raises(InvalidConfig, match="such as 'b6c48'"):
        NetConfig.preset("b6")


def test_a_run_and_a_training_refuse_an_unknown_net_when_configured():
    from pydantic import ValidationError

    from app.integration.pipeline_config import PipelineConfig
    from app.training.config import TrainConfig

    assert PipelineConfig(net="b6c32").net == "b6c32"
    with pytest.raises(ValidationError, match="unknown network preset 'cpux'"):
        PipelineConfig(net="cpux")
    with pytest.raises(ValidationError, match="'b2c0' is out of range: channels"):
        TrainConfig(board_type="hex5", num_players=2, net="b2c0")
    assert TrainConfig(board_type="hex5", num_players=2, net="b2c8").net == "b2c8"


def test_value_of_a_trained_direction_moves():
    # The value head is wired to the input: two different positions give different values.
    torch.manual_seed(1)
    net = PolicyValueNet.for_game(ShapeOnlyGame(), TINY).eval()
    x = torch.from_numpy(np.random.default_rng(0).random((2, 3, 5, 5), dtype=np.float32))
    _, v = net(x)
    assert not torch.allclose(v[0], v[1])


def test_the_package_exports_its_whole_public_api():
    import app.nn as nn_pkg
    import app.training as training_pkg

    for pkg in (nn_pkg, training_pkg):
        for name in pkg.__all__:
            assert getattr(pkg, name) is not None, name
    assert {
        "CheckpointMeta",
        "EvaluateFn",
        "Lineage",
        "NetConfig",
        "NetworkEvaluator",
        "PolicyValueNet",
        "load_checkpoint",
        "save_checkpoint",
        "uniform_evaluator",
    } <= set(nn_pkg.__all__)
    assert set(training_pkg.__all__) == {"TrainConfig", "TrainResult", "run_training"}
