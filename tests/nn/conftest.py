from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from app.nn import NetConfig, PolicyValueNet

TINY = NetConfig(blocks=1, channels=8, value_hidden=16)


@dataclass(frozen=True)
class ShapeOnlyGame:
    """Just the shapes a network is built from (the games registry is not needed to test the network)."""

    num_planes: int = 3
    board_shape: tuple[int, int] = (5, 5)
    action_size: int = 25
    num_players: int = 2


@pytest.fixture(autouse=True)
def one_torch_thread(monkeypatch):
    """Two threads on a shared 2-core machine spin against other processes and run up to 10x slower."""
    before = torch.get_num_threads()
    monkeypatch.setenv("ZEROLOOP_TORCH_THREADS", "1")
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def net() -> PolicyValueNet:
    torch.manual_seed(0)
    return PolicyValueNet.for_game(ShapeOnlyGame(), TINY).eval()
