"""Every stage's config is a GameJobConfig: the game is checked, whatever validators the stage adds."""

import pytest
from pydantic import ValidationError

from app.evaluation.config import EvalConfig
from app.games.job_config import GameJobConfig
from app.p2p.pipeline_job import PipelineJobConfig
from app.selfplay.config import SelfplayConfig
from app.training.config import TrainConfig

_REQUIRED = {EvalConfig: {"candidate": "random"}}


@pytest.mark.parametrize("cls", [SelfplayConfig, TrainConfig, EvalConfig, PipelineJobConfig])
def test_stage_configs_refuse_an_unknown_game_and_name_the_valid_ones(cls):
    assert issubclass(cls, GameJobConfig)
    with pytest.raises(ValidationError, match=r"unknown board type 'hexx'; supported .*hex6 \[2\]"):
        cls(board_type="hexx", **_REQUIRED.get(cls, {}))
    with pytest.raises(ValidationError, match="connect4"):
        cls(board_type="hex6", num_players=3, **_REQUIRED.get(cls, {}))
    ok = cls(board_type="hex6", **_REQUIRED.get(cls, {}))
    assert ok.config_key == "hex6_2p"


def test_extra_fields_are_refused():
    with pytest.raises(ValidationError, match="bogus"):
        SelfplayConfig(board_type="hex6", bogus=1)
