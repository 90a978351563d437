"""One settings object for a whole installation: the data directory, the database and the node.

Precedence: explicit arguments > environment (``ZEROLOOP_*``) > defaults. ``--home`` on the CLI sets
``ZEROLOOP_HOME`` so that every subprocess a command starts sees the same installation.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORT = 8770


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZEROLOOP_", extra="ignore")

    home: Path = Field(default=Path("zeroloop-data"), description="Data directory of this installation.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite file zeroloop.db inside the data directory.",
    )
    host: str = Field(default="127.0.0.1", description="Address the node binds.")
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535, description="Port the node listens on.")
    token: str | None = Field(default=None, description="Bearer token the node demands when set.")
    node_id: str | None = Field(default=None, description="Name of this node; default: hostname:port.")

    @model_validator(mode="after")
    def _refuse_public_bind_without_token(self) -> Settings:
        if self.token is not None and not self.token.strip():
            # A blank token would be "set" yet guessable by anyone: refuse it rather than guard nothing.
            raise ValueError(
                "the token is blank; pass a non-empty --token (or ZEROLOOP_TOKEN), or none at all"
            )
        if not _is_loopback(self.host) and not self.token:
            raise ValueError(
                f"binding {self.host!r} exposes the node beyond this machine; set a token "
                "(ZEROLOOP_TOKEN or --token) or bind 127.0.0.1"
            )
        return self

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'zeroloop.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    def path(self, *parts: str) -> Path:
        """A path inside the data directory, its parent created."""
        p = self.home.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings read from the environment (cached; call ``reset_settings`` after changing it)."""
    return Settings()


def reset_settings() -> None:
    get_settings.cache_clear()
