"""``zeroloop engine`` as a GUI runs it: a separate process, driven over pipes by a scripted client."""

import os
import subprocess
import sys

import pytest

from tests.tiny_models import register_tiny_model


class Client:
    """Sends one command at a time and reads the answer up to its blank line, as HexGui does."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "engine", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )

    def send(self, command: str) -> str:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.proc.stdout.readline()
            assert line, f"engine ended; stderr: {self.proc.stderr.read()}"
            if line == "\n":
                return "".join(lines)
            lines.append(line)

    def close(self) -> int:
        self.proc.stdin.close()
        return self.proc.wait(timeout=60)


def test_a_whole_game_against_a_registered_model_over_pipes(settings):
    register_tiny_model(settings)
    client = Client("--model", "hex5_2p_v1", "--simulations", "8", "--seed", "3")
    try:
        assert client.send("protocol_version") == "= 2\n"
        assert client.send("name") == "= zeroloop hex5_2p_v1\n"
        assert client.send("1 boardsize 5") == "=1\n"
        refused = client.send("boardsize 11")
        assert refused.startswith("? ") and "hex5_2p (5x5), not 11x11" in refused
        assert client.send("frobnicate").startswith("? unknown command")
        assert client.send("visits 4") == "=\n"
        cells = [f"{c}{r}" for r in range(1, 6) for c in "abcde"]
        moves = 0
        while True:
            played = client.send("genmove black")
            if played.startswith("? the game is over"):
                break
            assert played.startswith("= ")
            moves += 1
            # The client answers with the first free cell; an occupied one is refused and the next is tried.
            for cell in cells:
                answer = client.send(f"play white {cell}")
                if answer == "=\n" or answer.startswith("? the game is over"):
                    break
                assert "illegal move" in answer
            if answer.startswith("? the game is over"):
                break
        assert moves >= 3
        score = client.send("final_score")
        assert score in ("= black+\n", "= white+\n")
        assert "X" in client.send("showboard")
        assert client.send("quit") == "=\n"
        assert client.proc.wait(timeout=60) == 0
    finally:
        if client.proc.poll() is None:
            client.proc.kill()


def test_connect4_columns_through_the_engine_process():
    client = Client("--model", "random", "--config", "connect4_2p", "--seed", "1")
    try:
        assert client.send("play black 4") == "=\n"
        answer = client.send("genmove white")
        assert answer.strip("= \n") in {str(c) for c in range(1, 8)}
        assert client.send("play black 8").startswith("? '8' is not a move")
    finally:
        assert client.close() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--model", "production", "--config", "hex5_2p"), "no production model yet"),
        (("--model", "random"), "add --config"),
        (("--model", "hex5_2p_v1", "--config", "hex6_2p"), "plays hex5_2p, not --config hex6_2p"),
    ],
)
def test_a_model_that_cannot_play_stops_the_engine_with_a_message(args, message):
    proc = subprocess.run(
        [sys.executable, "-m", "app", "engine", *args],
        input="name\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and message in proc.stderr and proc.stdout == ""
