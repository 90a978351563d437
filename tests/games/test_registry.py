"""The registry: names to games, cached instances, and errors that list what is supported."""

from __future__ import annotations

import pytest

from app.core.errors import InvalidConfig
from app.games import DEFAULT_BOARD_TYPE, ConnectGame, Game, HexGame, game_for_key, make_game, supported


def test_supported_lists_every_board_type() -> None:
    s = supported()
    for n in range(5, 14):
        assert s[f"hex{n}"] == (2,)
        assert s[f"hex{n}swap"] == (2,)
    assert s["connect4"] == (2, 3, 4)
    assert "hex4" not in s and "hex14" not in s
    assert DEFAULT_BOARD_TYPE == "hex8" and DEFAULT_BOARD_TYPE in s
    assert list(s)[:3] == ["connect4", "hex5", "hex5swap"]  # natural order: hex9 before hex10
    assert list(s).index("hex9") < list(s).index("hex10")


def test_every_supported_pair_builds_a_matching_game() -> None:
    for board_type, counts in supported().items():
        for p in counts:
            g = make_game(board_type, p)
            assert isinstance(g, Game)
            assert (g.board_type, g.num_players, g.config_key) == (board_type, p, f"{board_type}_{p}p")
            assert game_for_key(g.config_key) is g


def test_instances_are_cached() -> None:
    assert make_game("hex8", 2) is make_game("hex8", 2)
    assert make_game("connect4", 3) is not make_game("connect4", 4)


def test_kinds() -> None:
    assert isinstance(make_game("hex11", 2), HexGame) and make_game("hex11", 2).size == 11
    assert make_game("hex7swap", 2).swap and not make_game("hex7", 2).swap
    assert isinstance(game_for_key("connect4_4p"), ConnectGame)


def test_unknown_board_type_lists_supported() -> None:
    with pytest.raises(InvalidConfig, match=r"unknown board type 'chess'.*connect4 \[2, 3, 4\].*hex8 \[2\]"):
        make_game("chess", 2)
    with pytest.raises(InvalidConfig, match="unknown board type 'hex4'"):
        make_game("hex4", 2)


@pytest.mark.parametrize("players", [1, 3, 0, True, "2"])
def test_unsupported_player_count(players) -> None:
    with pytest.raises(InvalidConfig, match=r"hex8 does not support .* players; it supports \[2\]"):
        make_game("hex8", players)


def test_connect4_player_counts() -> None:
    with pytest.raises(InvalidConfig, match=r"connect4 does not support 5 players; it supports \[2, 3, 4\]"):
        make_game("connect4", 5)


@pytest.mark.parametrize("key", ["hex8", "hex8_2", "Hex8_2p", "", "hex8_0p"])
def test_malformed_keys(key: str) -> None:
    with pytest.raises(InvalidConfig):
        game_for_key(key)


def test_well_formed_but_unsupported_key() -> None:
    with pytest.raises(InvalidConfig, match="hex8 does not support 3 players"):
        game_for_key("hex8_3p")
    with pytest.raises(InvalidConfig, match="unknown board type 'go9'"):
        game_for_key("go9_2p")


def test_invalid_config_is_a_value_error() -> None:
    # Callers that only know ValueError (the HTTP layer's 422 mapping) still catch registry errors.
    with pytest.raises(ValueError):
        make_game("nope", 2)


def test_public_exports_are_complete() -> None:
    import app.games as games

    for name in games.__all__:
        assert hasattr(games, name)
