"""Stored games: a list, and one game position by position for the dashboard's viewer."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.records import list_games as stored
from app.records.sgf import to_json_line
from app.records.viewer import game_view
from app.web.deps import ConfigKeyQuery, SettingsDep

router = APIRouter(tags=["games"])
GAME_ID_PATTERN = r"^(arena|selfplay):[0-9]+$"


@router.get("/games")
def list_games(
    settings: SettingsDep,
    config_key: ConfigKeyQuery = None,
    kind: Annotated[str | None, Query(pattern=r"^(arena|selfplay)$", description="arena or selfplay")] = None,
    player: Annotated[
        str | None, Query(min_length=1, max_length=128, description="a model id or anchor")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    games = stored(settings, config_key=config_key, kind=kind, player=player, limit=limit)
    data = [json.loads(to_json_line(g)) for g in games]
    return {"data": data, "count": len(data)}


@router.get("/games/{game_id}")
def get_game(
    game_id: Annotated[str, Path(pattern=GAME_ID_PATTERN, description="e.g. arena:12")], settings: SettingsDep
) -> dict[str, Any]:
    return game_view(settings, game_id)
