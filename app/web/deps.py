"""The ``Annotated`` dependencies routes take: the node's settings, the node itself, the token check and the
shapes of config keys and model ids in paths and queries."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.core.config import Settings
from app.core.names import CONFIG_KEY_PATTERN, MODEL_ID_PATTERN
from app.p2p.node import Node

_bearer = HTTPBearer(
    auto_error=False, description="The token the node was started with (ZEROLOOP_TOKEN or --token)."
)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_node(request: Request) -> Node | None:
    return request.app.state.node


SettingsDep = Annotated[Settings, Depends(get_settings)]
NodeDep = Annotated[Node | None, Depends(get_node)]

# Names in paths and queries, checked against the shapes ``app.core.names`` parses (malformed: 422).
ConfigKeyPath = Annotated[str, Path(pattern=CONFIG_KEY_PATTERN, description="e.g. hex8_2p")]
ConfigKeyQuery = Annotated[str | None, Query(pattern=CONFIG_KEY_PATTERN, description="e.g. hex8_2p")]
ModelIdPath = Annotated[str, Path(pattern=MODEL_ID_PATTERN, description="e.g. hex8_2p_v3")]


def require_token(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Every route but health: with a token configured, demand ``Authorization: Bearer <token>``."""
    if not settings.token:
        return
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="this node requires a token: send 'Authorization: Bearer <token>' with the token it was "
            "started with (ZEROLOOP_TOKEN or --token)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(credentials.credentials.encode(), settings.token.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="the token was refused: it is not the one this node was started with",
            headers={"WWW-Authenticate": "Bearer"},
        )
