import json

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.storage.shards import ShardStore
from tests.cli.zl import run_cli
from tests.tiny_models import register_tiny_model

# Every hex5 cell in reading order: wherever the opponent played, the person's next free cell is further down
# the list, so a game always ends before the input does (occupied cells are refused and the next line is read).
ALL_HEX5_CELLS = "".join(f"{c}{r}\n" for r in range(1, 6) for c in "abcde")
# Each connect4 column six times over: a full column is refused and the next line is read.
ALL_CONNECT4_COLUMNS = "".join(f"{c}\n" * 6 for c in range(1, 8))


@pytest.fixture
def zl(capsys, monkeypatch):
    return lambda *args: run_cli(capsys, monkeypatch, *args)


def _play(*args: str, input: str):
    return CliRunner().invoke(app, ["play", *args], input=input)


# -- selfplay ----------------------------------------------------------------------------------------------------


def test_selfplay_writes_a_shard_and_a_rerun_reuses_it(zl, settings):
    args = (
        "selfplay",
        "hex5_2p",
        "--games",
        "4",
        "--simulations",
        "4",
        "--parallel",
        "2",
        "--model",
        "uniform",
    )
    r = zl(*args, "--seed", "1")
    assert r.code == 0, r.err
    assert "wrote shard" in r.out and "positions/s" in r.out and "games/s" in r.out

    record = ShardStore(settings).find("hex5_2p", "uniform_s1_g4")
    assert record is not None and record.games == 4 and record.positions > 0
    data = ShardStore(settings).load(record)
    assert data.positions == record.positions and set(data.game_id.tolist()) == {0, 1, 2, 3}

    again = zl(*args, "--seed", "1", "--json")
    assert again.code == 0, again.err
    result = json.loads(again.out)
    assert result["reused"] is True and result["shard_name"] == "uniform_s1_g4"
    assert result["positions"] == record.positions and result["games"] == 4


def test_selfplay_json_with_a_named_shard_gumbel_and_a_registered_model(zl, settings):
    register_tiny_model(settings)
    r = zl(
        "selfplay",
        "hex5_2p",
        "-n",
        "3",
        "-s",
        "4",
        "--model",
        "hex5_2p_v1",
        "--shard",
        "cli-test.0",
        "--gumbel",
        "--json",
    )
    assert r.code == 0, r.err
    result = json.loads(r.out)
    assert result["model_id"] == "hex5_2p_v1" and result["shard_name"] == "cli-test.0"
    assert result["games"] == 3 and result["reused"] is False
    assert result["games_per_s"] > 0 and result["positions_per_s"] > result["games_per_s"]
    record = ShardStore(settings).get("hex5_2p", "cli-test.0")
    assert record.model_id == "hex5_2p_v1" and record.positions == result["positions"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("hex99_2p",), "unknown board type 'hex99'"),
        (("hex5_3p",), "hex5 does not support 3 players"),
        (("nonsense",), "config key"),
        (("hex5_2p", "--games", "0"), "--games"),
        (("hex5_2p", "--simulations", "0", "--parallel", "0"), "--parallel"),
        (("hex5_2p", "--shard", "no spaces"), "--shard"),
        (("hex5_2p", "--model", "hex5_2p_v7", "-n", "1"), "'hex5_2p_v7' is not registered"),
    ],
)
def test_selfplay_bad_input_exits_2_with_a_message(zl, settings, args, message):
    r = zl("selfplay", *args)
    assert r.code == 2
    assert "error:" in r.err and message in " ".join(r.err.split())
    assert ShardStore(settings).records("hex5_2p") == []


# -- play --------------------------------------------------------------------------------------------------------


def test_play_hex_to_the_end_against_a_seeded_random_agent():
    r = _play("hex5_2p", "--model", "random", "--seed", "3", input=ALL_HEX5_CELLS)
    assert r.exit_code == 0, r.output
    assert "you are player 0 against random" in r.stdout
    assert "random (player 1) plays" in r.stdout and "you play a1" in r.stdout
    assert ") won" in r.stdout  # the final board's status line
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("result: ") and ("you won" in last or "random won" in last)
    # The same seed and input replay the same game.
    assert _play("hex5_2p", "--model", "random", "--seed", "3", input=ALL_HEX5_CELLS).stdout == r.stdout


def test_play_refuses_illegal_and_unreadable_moves_and_asks_again():
    r = _play("hex5_2p", "--model", "random", "--seed", "0", input="zz9\n99\na1\na1\n?\n" + ALL_HEX5_CELLS)
    assert r.exit_code == 0, r.output
    out = " ".join(r.stdout.split())
    assert "refused: 'zz9' is not a move" in out
    assert "refused: '99' is not an action index (0-24)" in out
    assert "you play a1" in out and "refused: a1 is not a legal move now" in out
    assert "legal moves: b1" in out  # '?' lists what is left: a1 is taken, so b1 comes first
    assert out.count("you play a1") == 1 and "result: " in out


def test_play_connect_by_column_number_as_the_second_seat():
    r = _play(
        "connect4_2p", "--model", "random", "--seat", "1", "--seed", "5", input="0\n" + ALL_CONNECT4_COLUMNS
    )
    assert r.exit_code == 0, r.output
    out = " ".join(r.stdout.split())
    # Column names are numbers, so "0" is not read as an action index: columns are 1-7 as printed.
    assert "refused: '0' is not a move" in out
    assert out.index("random (player 0) plays") < out.index("you play 1")
    assert "result: " in r.stdout.strip().splitlines()[-1]


def test_play_against_uniform_and_a_registered_model(settings):
    r = _play("hex5_2p", "--model", "uniform", "-s", "4", "--seed", "1", input=ALL_HEX5_CELLS)
    assert r.exit_code == 0, r.output
    assert "uniform_mcts_4 (player 1) plays" in r.stdout and "result: " in r.stdout

    register_tiny_model(settings)
    r = _play("hex5_2p", "--model", "hex5_2p_v1", "-s", "2", "--seat", "1", input=ALL_HEX5_CELLS)
    assert r.exit_code == 0, r.output
    assert "hex5_2p_v1 (player 0) plays" in r.stdout and "result: " in r.stdout


def test_play_resign():
    r = _play("hex5_2p", "--model", "random", input="a1\nq\n")
    assert r.exit_code == 0, r.output
    assert "you resigned; random wins" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("hex5_2p",), "hex5_2p has no production model yet"),
        (("hex5_2p", "--model", "foo"), "unknown opponent 'foo'"),
        (("hex5_2p", "--model", "hex6_2p_v1"), "plays hex6_2p, not hex5_2p"),
        (("hex5_2p", "--model", "random", "--seat", "2"), "--seat must be in 0-1"),
        (("hex99_2p", "--model", "random"), "unknown board type 'hex99'"),
    ],
)
def test_play_bad_input_exits_2_with_a_message(zl, args, message):
    r = zl("play", *args)
    assert r.code == 2 and message in " ".join(r.err.split())
