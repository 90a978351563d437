"""The size of a policy/value network: a pydantic model so that stage configs can embed it."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.errors import InvalidConfig


class NetConfig(BaseModel):
    """Architecture hyperparameters of ``PolicyValueNet`` (everything except the game's shapes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    blocks: int = Field(default=4, ge=0, le=64, description="Residual blocks in the tower.")
    channels: int = Field(default=32, ge=1, le=1024, description="Convolution channels of the tower.")
    policy_channels: int = Field(default=2, ge=1, le=64, description="1x1 conv channels of the policy head.")
    value_channels: int = Field(default=1, ge=1, le=64, description="1x1 conv channels of the value head.")
    value_hidden: int = Field(default=64, ge=1, le=4096, description="Hidden units of the value head's MLP.")

    @classmethod
    def cpu(cls) -> NetConfig:
        """Small enough that CPU selfplay stays search-bound: 4 blocks x 32 channels."""
        return cls(blocks=4, channels=32, value_hidden=64)

    @classmethod
    def gpu(cls) -> NetConfig:
        """A tower that keeps a GPU busy: 10 blocks x 128 channels."""
        return cls(blocks=10, channels=128, policy_channels=4, value_channels=2, value_hidden=256)

    @classmethod
    def preset(cls, name: str) -> NetConfig:
        """A preset ('cpu', 'gpu') or a size named as KataGo names its nets: 'b6c48' is 6 blocks x 48 channels
        (heads as the 'cpu' preset's)."""
        presets = {"cpu": cls.cpu, "gpu": cls.gpu}
        if name in presets:
            return presets[name]()
        sized = _SIZED.fullmatch(name)
        if sized is None:
            raise InvalidConfig(
                f"unknown network preset {name!r}; valid: {sorted(presets)} or a size 'b<blocks>c<channels>' "
                "such as 'b6c48'"
            )
        try:
            return cls(blocks=int(sized["blocks"]), channels=int(sized["channels"]), value_hidden=64)
        except ValidationError as exc:
            why = "; ".join(f"{e['loc'][0]} {e['msg'].lower()}" for e in exc.errors())
            raise InvalidConfig(f"network size {name!r} is out of range: {why}") from None


def checked_net_name(name: Any) -> Any:
    """A field validator's body: a preset or size name is checked when a config is made, not when training
    starts; anything else passes to the field's type."""
    if isinstance(name, str):
        NetConfig.preset(name)
    return name


_SIZED = re.compile(r"b(?P<blocks>\d{1,3})c(?P<channels>\d{1,5})")


def game_shapes(obj: Any) -> dict[str, Any]:
    """The game-dependent shapes of a network or a checkpoint (anything with these four fields), as stored."""
    return {
        "num_planes": obj.num_planes,
        "board_shape": list(obj.board_shape),
        "action_size": obj.action_size,
        "num_players": obj.num_players,
    }
