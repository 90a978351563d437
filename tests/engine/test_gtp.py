"""The GTP/HTP protocol class, driven line by line with agents whose moves are known."""

import numpy as np
import pytest

from app.engine import GtpEngine
from app.games.registry import make_game


class FirstLegal:
    """Plays the lowest legal action: answers a test can predict."""

    name = "first_legal"

    def __init__(self, visits: int) -> None:
        self.visits = visits

    def select_actions(self, game, states, rng):
        return [int(np.flatnonzero(game.legal_mask(s))[0]) for s in states]


def _engine(board="hex5", players=2, **kw):
    built = []

    def agent_for(visits):
        built.append(visits)
        return FirstLegal(visits)

    eng = GtpEngine(make_game(board, players), agent_for, name="zl", version="9", visits=4, **kw)
    return eng, built


def ok(answer: str) -> str:
    assert answer.startswith("=") and answer.endswith("\n\n"), answer
    return answer[1:].strip()


def err(answer: str) -> str:
    assert answer.startswith("?") and answer.endswith("\n\n"), answer
    return answer[1:].strip()


def test_administrative_commands_and_ids():
    eng, _ = _engine()
    assert ok(eng.handle("protocol_version")) == "2"
    assert ok(eng.handle("name")) == "zl" and ok(eng.handle("version")) == "9"
    assert eng.handle("7 name") == "=7 zl\n\n"
    assert ok(eng.handle("known_command genmove")) == "true"
    assert ok(eng.handle("known_command kgs-chat")) == "false"
    listed = ok(eng.handle("list_commands")).split("\n")
    for command in ("boardsize", "clear_board", "play", "genmove", "undo", "showboard", "quit", "visits"):
        assert command in listed
    assert eng.handle("") is None and eng.handle("   # a comment") is None


def test_a_whole_hex_game_with_undo_and_final_score():
    eng, built = _engine()
    assert ok(eng.handle("boardsize 5")) == ""
    assert ok(eng.handle("play black c3")) == ""
    assert ok(eng.handle("genmove white")) == "a1"  # the first legal cell
    assert ok(eng.handle("undo")) == ""
    assert ok(eng.handle("genmove w")) == "a1"
    board = ok(eng.handle("showboard"))
    assert "X" in board and "O" in board
    # Black walks down column e while the agent fills row 1 from the left: black joins top to bottom first.
    for row in range(1, 6):
        assert ok(eng.handle(f"play b e{row}")) == "", row
        if row < 5:
            ok(eng.handle("genmove white"))
    assert eng.game.is_terminal(eng.state)
    assert ok(eng.handle("final_score")) == "black+"
    assert "game is over" in err(eng.handle("genmove white"))
    assert built == [4]  # one agent for one visits setting


def test_errors_answer_and_the_engine_carries_on():
    eng, _ = _engine()
    assert "unknown command: frobnicate" in err(eng.handle("frobnicate 3"))
    assert err(eng.handle("3 frobnicate")).startswith("3 unknown command")
    assert "not a move" in err(eng.handle("play black z9"))
    assert "unknown colour" in err(eng.handle("play green a1"))
    assert "it is black's turn, not white's" in err(eng.handle("play white a1"))
    assert "black's turn" in err(eng.handle("genmove white"))
    ok(eng.handle("play black a1"))
    assert "illegal move: a1" in err(eng.handle("play white a1"))
    assert "expected play COLOUR MOVE" in err(eng.handle("play white"))
    ok(eng.handle("undo"))
    assert "no move has been played" in err(eng.handle("undo"))
    assert ok(eng.handle("genmove black")) == "a1"


def test_a_board_size_the_model_was_not_trained_for_is_refused_and_the_game_kept():
    eng, _ = _engine()
    ok(eng.handle("play black b2"))
    message = err(eng.handle("boardsize 11"))
    assert "hex5_2p (5x5), not 11x11" in message and "boardsize 5" in message
    assert "one size or a width and a height" in err(eng.handle("boardsize eleven"))
    assert eng.state.moves == 1
    ok(eng.handle("boardsize 5 5"))
    assert eng.state.moves == 0


def test_visits_setting_rebuilds_the_agent():
    eng, built = _engine()
    assert ok(eng.handle("visits")) == "4"
    ok(eng.handle("visits 32"))
    assert ok(eng.handle("visits")) == "32"
    ok(eng.handle("genmove black"))
    assert built == [32]
    assert "whole number >= 1" in err(eng.handle("visits 0"))


def test_an_agent_failure_is_an_answer_not_a_crash():
    def broken(_visits):
        raise RuntimeError("out of memory")

    eng = GtpEngine(make_game("hex5", 2), broken)
    assert "RuntimeError: out of memory" in err(eng.handle("genmove b"))
    assert ok(eng.handle("name")) == "zeroloop"


def test_swap_rule_accepts_hexgui_swap_pieces():
    eng, _ = _engine("hex5swap")
    ok(eng.handle("play b c2"))
    ok(eng.handle("play w swap-pieces"))
    assert eng.game.current_player(eng.state) == 0 and eng.state.moves == 2
    ok(eng.handle("undo"))
    ok(eng.handle("play w swap"))
    ok(eng.handle("undo"))

    class Swapper(FirstLegal):
        def select_actions(self, game, states, rng):
            return [game.action_size - 1]

    eng.agent_for = Swapper
    assert ok(eng.handle("genmove white")) == "swap-pieces"


def test_connect_games_use_columns_and_player_colours():
    eng, _ = _engine("connect4", 3)
    ok(eng.handle("boardsize 9 7"))
    assert "9x7" in err(eng.handle("boardsize 7 6"))
    ok(eng.handle("play p1 5"))
    assert ok(eng.handle("genmove p2")) == "1"
    assert "p3's turn" in err(eng.handle("play p1 5"))
    assert "the colours are p1, p2, p3" in err(eng.handle("play black 5"))
    assert "not a move" in err(eng.handle("play p3 10"))


def test_quit_sets_done():
    eng, _ = _engine()
    assert ok(eng.handle("quit")) == "" and eng.done


@pytest.mark.parametrize("board", ["hex5", "connect4"])
def test_genmove_plays_the_whole_game_to_its_end(board):
    eng, _ = _engine(board)
    colours = ["black", "white"]
    for ply in range(eng.game.action_size * 10):
        if eng.game.is_terminal(eng.state):
            break
        ok(eng.handle(f"genmove {colours[ply % 2]}"))
    assert eng.game.is_terminal(eng.state)
