"""Read models of the loop for the dashboard: every config key's models, ratings, gate decisions and curves.

They read the stores the stages and the lifecycle write (models, transitions, evaluations, arena games, jobs,
feedback); nothing here writes. Ratings are refitted over all games of a config key only when a game was added
since the last fit, so a page polling every two seconds costs a couple of cheap queries, not a Newton solve.

Training curves: ``TrainingCurves.history`` is read from the model's ``metadata["history"]`` (the per-epoch
``TrainResult.history`` the pipeline stores at registration), else from the result of the succeeded training
job that produced the model (``result.model_id`` or ``result.sha256`` matching the model).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from app.core.config import Settings
from app.core.jobs import JobState
from app.core.names import parse_config_key
from app.core.records import from_attributes
from app.evaluation.players import check_name, is_anchor
from app.evaluation.ratings import Rating, RatingTable
from app.evaluation.scale import latest_calibration, scale_fit
from app.games.registry import game_for_key
from app.integration.feedback import PipelineFeedback
from app.integration.feedback_followup import RuleStatus
from app.p2p import store as job_store
from app.registry import ModelLifecycle, ModelStage, allowed_transitions
from app.storage.db import read_scope
from app.storage.models.evaluation import ArenaGameRow, EvaluationRow
from app.storage.models.feedback import AppliedRecommendationRow, FeedbackEventRow
from app.storage.models.jobs import JobRow
from app.storage.models.lifecycle import ModelRow
from app.web.dashboard.json_values import (
    as_dict,
    counts,
    epochs,
    finite,
    finite_numbers,
    position_counts,
    strings,
    to_int,
)
from app.web.dashboard.schemas import (
    AppliedRecommendation,
    ConfigDetail,
    ConfigSummary,
    GateDecision,
    ModelSummary,
    RatingPublic,
    StageChange,
    TrainingCurves,
    Verdict,
)

TRAINING_JOBS_SCANNED = 200

_fits: dict[tuple[str, str], tuple[tuple[int, int | None, int | None], RatingTable]] = {}
_fits_lock = threading.Lock()


# -- ratings ------------------------------------------------------------------------------------------------


def rating_table(settings: Settings, config_key: str) -> RatingTable:
    """The rating fit over every stored game of ``config_key`` (anchors pinned once calibrated, as in
    ``zeroloop ratings``), refitted only when games were added or the anchors recalibrated."""
    with read_scope(settings) as s:
        count, last = s.execute(
            select(func.count(), func.max(ArenaGameRow.id)).where(ArenaGameRow.config_key == config_key)
        ).one()
    calibration = latest_calibration(settings, config_key)
    signature = (int(count), last, calibration.version if calibration else None)
    cache_key = (settings.db_url, config_key)
    with _fits_lock:
        hit = _fits.get(cache_key)
    if hit is not None and hit[0] == signature:
        return hit[1]
    table = scale_fit(settings, config_key)
    with _fits_lock:
        _fits[cache_key] = (signature, table)
    return table


def public_rating(r: Rating) -> RatingPublic:
    return from_attributes(RatingPublic, r)


def rating_of(table: RatingTable, name: str | None) -> RatingPublic | None:
    """``name``'s rating in ``table`` as the dashboard shows it; None when unnamed or unrated."""
    r = table.get(name) if name else None
    return None if r is None else public_rating(r)


# -- config keys --------------------------------------------------------------------------------------------


def config_keys(settings: Settings) -> list[str]:
    """Every config key anything was recorded for: models, jobs, arena games or feedback."""
    columns = (ModelRow.config_key, JobRow.config_key, ArenaGameRow.config_key, FeedbackEventRow.config_key)
    keys: set[str] = set()
    with read_scope(settings) as s:
        for column in columns:
            keys.update(k for k in s.scalars(select(column).distinct()) if k)
    return sorted(keys)


def overview(settings: Settings) -> list[ConfigSummary]:
    keys = config_keys(settings)
    models = ModelLifecycle(settings).list_models()
    open_recs = Counter(r.config_key for r in PipelineFeedback(settings).get_recommendations())
    with read_scope(settings) as s:
        jobs = s.execute(
            select(JobRow.config_key, JobRow.state, func.count())
            .where(JobRow.config_key.is_not(None))
            .group_by(JobRow.config_key, JobRow.state)
        ).all()
        games = dict(
            s.execute(select(ArenaGameRow.config_key, func.count()).group_by(ArenaGameRow.config_key)).all()
        )
    out = []
    for key in keys:
        mine = [m for m in models if m.config_key == key]
        production = next((m.model_id for m in mine if m.stage is ModelStage.PRODUCTION), None)
        table = rating_table(settings, key) if games.get(key) else None
        out.append(
            ConfigSummary(
                config_key=key,
                production=production,
                production_rating=rating_of(table, production) if table else None,
                models=len(mine),
                stages={st.value: n for st in ModelStage if (n := sum(m.stage is st for m in mine))},
                jobs={state: n for k, state, n in jobs if k == key},
                rated_games=int(games.get(key, 0)),
                recommendations=open_recs.get(key, 0),
            )
        )
    return out


def config_detail(settings: Settings, config_key: str) -> ConfigDetail:
    """Models of ``config_key`` by generation with their ratings, and the anchors of its scale."""
    game_for_key(config_key)  # a malformed key or an unknown game is a clear 422 naming what is valid
    lifecycle = ModelLifecycle(settings)
    models = lifecycle.list_models(config_key=config_key)
    table = rating_table(settings, config_key)
    registered = {m.model_id for m in models}
    anchors = sorted((r for r in table.ratings if is_anchor(r.name)), key=lambda r: (r.elo, r.name))
    others = [r for r in table.ratings if not is_anchor(r.name) and r.name not in registered]
    return ConfigDetail(
        config_key=config_key,
        production=next((m.model_id for m in models if m.stage is ModelStage.PRODUCTION), None),
        rollback_to=lifecycle.rollback_target(config_key),
        models=[
            ModelSummary(
                model_id=m.model_id,
                version=m.version,
                stage=m.stage.value,
                parent_model_id=m.parent_model_id,
                created_at=m.created_at,
                updated_at=m.updated_at,
                metrics=finite_numbers(m.metrics),
                rating=rating_of(table, m.model_id),
                allowed=[s.value for s in allowed_transitions(m.stage)],
            )
            for m in models
        ],
        anchors=[public_rating(r) for r in anchors],
        others=[public_rating(r) for r in others],
        unrated=list(table.unrated),
        rated_games=table.games,
        anchor=table.anchor,
    )


# -- gate decisions -----------------------------------------------------------------------------------------

_RESULT_NUMBERS = ("score", "elo_delta", "elo_ci_low", "elo_ci_high", "llr", "llr_lower", "llr_upper")
_RESULT_COUNTS = ("games", "wins", "draws", "losses")
PURPOSES = ("gate", "adhoc")


def gate_decisions(
    settings: Settings,
    config_key: str,
    *,
    candidate: str | None = None,
    purpose: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[GateDecision], int]:
    """Evaluations of ``config_key`` (of one candidate, of one purpose if given), newest first, with the SPRT
    evidence and the stage changes made on it; and how many match in all."""
    parse_config_key(config_key)
    if candidate is not None:
        check_name(candidate, config_key, allow_production=False)
    if not 1 <= limit <= 200:
        raise ValueError(f"limit must be between 1 and 200, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    if purpose not in (None, *PURPOSES):
        raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}, got {purpose!r}")
    where = [EvaluationRow.config_key == config_key]
    if candidate is not None:
        where.append(EvaluationRow.candidate == candidate)
    if purpose is not None:
        # Evaluations stored before the field existed carry none: they count as ad hoc.
        is_gate = func.coalesce(EvaluationRow.config["purpose"].as_string(), "adhoc") == "gate"
        where.append(is_gate if purpose == "gate" else ~is_gate)
    with read_scope(settings) as s:
        rows, count = _page(
            s, EvaluationRow, where, (EvaluationRow.created_at.desc(), EvaluationRow.id), limit, offset
        )
    ids = {r.id for r in rows}
    changes: dict[str, list[StageChange]] = {}
    for t in ModelLifecycle(settings).config_history(config_key):
        evaluation_id = t.evidence.get("evaluation_id")
        if evaluation_id in ids:
            changes.setdefault(evaluation_id, []).append(
                StageChange(
                    model_id=t.model_id,
                    from_stage=t.from_stage.value if t.from_stage else None,
                    to_stage=t.to_stage.value,
                    kind=t.kind,
                    at=t.at,
                    reason=t.reason,
                )
            )
    return [_decision(r, changes.get(r.id, [])) for r in rows], count


def _decision(row: EvaluationRow, changes: list[StageChange]) -> GateDecision:
    result = row.result if isinstance(row.result, dict) else {}
    config = row.config if isinstance(row.config, dict) else {}
    numbers = {k: finite(result.get(k)) for k in _RESULT_NUMBERS}
    counts = {k: to_int(result.get(k)) for k in _RESULT_COUNTS}
    path = result.get("llr_path")
    penta = result.get("pentanomial")
    return GateDecision(
        evaluation_id=row.id,
        config_key=row.config_key,
        candidate=row.candidate,
        opponent=row.opponent,
        status=row.status,
        decision=row.decision,
        created_at=row.created_at,
        finished_at=row.finished_at,
        error=row.error,
        **numbers,
        **counts,
        llr_path=[v for v in (finite(x) for x in path) if v is not None] if isinstance(path, list) else [],
        elo0=finite(result.get("elo0", config.get("elo0"))),
        elo1=finite(result.get("elo1", config.get("elo1"))),
        pentanomial=[int(v) for v in penta] if isinstance(penta, list) else None,
        stage_changes=changes,
        purpose="gate" if config.get("purpose") == "gate" else "adhoc",
    )


# -- training curves ----------------------------------------------------------------------------------------


def training_curves(settings: Settings, model_id: str) -> TrainingCurves:
    model = ModelLifecycle(settings).get_model(model_id)
    meta = model.metadata
    history = epochs(meta.get("history"))
    source = "metadata" if history else None
    job_id = meta.get("job_id") if isinstance(meta.get("job_id"), str) else None
    shards = strings(meta.get("shards"))
    hyper = dict(model.training_config) or as_dict(meta.get("hyperparameters"))
    positions = position_counts(meta.get("positions"))
    games = to_int(meta.get("games"))
    if not history:
        job = _training_job(settings, model.model_id, model.config_key, model.sha256, job_id)
        if job is not None:
            result = job.result
            history = epochs(result.get("history"))
            source, job_id = ("job" if history else None), job.id
            shards = shards or strings(result.get("shards"))
            hyper = hyper or {k: v for k, v in job.config.items() if k not in ("device", "num_threads")}
            positions = positions or counts(
                {"train": result.get("train_positions"), "val": result.get("val_positions")}
            )
            games = games if games is not None else to_int(result.get("games"))
    return TrainingCurves(
        model_id=model.model_id,
        source=source,
        job_id=job_id,
        history=history,
        shards=shards,
        hyperparameters=hyper,
        positions=positions,
        games=games,
    )


def _training_job(
    settings: Settings, model_id: str, config_key: str, sha256: str | None, job_id: str | None
) -> Any:
    """The succeeded training job whose result is this model (by its recorded id, model id or checksum)."""
    if job_id is not None:
        try:
            job = job_store.get_job(settings, job_id)
        except LookupError:
            return None
        return job if job.state is JobState.SUCCEEDED and isinstance(job.result, dict) else None
    page = job_store.list_jobs(
        settings,
        state=JobState.SUCCEEDED,
        job_type="training",
        config_key=config_key,
        limit=TRAINING_JOBS_SCANNED,
    )
    for job in page.data:
        result = job.result if isinstance(job.result, dict) else {}
        if result.get("model_id") == model_id or (sha256 is not None and result.get("sha256") == sha256):
            return job
    return None


# -- feedback -----------------------------------------------------------------------------------------------


def applied_recommendations(
    settings: Settings, config_key: str | None = None, *, limit: int = 100
) -> tuple[list[AppliedRecommendation], int]:
    """Recommendations marked applied, newest first, and how many there are in all."""
    if config_key is not None:
        parse_config_key(config_key)
    if not 1 <= limit <= 1000:
        raise ValueError(f"limit must be between 1 and 1000, got {limit}")
    where = [] if config_key is None else [AppliedRecommendationRow.config_key == config_key]
    with read_scope(settings) as s:
        order = (AppliedRecommendationRow.applied_at.desc(), AppliedRecommendationRow.identity)
        rows, count = _page(s, AppliedRecommendationRow, where, order, limit)
        verdicts = _verdicts(s, config_key)
        data = [
            from_attributes(
                AppliedRecommendation,
                r,
                recommendation=dict(r.recommendation or {}),
                verdict=verdicts.get(r.identity),
            )
            for r in rows
        ]
    return data, count


def _page(session, row: Any, where: list[Any], order: tuple[Any, ...], limit: int, offset: int = 0):
    """One page of ``row`` matching ``where`` in ``order``, and how many match in all."""
    count = session.scalar(select(func.count()).select_from(row).where(*where)) or 0
    rows = session.scalars(select(row).where(*where).order_by(*order).limit(limit).offset(offset)).all()
    return rows, int(count)


def rule_standings(settings: Settings, config_key: str) -> list[RuleStatus]:
    """How each tuning rule's changes fared on ``config_key``, and which are backed off."""
    return PipelineFeedback(settings).rule_status(config_key)


def _verdicts(session, config_key: str | None) -> dict[str, Verdict]:
    where = [FeedbackEventRow.feedback_type == "FOLLOW_UP"]
    if config_key is not None:
        where.append(FeedbackEventRow.config_key == config_key)
    out = {}
    for e in session.scalars(select(FeedbackEventRow).where(*where).order_by(FeedbackEventRow.id)):
        context, metrics = as_dict(e.context), finite_numbers(e.metrics)
        if isinstance(context.get("identity"), str):
            out[context["identity"]] = Verdict(
                event_id=e.id,
                improved=metrics.get("improved") == 1,
                metric=str(context.get("metric", "")),
                before=metrics.get("before"),
                after=metrics.get("after"),
            )
    return out
