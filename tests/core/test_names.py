import pytest

from app.core.names import config_key, model_id, parse_config_key, parse_model_id


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
