"""The AlphaZero policy/value network: a residual convolution tower with a policy head and a value head.

The value head answers one value per player in mover-relative order (index ``i`` is player
``(to_move + i) % P``), so games with three or four players need nothing special.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from app.core.errors import InvalidConfig
from app.nn.config import NetConfig, game_shapes


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(x + y)


class PolicyValueNet(nn.Module):
    """planes float32 [B, C, H, W] -> (policy logits float32 [B, A], values float32 [B, P] in (-1, 1)).

    The policy head is a linear layer over the whole board, so ``action_size`` need not equal ``H * W``
    (Connect drops pieces by column; Hex may add a swap move).
    """

    def __init__(
        self,
        num_planes: int,
        board_shape: tuple[int, int],
        action_size: int,
        num_players: int,
        cfg: NetConfig | None = None,
    ):
        super().__init__()
        cfg = cfg or NetConfig.cpu()
        board_shape = tuple(int(s) for s in board_shape)
        if num_planes < 1 or len(board_shape) != 2 or min(board_shape) < 1:
            raise InvalidConfig(
                f"network needs num_planes >= 1 and a 2-d board shape (H, W) >= 1, "
                f"got num_planes={num_planes}, board_shape={board_shape}"
            )
        if action_size < 1 or num_players < 1:
            raise InvalidConfig(
                f"network needs action_size >= 1 and num_players >= 1, got {action_size} and {num_players}"
            )
        self.num_planes = int(num_planes)
        self.board_shape: tuple[int, int] = board_shape  # type: ignore[assignment]
        self.action_size = int(action_size)
        self.num_players = int(num_players)
        self.cfg = cfg
        cells = board_shape[0] * board_shape[1]
        c = cfg.channels

        self.stem = nn.Sequential(
            nn.Conv2d(num_planes, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)
        )
        self.tower = nn.Sequential(*(ResidualBlock(c) for _ in range(cfg.blocks)))
        self.policy_head = nn.Sequential(
            nn.Conv2d(c, cfg.policy_channels, 1, bias=False),
            nn.BatchNorm2d(cfg.policy_channels),
            nn.ReLU(inplace=True),
            nn.Flatten(),
            nn.Linear(cfg.policy_channels * cells, action_size),
        )
        self.value_head = nn.Sequential(
            nn.Conv2d(c, cfg.value_channels, 1, bias=False),
            nn.BatchNorm2d(cfg.value_channels),
            nn.ReLU(inplace=True),
            nn.Flatten(),
            nn.Linear(cfg.value_channels * cells, cfg.value_hidden),
            nn.ReLU(inplace=True),
            nn.Linear(cfg.value_hidden, num_players),
            nn.Tanh(),
        )

    @classmethod
    def for_game(cls, game: Any, cfg: NetConfig | None = None) -> PolicyValueNet:
        """A network shaped for ``game`` (anything with num_planes, board_shape, action_size, num_players)."""
        return cls(game.num_planes, tuple(game.board_shape), game.action_size, game.num_players, cfg)

    @property
    def shapes(self) -> dict[str, Any]:
        """The game-dependent shapes, as stored in checkpoints."""
        return game_shapes(self)

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.tower(self.stem(planes))
        return self.policy_head(x), self.value_head(x)
