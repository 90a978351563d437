"""``zeroloop feedback``: record pipeline events and read the recommendations for the next cycle."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from app.cli._common import add_group, console
from app.cli._pairs import compact, json_default, parse_pairs, when
from app.integration.feedback import PipelineFeedback
from app.integration.feedback_types import FeedbackEvent, FeedbackType, Priority

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
_PRIORITY_STYLE = {
    Priority.CRITICAL: "bold red",
    Priority.HIGH: "yellow",
    Priority.MEDIUM: None,
    Priority.LOW: "dim",
}


def record(
    feedback_type: Annotated[
        str,
        typer.Argument(help="training_complete, evaluation_result, promotion_decision or pipeline_error."),
    ],
    model_id: Annotated[str | None, typer.Argument(help="Model id, e.g. hex8_2p_v3.")] = None,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", "-m", help="KEY=NUMBER, repeatable: loss=0.025.")
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="Config key (default: the model's).")
    ] = None,
    context: Annotated[
        list[str] | None,
        typer.Option("--context", help="KEY=TEXT, repeatable: opponent=random, stage=training."),
    ] = None,
    error: Annotated[str | None, typer.Option("--error", help="Error text of a pipeline_error.")] = None,
) -> None:
    """Record one pipeline event."""
    metrics = parse_pairs(metric, "metric", numbers=True)
    if error is not None:
        metrics["error"] = error
    ctx = {k: str(v) for k, v in parse_pairs(context, "context", numbers=False).items()}
    event = PipelineFeedback().record(feedback_type, model_id, metrics, config_key=config, context=ctx)
    console.print(
        f"recorded #{event.id} {event.feedback_type.value} for {event.model_id or event.config_key}: "
        f"{compact(event.metrics)}"
    )


def recommend(
    config: Annotated[str | None, typer.Option("--config", "-c", help="Only this config key.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recommendations for the next cycle, most urgent first."""
    recs = PipelineFeedback().get_recommendations(config)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in recs], indent=2))
        return
    if not recs:
        console.print("no recommendations: nothing in the recorded history calls for a change")
        return
    table = Table(title="recommendations, most urgent first", show_lines=True)
    table.add_column("priority", no_wrap=True)
    table.add_column("action / config / id", no_wrap=True)
    table.add_column("changes", overflow="fold", max_width=20)
    table.add_column("reason", overflow="fold", ratio=1)
    for r in recs:
        table.add_row(
            r.priority.name,
            f"{r.action.value}\n{r.config_key}\n{r.identity}",
            r.describe_changes(),
            r.reason,
            style=_PRIORITY_STYLE[r.priority],
        )
    console.print(table)


def apply(
    identity: Annotated[str, typer.Argument(help="The id of a recommendation (see `recommend`).")],
) -> None:
    """Mark a recommendation as applied so that it is not repeated."""
    rec = PipelineFeedback().mark_applied(identity)
    console.print(
        f"marked {rec.identity} applied: {rec.action.value} {rec.describe_changes()} for {rec.config_key}"
    )


def history(
    config: Annotated[str | None, typer.Option("--config", "-c", help="Only this config key.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Only this model id.")] = None,
    feedback_type: Annotated[str | None, typer.Option("--type", help="Only this feedback type.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the newest N events.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recorded events, oldest first."""
    events = PipelineFeedback().history(config, model_id=model, feedback_type=feedback_type, limit=limit)
    if as_json:
        typer.echo(json.dumps([_event_dict(e) for e in events], default=json_default, indent=2))
        return
    table = Table(title="feedback events")
    for col in ("#", "time", "type", "model"):
        table.add_column(col, no_wrap=True)
    table.add_column("metrics / context / error", overflow="fold", ratio=1)
    for e in events:
        detail = compact({**e.metrics, **e.context})
        if e.error:
            detail += f" error={e.error!r}"
        table.add_row(str(e.id), when(e.at), e.feedback_type.value, e.model_id or e.config_key, detail)
    console.print(table)


def rules(
    config: Annotated[str, typer.Option("--config", "-c", help="Config key, e.g. hex8_2p.")],
    as_json: JsonOpt = False,
) -> None:
    """How each tuning rule's applied changes fared (the loop's FOLLOW_UP verdicts) and whether it may speak."""
    fb = PipelineFeedback()
    statuses = fb.rule_status(config)
    verdicts = fb.history(config, feedback_type=FeedbackType.FOLLOW_UP)
    if as_json:
        data = {
            "rules": [s.model_dump() for s in statuses],
            "verdicts": [_event_dict(v) for v in verdicts],
        }
        typer.echo(json.dumps(data, default=json_default, indent=2))
        return
    table = Table(title=f"feedback rules on {config}")
    for col in ("rule", "applied", "improved", "did not help", "state"):
        table.add_column(col, no_wrap=True)
    for s in statuses:
        state = "active"
        if s.backed_off:
            state = f"[yellow]backed off[/] ({s.backoff_cycles_left} cycle(s) left)"
        elif s.cooldown_cycles_left:
            state = f"cooling down ({s.cooldown_cycles_left} cycle(s) left)"
        table.add_row(s.rule, str(s.applied), str(s.improved), str(s.failed), state)
    console.print(table)
    for v in verdicts[-10:]:
        word = "[green]improved[/]" if v.metrics.get("improved") == 1 else "[red]did not help[/]"
        console.print(
            f"#{v.id} {v.context.get('rule')} ({v.context.get('action')}): {word}: "
            f"{v.context.get('metric')} {v.metrics.get('before'):.4g} -> {v.metrics.get('after'):.4g}"
            + (
                f" (standard error {v.metrics['standard_error']:.2g})"
                if "standard_error" in v.metrics
                else ""
            )
        )


def _event_dict(e: FeedbackEvent) -> dict:
    return {
        "id": e.id,
        "at": e.at,
        "feedback_type": e.feedback_type.value,
        "model_id": e.model_id,
        "config_key": e.config_key,
        "metrics": e.metrics,
        "context": e.context,
        "error": e.error,
    }


def register(app: typer.Typer) -> None:
    add_group(
        app, "feedback", "The feedback loop: record pipeline events, get recommendations.",
        {"record": record, "recommend": recommend, "apply": apply, "history": history, "rules": rules},
    )  # fmt: skip
