import pytest

from app.core.names import (
    config_key,
    is_anchor,
    model_id,
    parse_config_key,
    parse_model_id,
    parse_player,
    parse_run,
    rollout_player,
    uniform_player,
)


def test_model_id_parses_into_config_key_and_version():
    mid = parse_model_id("hex8_2p_v3")
    assert (mid.config_key, mid.version, str(mid)) == ("hex8_2p", 3, "hex8_2p_v3")
    assert parse_config_key(mid.config_key).board_type == "hex8"
    assert parse_config_key("connect4_3p").num_players == 3


@pytest.mark.parametrize(
    "bad", ["hex8", "hex8_2p_3", "HEX8_2p_v1", "hex8_2p_v", "_2p_v1", "hex8_0p_v1", "", None]
)
def test_malformed_model_id_is_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="malformed model id"):
        parse_model_id(bad)


def test_builders_round_trip_and_refuse_nonsense():
    assert model_id(config_key("hex6", 2), 0) == "hex6_2p_v0"
    with pytest.raises(ValueError, match="config key"):
        config_key("hex 6", 2)
    with pytest.raises(ValueError, match=">= 0"):
        model_id("hex6_2p", -1)


@pytest.mark.parametrize(
    "name, kind, simulations, anchor",
    [
        ("random", "random", None, True),
        ("rollout_mcts_200", "rollout_mcts", 200, True),
        ("uniform_mcts_48", "uniform_mcts", 48, False),
        ("uniform", "uniform_mcts", None, False),
        ("production", "production", None, False),
        ("hex8_2p_v3", "model", None, False),
    ],
)
def test_player_names_parse_once_and_print_back(name, kind, simulations, anchor):
    player = parse_player(name)
    assert (player.kind.value, player.simulations, player.is_anchor) == (kind, simulations, anchor)
    assert str(player) == name
    assert is_anchor(name) is anchor


def test_player_helpers_build_the_names_the_parser_reads():
    assert uniform_player(48) == "uniform_mcts_48"
    assert rollout_player(1000) == "rollout_mcts_1000"
    assert parse_player("hex8_2p_v3").model == parse_model_id("hex8_2p_v3")
    assert parse_player("hex8_2p_v3").has_network and not parse_player("random").has_network


@pytest.mark.parametrize(
    "bad", ["rollout_mcts_0", "rollout_mcts_", "Random", "uniform_mcts_x", "", "hex8_2p"]
)
def test_unknown_player_names_say_what_is_valid(bad):
    with pytest.raises(ValueError, match="unknown player .*rollout_mcts_<simulations>"):
        parse_player(bad)
    assert not is_anchor(bad)


def test_player_refuses_production_where_not_allowed_and_models_of_another_game():
    with pytest.raises(ValueError, match="unknown player 'production'; a player is 'random'.*a model id"):
        parse_player("production", allow_production=False)
    with pytest.raises(ValueError, match="plays hex6_2p, not hex8_2p"):
        parse_player("hex6_2p_v1", config_key="hex8_2p")


def test_a_model_of_another_run_names_the_run_between_key_and_version():
    mid = parse_model_id("hex8_2p_wide_v7")
    assert (mid.config_key, mid.run, mid.version, str(mid)) == ("hex8_2p", "wide", 7, "hex8_2p_wide_v7")
    assert parse_model_id("hex8_2p_v3").run == "main"
    assert (
        model_id("hex8_2p", 7, "lr-low") == "hex8_2p_lr-low_v7"
        and model_id("hex8_2p", 7, "main") == "hex8_2p_v7"
    )
    with pytest.raises(ValueError, match="malformed model id"):
        parse_model_id("hex8_2p_main_v3")  # the main run's models carry no run name
    for bad in ("Wide", "9x", "a_b", "", "x" * 33):
        with pytest.raises(ValueError, match="malformed run name .* a run name is a lower-case letter"):
            parse_run(bad)
