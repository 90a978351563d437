"""``zeroloop models``: the model registry — list, show, history, register, promote, rollback."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from app.cli._common import add_group, console
from app.cli._format import fields
from app.cli._pairs import compact, json_default, parse_pairs, when
from app.core.errors import InvalidConfig
from app.core.names import parse_config_key
from app.registry import ModelLifecycle, ModelRecord, ModelStage, PromotionPolicy, Transition, copy_into_home

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _dump(data: Any) -> None:
    typer.echo(json.dumps(data, default=json_default, indent=2))


def _record_dict(m: ModelRecord) -> dict[str, Any]:
    d = asdict(m)
    d["stage"] = m.stage.value
    return d


def _transition_dict(t: Transition) -> dict[str, Any]:
    d = asdict(t)
    d["from_stage"] = None if t.from_stage is None else t.from_stage.value
    d["to_stage"] = t.to_stage.value
    return d


def list_models(
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="Only this config key (hex8_2p).")
    ] = None,
    stage: Annotated[str | None, typer.Option("--stage", "-s", help="Only this stage.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List registered models."""
    models = ModelLifecycle().list_models(config_key=config, stage=stage)
    if as_json:
        _dump([_record_dict(m) for m in models])
        return
    if not models:
        console.print("no models registered" + (f" for {config}" if config else ""))
        return
    table = Table(title="models")
    # Ids fold onto a second line rather than being cut to "h…" when a pipe gives 80 columns.
    for col in ("model", "config", "version", "stage", "parent", "sha256", "updated"):
        table.add_column(col, overflow="fold", no_wrap=col in ("version", "stage"))
    for m in models:
        style = "bold green" if m.stage is ModelStage.PRODUCTION else None
        table.add_row(
            m.model_id,
            m.config_key,
            str(m.version),
            m.stage.value,
            m.parent_model_id or "-",
            (m.sha256 or "-")[:12],
            when(m.updated_at),
            style=style,
        )
    console.print(table)


def show(
    model_id: Annotated[str, typer.Argument(help="Model id, e.g. hex8_2p_v3.")], as_json: JsonOpt = False
) -> None:
    """Show one model: stage, lineage, artifact, metrics."""
    lifecycle = ModelLifecycle()
    m = lifecycle.get_model(model_id)
    lineage = [a.model_id for a in lifecycle.lineage(model_id)[1:]]
    if as_json:
        _dump({**_record_dict(m), "lineage": lineage})
        return
    table = Table(title=m.model_id, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows = [
        ("config", m.config_key),
        ("version", str(m.version)),
        ("stage", m.stage.value),
        ("parent", m.parent_model_id or "-"),
        ("lineage", " ← ".join([m.model_id, *lineage])),
        ("artifact", m.artifact_path or "-"),
        ("sha256", m.sha256 or "-"),
        ("metrics", compact(m.metrics)),
        ("training config", compact(m.training_config)),
        ("metadata", compact(m.metadata)),
        ("created", when(m.created_at)),
        ("updated", when(m.updated_at)),
    ]
    for field, value in rows:
        table.add_row(field, value)
    console.print(table)


def history(
    target: Annotated[str, typer.Argument(help="A model id (hex8_2p_v3) or a config key (hex8_2p).")],
    as_json: JsonOpt = False,
) -> None:
    """Stage changes of a model, or of every model of a config key."""
    lifecycle = ModelLifecycle()
    by_config = _is_config_key(target)
    rows = lifecycle.config_history(target) if by_config else lifecycle.history(target)
    if as_json:
        _dump([_transition_dict(t) for t in rows])
        return
    table = Table(title=f"history of {target}", show_lines=True)
    table.add_column("#", no_wrap=True)
    if by_config:
        table.add_column("model")
    table.add_column("time")
    table.add_column("stage change")
    table.add_column("elo Δ", no_wrap=True)
    table.add_column("reason / evidence", overflow="fold", ratio=1)
    for t in rows:
        change = f"{t.from_stage.value if t.from_stage else '(registered)'} → {t.to_stage.value}"
        detail = "\n".join(x for x in (t.reason, fields(t.evidence) if t.evidence else None) if x) or "-"
        elo = "-" if t.elo_delta is None else f"{t.elo_delta:+.1f}"
        cells = [str(t.id), *([t.model_id] if by_config else []), when(t.at), change, elo, detail]
        table.add_row(*cells)
    console.print(table)


def _is_config_key(text: str) -> bool:
    try:
        parse_config_key(text)
    except ValueError:
        return False
    return True


def _verified_artifact(artifact: str, sha256: str | None) -> tuple[str, str]:
    """The artifact's path inside the data directory and its file sha256, after loading it: a model whose
    checkpoint cannot load would break play, evaluate and train once promoted. A checkpoint outside the data
    directory is copied into it (``models/<config_key>/<sha256>.safetensors``), so that copying the directory
    takes the model along."""
    from app.core.config import get_settings
    from app.nn.checkpoint import load_checkpoint

    path = Path(artifact).expanduser().resolve()
    if not path.is_file():
        raise InvalidConfig(f"--artifact {artifact}: no such file; pass the path of a zeroloop checkpoint")
    _, meta = load_checkpoint(path, expected_sha256=sha256)
    stored = copy_into_home(get_settings().home, path, config_key=meta.config_key, sha256=meta.sha256)
    if stored != path:
        console.print(f"copied {path} into the data directory as {stored}", highlight=False)
    return str(stored), meta.sha256


def register_model(
    model_id: Annotated[str, typer.Argument(help="New model id, e.g. hex8_2p_v4.")],
    stage: Annotated[
        str, typer.Option("--stage", help="Entry stage: training, evaluation or staging.")
    ] = "training",
    parent: Annotated[str | None, typer.Option("--parent", help="Parent model id.")] = None,
    artifact: Annotated[
        str | None,
        typer.Option("--artifact", help="Checkpoint path; one outside the data directory is copied into it."),
    ] = None,
    sha256: Annotated[str | None, typer.Option("--sha256", help="Checkpoint sha256.")] = None,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", "-m", help="KEY=NUMBER, repeatable.")
    ] = None,
) -> None:
    """Register a new model. An ``--artifact`` must exist and load; its sha256 is recorded, and a checkpoint
    outside the data directory is copied into it (models/<config>/<sha256>.safetensors) so the directory can be
    copied or moved whole."""
    if artifact is not None:
        artifact, sha256 = _verified_artifact(artifact, sha256)
    m = ModelLifecycle().register_model(
        model_id,
        stage,
        parent_model_id=parent,
        artifact_path=artifact,
        sha256=sha256,
        metrics=parse_pairs(metric, "metric", numbers=True),
    )
    console.print(f"registered [bold]{m.model_id}[/] ({m.config_key} v{m.version}) at {m.stage.value}")


def _policy(
    path: Path | None,
    min_elo_delta: float | None,
    min_games: int | None,
    require_sprt_accept: bool,
    min_elo_ci_low: float | None,
) -> PromotionPolicy | None:
    data: dict[str, Any] = {}
    if path is not None:
        text = path.read_text()
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"policy file {path} must hold an object of rules, got {type(data).__name__}")
    flags = {
        "min_elo_delta": min_elo_delta,
        "min_games": min_games,
        "require_sprt_accept": require_sprt_accept or None,
        "min_elo_ci_low": min_elo_ci_low,
    }
    data.update({k: v for k, v in flags.items() if v is not None})
    if not data:
        return None
    try:
        return PromotionPolicy(**data)
    except Exception as exc:  # pydantic's ValidationError names the field; keep its text, make it bad input
        raise ValueError(f"invalid promotion policy: {exc}") from None


def promote(
    model_id: Annotated[str, typer.Argument(help="Model id, e.g. hex8_2p_v3.")],
    stage: Annotated[str, typer.Argument(help="Target stage: evaluation, staging, production or retired.")],
    elo_delta: Annotated[
        float | None, typer.Option("--elo-delta", help="Elo gain over the reference.")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the history).")] = None,
    evidence: Annotated[
        list[str] | None,
        typer.Option("--evidence", "-e", help="KEY=VALUE, repeatable: games=400, elo_ci_low=3, sprt=accept."),
    ] = None,
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy", exists=True, dir_okay=False, help="Promotion policy file (JSON, or TOML by suffix)."
        ),
    ] = None,
    min_elo_delta: Annotated[
        float | None, typer.Option("--min-elo-delta", help="Policy: minimum Elo gain.")
    ] = None,
    min_games: Annotated[
        int | None, typer.Option("--min-games", help="Policy: minimum evaluation games.")
    ] = None,
    require_sprt_accept: Annotated[
        bool, typer.Option("--require-sprt-accept", help="Policy: the SPRT must have accepted.")
    ] = False,
    min_elo_ci_low: Annotated[
        float | None, typer.Option("--min-elo-ci-low", help="Policy: minimum lower Elo CI bound.")
    ] = None,
) -> None:
    """Move a model to another stage (production retires the current production model)."""
    lifecycle = ModelLifecycle()
    target = ModelStage.parse(stage)
    policy = _policy(policy_file, min_elo_delta, min_games, require_sprt_accept, min_elo_ci_low)
    before = lifecycle.get_model(model_id)
    previous = lifecycle.get_production(before.config_key) if target is ModelStage.PRODUCTION else None
    m = lifecycle.promote_model(
        model_id,
        target,
        elo_delta=elo_delta,
        reason=reason,
        evidence=parse_pairs(evidence, "evidence", numbers=False),
        policy=policy,
    )
    _moved(m.model_id, before.stage.value, m.stage.value)
    _retired(previous, m.model_id, "superseded")


_Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the history).")]


def rollback(
    config: Annotated[str, typer.Argument(help="Config key, e.g. hex8_2p.")],
    reason: _Reason,
) -> None:
    """Restore the previous production model of a config key; retire the current one."""
    lifecycle = ModelLifecycle()
    current = lifecycle.get_production(config)
    _reinstated(current, lifecycle.rollback(config, reason=reason), "RETIRED", "rolled back")


def restore(
    model_id: Annotated[str, typer.Argument(help="Model to put back in production, e.g. hex8_2p_v8.")],
    reason: _Reason,
) -> None:
    """Put a chosen model (RETIRED included) into production; retire the current one."""
    lifecycle = ModelLifecycle()
    model = lifecycle.get_model(model_id)
    before, current = model.stage.value, lifecycle.get_production(model.config_key, model.run)
    _reinstated(current, lifecycle.restore(model_id, reason=reason), before, "replaced", "restored")


def _moved(model_id: str, before: str, after: str, why: str = "") -> None:
    console.print(f"[bold]{model_id}[/]: {before} → {after}" + (f" ({why})" if why else ""))


def _retired(production: ModelRecord | None, successor: str, why: str) -> None:
    """The line for the production model that ``successor`` pushed out, if there was one."""
    if production is not None and production.model_id != successor:
        _moved(production.model_id, "PRODUCTION", "RETIRED", why)


def _reinstated(
    production: ModelRecord | None, restored: ModelRecord, before: str, retired_why: str, why: str = ""
) -> None:
    """The lines of a model put back into production and of the production model it pushed out."""
    _retired(production, restored.model_id, retired_why)
    _moved(restored.model_id, before, "PRODUCTION", why)


def register(app: typer.Typer) -> None:
    add_group(
        app, "models", "The model registry: stages, lineage, history, promotion and rollback.",
        {
            "list": list_models, "show": show, "history": history, "register": register_model,
            "promote": promote, "rollback": rollback, "restore": restore,
        },
    )  # fmt: skip
