"""A tiny Hex model trained on a little selfplay beats RandomAgent in the arena."""

import pytest

from app.evaluation import EvalConfig, run_evaluation
from app.integration import ModelLifecycle, ModelStage
from app.selfplay import SelfplayConfig, run_selfplay
from app.training import TrainConfig, run_training


@pytest.mark.slow
def test_a_trained_tiny_hex_model_beats_random(settings):
    run_selfplay(SelfplayConfig(board_type="hex5", games=48, num_simulations=16, seed=1), settings=settings)
    trained = run_training(
        TrainConfig(
            board_type="hex5", epochs=4, batch_size=64, init="scratch", output_model_id="hex5_2p_v1",
            net={"blocks": 2, "channels": 16},
        ),
        settings=settings,
    )  # fmt: skip
    ModelLifecycle(settings).register_model(
        "hex5_2p_v1", ModelStage.TRAINING, artifact_path=trained.checkpoint_path, sha256=trained.sha256
    )
    result = run_evaluation(
        EvalConfig(
            board_type="hex5", candidate="hex5_2p_v1", opponent="random", max_games=40, num_simulations=16,
            anchors=["random"], anchors_games=0, calibration_games=0, seed=2, elo0=0, elo1=150,
        ),
        settings=settings,
    )  # fmt: skip
    assert result.decision == "accept", (result.score, result.llr, result.llr_upper, result.pentanomial)
    assert result.score >= 0.7 and result.elo_ci_low > 0
