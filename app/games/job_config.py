"""The part every stage's config shares: which game, checked against the games registry when the config is built."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.names import config_key


class GameJobConfig(BaseModel):
    """A job about one config key: ``board_type`` and ``num_players``, refused unless the registry has the game.

    Subclasses add their own fields and ``model_validator``s; this one's check runs first."""

    model_config = ConfigDict(extra="forbid")

    board_type: str = Field(description="Board type from the games registry, e.g. 'hex8'.")
    num_players: int = Field(default=2, ge=2, le=4, description="Players per game.")

    @model_validator(mode="after")
    def _game_in_registry(self) -> GameJobConfig:
        # Imported here: the game kernels (numba) load when a config is checked, not when its module is imported.
        from app.games.registry import make_game

        make_game(self.board_type, self.num_players)
        return self

    @property
    def config_key(self) -> str:
        return config_key(self.board_type, self.num_players)
