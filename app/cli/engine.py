"""``zeroloop engine``: a model as a GTP/HTP engine on stdin/stdout, for HexGui, MoHex-style tools and managers.

The protocol lives in ``app.engine.gtp``; this command only picks the game and the agent (the same agents
``zeroloop play`` uses) and connects the engine to the process's streams. Nothing but protocol answers goes to
stdout.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from app.core.errors import InvalidConfig


def register(app: typer.Typer) -> None:
    app.command("engine")(engine)


def engine(
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="A model id (its config key is implied), production, uniform, random or rollout_mcts_<n>.",
        ),
    ] = "production",
    config: Annotated[
        str | None,
        typer.Option("--config", "-c", help="Config key, e.g. hex8_2p; needed unless --model is a model id."),
    ] = None,
    simulations: Annotated[
        int, typer.Option("--simulations", "-s", help="MCTS simulations (visits) per generated move.")
    ] = 128,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the engine's random choices.")] = None,
) -> None:
    """Speak GTP (as Hex engines do: HTP) on stdin/stdout with MODEL until quit."""
    from app import __version__
    from app.cli.play import _agent
    from app.core.config import get_settings
    from app.engine import GtpEngine, serve
    from app.games.registry import game_for_key

    if simulations < 1:
        raise InvalidConfig(f"--simulations must be at least 1, got {simulations}")
    game = game_for_key(_config_key(model, config))
    settings = get_settings()
    # Built before the first command so that a missing model fails the start, not the first genmove.
    first = _agent(model, game, simulations, settings)
    agents = {simulations: first}

    def agent_for(visits: int):
        if visits not in agents:
            agents[visits] = _agent(model, game, visits, settings)
        return agents[visits]

    name = f"zeroloop {first.name}"
    gtp = GtpEngine(game, agent_for, name=name, version=__version__, visits=simulations, seed=seed)
    serve(gtp, sys.stdin, sys.stdout)


def _config_key(model: str, config: str | None) -> str:
    from app.core.names import parse_model_id

    try:
        implied = parse_model_id(model).config_key
    except ValueError:
        implied = None
    if config is None and implied is None:
        raise InvalidConfig(
            f"--model {model} does not name a config key; add --config, e.g. --config hex8_2p"
        )
    if config is not None and implied is not None and config != implied:
        raise InvalidConfig(f"--model {model} plays {implied}, not --config {config}")
    return config or implied
