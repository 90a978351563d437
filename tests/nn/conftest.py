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


@pytest.fixture
def net() -> PolicyValueNet:
    torch.manual_seed(0)
    return PolicyValueNet.for_game(ShapeOnlyGame(), TINY).eval()
