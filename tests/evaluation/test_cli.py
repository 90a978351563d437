import json

from tests.cli.zl import run_cli


def test_evaluate_then_ratings(capsys, monkeypatch):
    args = ["--config", "hex5_2p", "--opponent", "random", "--games", "200", "--batch-games", "16"]
    args += ["--anchors", "random,rollout_mcts_4", "--anchor-games", "4", "--opening-moves", "1"]
    r = run_cli(capsys, monkeypatch, "evaluate", "rollout_mcts_16", *args, "--json")
    assert r.code == 0, r.err
    result = json.loads(r.out)
    assert result["decision"] == "accept" and result["games"] < 200
    assert result["candidate_rating"]["name"] == "rollout_mcts_16"

    r = run_cli(capsys, monkeypatch, "evaluate", "rollout_mcts_8", *args[:4], "--games", "8", "--anchors", "")
    assert r.code == 0, r.err
    assert "inconclusive" in r.out and "rollout_mcts_8 vs random" in r.out and "LLR" in r.out

    r = run_cli(capsys, monkeypatch, "ratings", "hex5_2p")
    assert r.code == 0, r.err
    for name in ("rollout_mcts_16", "rollout_mcts_8", "rollout_mcts_4", "random"):
        assert name in r.out
    r = run_cli(capsys, monkeypatch, "ratings", "hex5_2p", "--json")
    table = json.loads(r.out)
    by_name = {row["name"]: row for row in table["ratings"]}
    assert by_name["random"]["elo"] == 0.0 and by_name["rollout_mcts_16"]["elo"] > 0
    assert table["games"] > result["games"]


def test_ratings_of_an_empty_config_key(capsys, monkeypatch):
    r = run_cli(capsys, monkeypatch, "ratings", "hex6_2p")
    assert r.code == 0 and "no rated players" in r.out


def test_bad_input_exits_2_with_a_message(capsys, monkeypatch):
    r = run_cli(capsys, monkeypatch, "evaluate", "rollout_mcts_16")
    assert r.code == 2 and "--config" in r.err
    r = run_cli(capsys, monkeypatch, "evaluate", "hex5_2p_v1", "--opponent", "hex6_2p_v1")
    assert r.code == 2 and "different config keys" in r.err
    r = run_cli(capsys, monkeypatch, "evaluate", "rollout_mcts_16", "-c", "hex5_2p", "--opponent", "nobody")
    assert r.code == 2 and "unknown player" in r.err
    r = run_cli(capsys, monkeypatch, "evaluate", "rollout_mcts_16", "-c", "hex5_2p")
    assert r.code == 2 and "no production model" in r.err
    r = run_cli(capsys, monkeypatch, "ratings", "chess_2p")
    assert r.code == 2 and "unknown board type" in r.err
