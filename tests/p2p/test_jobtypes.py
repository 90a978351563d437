import sys

import pytest

from app.core.errors import InvalidConfig
from app.p2p import jobtypes
from app.p2p.jobtypes import JobConfigInvalid, JobType, JobTypeUnavailable, validate_config
from app.p2p.sleep_job import SleepConfig, run_sleep


def test_builtin_types_resolve_lazily():
    names = [t.name for t in jobtypes.job_types()]
    assert {"sleep", "selfplay", "training", "evaluation"} <= set(names)
    sleep = jobtypes.get_job_type("sleep")
    assert sleep.config_model() is SleepConfig and sleep.runner() is run_sleep
    assert jobtypes.get_job_type("selfplay").config == "app.selfplay:SelfplayConfig"


def test_a_type_whose_code_is_missing_is_unavailable_not_fatal(monkeypatch):
    broken = JobType("broken", "app.no_such_module:Config", "app.no_such_module:run", "test")
    monkeypatch.setitem(jobtypes._REGISTRY, "broken", broken)
    with pytest.raises(JobTypeUnavailable, match=r"'broken' is not available.*app.no_such_module:Config"):
        validate_config("broken", {})
    missing_attr = JobType("half", "app.p2p.sleep_job:SleepConfig", "app.p2p.sleep_job:nope", "test")
    with pytest.raises(JobTypeUnavailable, match="has no attribute 'nope'"):
        missing_attr.runner()
    assert "app.no_such_module" not in sys.modules


def test_register_refuses_a_taken_name_unless_replacing(monkeypatch):
    monkeypatch.setattr(jobtypes, "_REGISTRY", dict(jobtypes._REGISTRY))
    again = JobType("sleep", "app.p2p.sleep_job:SleepConfig", "app.p2p.sleep_job:run_sleep", "again")
    with pytest.raises(ValueError, match="already registered"):
        jobtypes.register(again)
    assert jobtypes.register(again, replace=True) is again


def test_validate_config_returns_model_and_no_config_key_without_a_board():
    cfg, key = validate_config("sleep", {"seconds": 0.5})
    assert cfg == SleepConfig(seconds=0.5) and key is None
    with pytest.raises(JobConfigInvalid) as err:
        validate_config("sleep", {"seconds": 4000})
    assert err.value.errors[0]["loc"] == ["seconds"] and "3600" in err.value.errors[0]["msg"]
    with pytest.raises(JobConfigInvalid, match="JSON object"):
        validate_config("sleep", [1, 2])
    with pytest.raises(InvalidConfig, match="unknown job type"):
        validate_config("nope", {})


def test_board_and_players_are_checked_against_the_games_registry():
    pytest.importorskip("app.games.registry")
    check = jobtypes._check_game
    check("sleep", "hex8", 2)
    with pytest.raises(JobConfigInvalid, match="unknown board type 'chess'; supported: .*hex8") as err:
        check("selfplay", "chess", 2)
    assert err.value.errors[0]["loc"] == ["board_type"]
    with pytest.raises(JobConfigInvalid, match="hex8 is played by 2 players, not 3") as err:
        check("selfplay", "hex8", 3)
    assert err.value.errors[0]["loc"] == ["num_players"]
