"""Config keys (``hex8_2p``), run names (``main``, ``wide``), model ids (``hex8_2p_v3``, ``hex8_2p_wide_v7``) and
player names (``rollout_mcts_200``): parsed here and nowhere else.

A model of the main run is ``<config_key>_v<version>``; one of another run (a branch forked from a model) names the
run between the two, ``<config_key>_<run>_v<version>``. Versions count per config key across its runs, so a version
names one model of a config key whatever its run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

_BOARD = r"[a-z][a-z0-9]*"
_PLAYERS = r"[1-9][0-9]*"
_RUN = r"[a-z][a-z0-9-]{0,31}"
_CONFIG_RE = re.compile(rf"^(?P<board>{_BOARD})_(?P<players>{_PLAYERS})p$")
_RUN_RE = re.compile(rf"^{_RUN}$")
_MODEL_RE = re.compile(rf"^(?P<config>{_BOARD}_{_PLAYERS}p)(?:_(?P<run>{_RUN}))?_v(?P<version>[0-9]+)$")
# The same shapes without group names, for validators that speak JSON Schema (API path and query parameters).
CONFIG_KEY_PATTERN = rf"^{_BOARD}_{_PLAYERS}p$"
RUN_PATTERN = rf"^{_RUN}$"
MODEL_ID_PATTERN = rf"^{_BOARD}_{_PLAYERS}p(?:_{_RUN})?_v[0-9]+$"
MAIN_RUN = "main"
"""The run every config key has: the one ``zeroloop run KEY`` continues, whose models are ``<config_key>_v<N>``."""
RUN_FORM = "a lower-case letter, then up to 31 lower-case letters, digits or '-' (e.g. 'wide', 'lr-low')"


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
    run: str = MAIN_RUN

    def __str__(self) -> str:
        infix = "" if self.run == MAIN_RUN else f"_{self.run}"
        return f"{self.config_key}{infix}_v{self.version}"


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


def parse_run(name: str) -> str:
    """A run name as given; ``ValueError`` saying what a run name is for anything else."""
    if not isinstance(name, str) or not _RUN_RE.match(name):
        raise ValueError(f"malformed run name {name!r}: a run name is {RUN_FORM}")
    return name


def parse_model_id(model_id: str) -> ModelId:
    m = _MODEL_RE.match(model_id) if isinstance(model_id, str) else None
    if not m or m["run"] == MAIN_RUN:
        raise ValueError(
            f"malformed model id {model_id!r}: expected '<config_key>_v<version>', for example 'hex8_2p_v3', or "
            "'<config_key>_<run>_v<version>' for a model of another run than main, for example 'hex8_2p_wide_v7'"
        )
    return ModelId(m["config"], int(m["version"]), m["run"] or MAIN_RUN)


def model_id(config_key_: str, version: int, run: str = MAIN_RUN) -> str:
    parse_config_key(config_key_)
    parse_run(run)
    if version < 0:
        raise ValueError(f"model version must be >= 0, got {version}")
    return str(ModelId(config_key_, version, run))


# -- players ----------------------------------------------------------------------------------------------------
# A player name is what sits at an arena table and what a rating belongs to. Anchors (``random``,
# ``rollout_mcts_<n>``) have no network and a strength that never changes; ``uniform_mcts_<n>`` is generation 0 of a
# pipeline (MCTS with uniform priors and zero values: only as strong as its budget, so not an anchor); ``uniform``
# without a budget is that player at whatever budget the caller searches with; ``production`` stands for the
# config key's production model until it is resolved to its model id.

RANDOM = "random"
PRODUCTION = "production"
UNIFORM = "uniform"
DEFAULT_ANCHORS = (RANDOM, "rollout_mcts_50", "rollout_mcts_200")
_BUDGET_RE = re.compile(r"^(?P<kind>rollout_mcts|uniform_mcts)_(?P<n>[1-9][0-9]*)$")
PLAYER_FORMS = (
    "'random', 'rollout_mcts_<simulations>', 'uniform_mcts_<simulations>', 'production' or a model id such as "
    "'hex8_2p_v3'"
)


class PlayerKind(StrEnum):
    RANDOM = "random"
    ROLLOUT = "rollout_mcts"
    UNIFORM = "uniform_mcts"
    PRODUCTION = "production"
    MODEL = "model"


@dataclass(frozen=True, slots=True)
class Player:
    """A parsed player name; ``str(player)`` gives the name back."""

    kind: PlayerKind
    simulations: int | None = None  # the fixed budget of rollout_mcts / uniform_mcts (None: bare 'uniform')
    model: ModelId | None = None

    def __str__(self) -> str:
        if self.kind is PlayerKind.MODEL:
            return str(self.model)
        if self.kind in (PlayerKind.ROLLOUT, PlayerKind.UNIFORM):
            return UNIFORM if self.simulations is None else f"{self.kind.value}_{self.simulations}"
        return self.kind.value

    @property
    def is_anchor(self) -> bool:
        return self.kind in (PlayerKind.RANDOM, PlayerKind.ROLLOUT)

    @property
    def has_network(self) -> bool:
        return self.kind in (PlayerKind.MODEL, PlayerKind.PRODUCTION)


def parse_player(name: str, *, config_key: str | None = None, allow_production: bool = True) -> Player:
    """The player a name stands for; ``ValueError`` naming the valid forms for anything else, and for a model of
    another config key than ``config_key`` (when given)."""
    if name == RANDOM:
        return Player(PlayerKind.RANDOM)
    if name == UNIFORM:
        return Player(PlayerKind.UNIFORM)
    if name == PRODUCTION and allow_production:
        return Player(PlayerKind.PRODUCTION)
    m = _BUDGET_RE.match(name) if isinstance(name, str) else None
    if m:
        return Player(PlayerKind(m["kind"]), simulations=int(m["n"]))
    try:
        model = parse_model_id(name)
    except ValueError:
        forms = PLAYER_FORMS if allow_production else PLAYER_FORMS.replace("'production' or ", "")
        raise ValueError(f"unknown player {name!r}; a player is {forms}") from None
    if config_key is not None and model.config_key != config_key:
        raise ValueError(f"model {name!r} plays {model.config_key}, not {config_key}")
    return Player(PlayerKind.MODEL, model=model)


def is_anchor(name: str) -> bool:
    """True for the fixed-strength players a rating scale is pinned to: random and rollout_mcts_<n>."""
    try:
        return parse_player(name).is_anchor
    except ValueError:
        return False


def uniform_player(num_simulations: int) -> str:
    """The rating identity of generation 0 at a budget: MCTS with uniform priors and zero values."""
    return str(Player(PlayerKind.UNIFORM, simulations=num_simulations))


def rollout_player(num_simulations: int) -> str:
    return str(Player(PlayerKind.ROLLOUT, simulations=num_simulations))


class UpperNameEnum(StrEnum):
    """An enum of upper-case names that parses any case (``"staging"``) and lists the valid names otherwise."""

    @classmethod
    def parse(cls, value: str | UpperNameEnum) -> Any:
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).upper())
        except ValueError:
            what = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()  # ModelStage -> "model stage"
            valid = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown {what} {value!r}; valid {what.split()[-1]}s: {valid}") from None
