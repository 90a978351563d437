"""Config keys (``hex8_2p``) and model ids (``hex8_2p_v3``): parsed here and nowhere else."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BOARD = r"[a-z][a-z0-9]*"
_PLAYERS = r"[1-9][0-9]*"
_CONFIG_RE = re.compile(rf"^(?P<board>{_BOARD})_(?P<players>{_PLAYERS})p$")
_MODEL_RE = re.compile(rf"^(?P<config>{_BOARD}_{_PLAYERS}p)_v(?P<version>[0-9]+)$")
# The same shapes without group names, for validators that speak JSON Schema (API path and query parameters).
CONFIG_KEY_PATTERN = rf"^{_BOARD}_{_PLAYERS}p$"
MODEL_ID_PATTERN = rf"^{_BOARD}_{_PLAYERS}p_v[0-9]+$"


@dataclass(frozen=True, slots=True)
class ConfigKey:
    board_type: str
    num_players: int

    def __str__(self) -> str:
        return f"{self.board_type}_{self.num_players}p"


@dataclass(frozen=True, slots=True)
class ModelId:
    config_key: str
    version: int

    def __str__(self) -> str:
        return f"{self.config_key}_v{self.version}"


def config_key(board_type: str, num_players: int) -> str:
    key = f"{board_type}_{num_players}p"
    parse_config_key(key)
    return key


def parse_config_key(key: str) -> ConfigKey:
    m = _CONFIG_RE.match(key) if isinstance(key, str) else None
    if not m:
        raise ValueError(
            f"malformed config key {key!r}: expected '<board_type>_<players>p', for example 'hex8_2p'"
        )
    return ConfigKey(m["board"], int(m["players"]))


def parse_model_id(model_id: str) -> ModelId:
    m = _MODEL_RE.match(model_id) if isinstance(model_id, str) else None
    if not m:
        raise ValueError(
            f"malformed model id {model_id!r}: expected '<config_key>_v<version>', for example 'hex8_2p_v3'"
        )
    return ModelId(m["config"], int(m["version"]))


def model_id(config_key_: str, version: int) -> str:
    parse_config_key(config_key_)
    if version < 0:
        raise ValueError(f"model version must be >= 0, got {version}")
    return f"{config_key_}_v{version}"
