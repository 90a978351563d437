"""``zeroloop export``: a registered model as an ONNX or TorchScript file, checked against PyTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli._common import console
from app.core.errors import InvalidConfig


def register(app: typer.Typer) -> None:
    app.command("export")(export)


def export(
    model: Annotated[str, typer.Argument(help="A model id (hex8_2p_v3), or production with --config.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="onnx or torchscript.")] = "onnx",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: MODEL.FORMAT).")
    ] = None,
    config: Annotated[str | None, typer.Option("--config", "-c", help="Config key, for production.")] = None,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Largest difference from PyTorch allowed on the check batch.")
    ] = 1e-4,
) -> None:
    """Write MODEL's network as FORMAT with its config key, input planes and action layout in the metadata."""
    from app.core.config import get_settings
    from app.engine.export import FORMATS, export_model

    if fmt not in FORMATS:
        raise InvalidConfig(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if tolerance <= 0:
        raise InvalidConfig(f"--tolerance must be above 0, got {tolerance}")
    settings = get_settings()
    model_id = _model_id(model, config, settings)
    suffix = {"onnx": ".onnx", "torchscript": ".pt"}[fmt]
    result = export_model(
        model_id, fmt, output or Path(model_id + suffix), settings=settings, tolerance=tolerance
    )
    console.print(
        f"wrote {result.path} ({fmt}, {result.config_key}); matches PyTorch within "
        f"{max(result.max_policy_diff, result.max_value_diff):.1e} on a random batch",
        highlight=False,
    )


def _model_id(model: str, config: str | None, settings) -> str:
    if model != "production":
        return model
    if config is None:
        raise InvalidConfig("production needs --config, e.g. --config hex8_2p")
    from app.core.errors import ModelNotFound
    from app.registry import production_model_id

    found = production_model_id(settings, config)
    if found is None:
        raise ModelNotFound(f"{config} has no production model yet; export a model id instead")
    return found
