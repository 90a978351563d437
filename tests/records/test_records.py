import json

import numpy as np
import pytest
from sgfmill import sgf_grammar

from app.core.errors import InvalidConfig
from app.evaluation import store
from app.evaluation.arena import PlayedGame
from app.games.registry import game_for_key
from app.records import GameNotFound, get_game, list_games, to_json_line, to_sgf
from app.storage.base import utcnow
from app.storage.db import session_scope
from app.storage.models.selfplay import SelfplayGameRow
from tests.cli.zl import run_cli


def _random_game(config_key: str, seed: int, *, swap_at: int | None = None) -> tuple[tuple[int, ...], tuple]:
    game = game_for_key(config_key)
    rng = np.random.default_rng(seed)
    state, moves = game.initial_state(), []
    while not game.is_terminal(state):
        legal = np.flatnonzero(game.legal_mask(state))
        action = game.action_size - 1 if len(moves) == swap_at else int(rng.choice(legal))
        state = game.apply(state, action)
        moves.append(action)
    return tuple(moves), tuple(float(r) for r in game.returns(state))


def _store_arena(settings, config_key: str, seed: int, **kw) -> None:
    moves, returns = _random_game(config_key, seed, **kw)
    played = PlayedGame(("hex_v1", "random"), returns, moves[:2], moves, opening_group=0)
    store.save_games(settings, config_key, [played], purpose="match")


def _store_selfplay(settings, config_key: str, seed: int) -> None:
    moves, returns = _random_game(config_key, seed)
    with session_scope(settings) as s:
        s.add(
            SelfplayGameRow(
                config_key=config_key, shard_name="uniform_s1_g1", game_index=0, model_id="uniform",
                moves=list(moves), returns=list(returns), length=len(moves), created_at=utcnow(),
            )
        )  # fmt: skip


def _replay_sgf(text: str):
    """Parse with sgfmill (an independent SGF reader) and replay the moves on the board SZ names."""
    nodes = sgf_grammar.parse_sgf_game(text.encode()).sequence
    props = [{k: [v.decode() for v in vs] for k, vs in n.items()} for n in nodes]
    head = props[0]
    assert head["FF"] == ["4"] and head["GM"] == ["11"]
    swapped = any(p.get("W") == ["swap-pieces"] for p in props)
    game = game_for_key(f"hex{head['SZ'][0]}{'swap' if swapped else ''}_2p")
    by_name = {game.action_to_string(a): a for a in range(game.action_size)} | {
        "swap-pieces": game.action_size - 1
    }
    state, colours = game.initial_state(), []
    for node in props[1:]:
        ((colour, (move,)),) = node.items()
        colours.append(colour)
        state = game.apply(state, by_name[move])
    return head, colours, state, game


@pytest.mark.parametrize(("config_key", "swap_at"), [("hex5_2p", None), ("hex5swap_2p", 1)])
def test_hex_sgf_round_trips_through_an_sgf_parser(settings, config_key, swap_at):
    _store_arena(settings, config_key, seed=3, swap_at=swap_at)
    record = list_games(settings, config_key=config_key)[0]
    text = to_sgf(record)
    head, colours, state, game = _replay_sgf(text)
    assert head["SZ"] == ["5"] and head["PB"] == ["hex_v1"] and head["PW"] == ["random"]
    assert colours == ["BW"[i % 2] for i in range(len(record.moves))]
    assert game.is_terminal(state)
    assert tuple(game.returns(state)) == record.returns
    assert head["RE"] == ["B+" if record.returns[0] > record.returns[1] else "W+"]
    if swap_at is not None:
        assert "W[swap-pieces]" in text


def test_listing_both_kinds_and_json_lines(settings):
    _store_arena(settings, "hex5_2p", seed=1)
    _store_selfplay(settings, "connect4_2p", seed=2)
    games = list_games(settings)
    assert {g.kind for g in games} == {"arena", "selfplay"}
    assert [g.kind for g in list_games(settings, kind="selfplay")] == ["selfplay"]
    assert [g.kind for g in list_games(settings, player="uniform")] == ["selfplay"]
    assert [g.kind for g in list_games(settings, player="hex_v1")] == ["arena"]
    selfplay = get_game(settings, next(g.game_id for g in games if g.kind == "selfplay"))
    line = json.loads(to_json_line(selfplay))
    assert line["config_key"] == "connect4_2p" and line["players"] == ["uniform", "uniform"]
    assert line["moves"] == [str(a + 1) for a in line["actions"]] and line["source"] == "uniform_s1_g1"
    with pytest.raises(InvalidConfig, match="Hex games only"):
        to_sgf(selfplay)
    with pytest.raises(GameNotFound, match="no game arena:999"):
        get_game(settings, "arena:999")
    with pytest.raises(InvalidConfig, match="arena:12 or selfplay:3"):
        get_game(settings, "12")


def test_games_cli_list_show_export(capsys, monkeypatch, settings, tmp_path):
    _store_arena(settings, "hex5_2p", seed=1)
    _store_selfplay(settings, "connect4_2p", seed=2)
    zl = lambda *a: run_cli(capsys, monkeypatch, *a)  # noqa: E731
    listed = zl("games", "list")
    assert listed.code == 0 and "arena:1" in listed.out and "selfplay:1" in listed.out
    shown = zl("games", "show", "arena:1")
    assert shown.code == 0 and "opening (random):" in shown.out and "won" in shown.out
    sgf = zl("games", "show", "arena:1", "--sgf")
    assert sgf.out.startswith("(;FF[4]GM[11]") and _replay_sgf(sgf.out)[1]
    out = tmp_path / "all.jsonl"
    assert zl("games", "export", "-f", "jsonl", "-o", str(out)).code == 0
    assert [json.loads(x)["game_id"] for x in out.read_text().splitlines()] == ["arena:1", "selfplay:1"]
    refused = zl("games", "export", "-f", "sgf", "-o", str(tmp_path / "x.sgf"))
    assert refused.code == 2 and "connect4_2p: SGF records Hex games only" in refused.err
    assert zl("games", "export", "hex5_2p", "-f", "sgf", "-o", str(tmp_path / "h.sgf")).code == 0
    assert (tmp_path / "h.sgf").read_text().count("(;FF[4]GM[11]") == 1
    assert "--format must be one of sgf, jsonl" in zl("games", "export", "-f", "csv").err
