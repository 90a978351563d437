"""The SQL of the model registry over the ``models`` and ``model_transitions`` tables, one connection at a time.

Every function takes the connection of the transaction it runs in; ``transact`` runs a unit of work and redoes
it from a fresh read when it raced another writer (``Conflict``, or a PostgreSQL serialization failure).
Rows become records here, their artifact path resolved against the data directory (``app.registry.paths``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.core.errors import AlreadyExists, InvalidTransition, ModelNotFound
from app.core.names import MAIN_RUN, parse_model_id
from app.registry.paths import resolve_artifact_path
from app.registry.types import TRANSITIONS, ModelRecord, ModelStage, Transition, allowed_transitions
from app.storage.base import utcnow
from app.storage.models.lifecycle import ModelRow, TransitionRow

S = ModelStage
T = TypeVar("T")
MODELS = ModelRow.__table__
TRANSITION_TABLE = TransitionRow.__table__
_M = MODELS
_T = TRANSITION_TABLE
_MAX_ATTEMPTS = 50
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock (PostgreSQL)


class Conflict(Exception):
    """Another writer changed a row this transaction read; the whole transaction is redone."""


# Statements built once: building and cache-keying a statement per call cost more than running it on SQLite.
_SELECT_MODEL = select(_M).where(_M.c.model_id == bindparam("model_id"))
_SELECT_MODEL_LOCKED = _SELECT_MODEL.with_for_update()
_SELECT_PRODUCTION = select(_M).where(
    _M.c.config_key == bindparam("config_key"), _M.c.run == bindparam("run"), _M.c.stage == S.PRODUCTION.value
)
_SELECT_PRODUCTION_LOCKED = _SELECT_PRODUCTION.with_for_update()
_SELECT_CLASH = select(_M.c.model_id, _M.c.stage, _M.c.version).where(
    or_(
        _M.c.model_id == bindparam("model_id"),
        and_(_M.c.config_key == bindparam("config_key"), _M.c.version == bindparam("version")),
    )
)
_SET_STAGE = (
    update(_M)
    .where(_M.c.model_id == bindparam("m_id"), _M.c.stage == bindparam("expected"))
    .values(stage=bindparam("new"), updated_at=bindparam("now"))
)
_RETIRE_PRODUCTION = (
    update(_M)
    .where(
        _M.c.config_key == bindparam("key"), _M.c.run == bindparam("r_run"), _M.c.stage == S.PRODUCTION.value
    )
    .values(stage=S.RETIRED.value, updated_at=bindparam("now"))
    .returning(_M.c.model_id)
)
INSERT_MODEL = insert(_M)
INSERT_TRANSITION = insert(_T)


def transact(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run ``work`` in one transaction, redone from a fresh read while it races other writers."""
    for attempt in range(_MAX_ATTEMPTS):
        try:
            with engine.begin() as conn:
                return work(conn)
        except Conflict:
            pass
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in _RETRYABLE_SQLSTATES:
                raise
        time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 7)))
    raise RuntimeError(f"gave up after {_MAX_ATTEMPTS} attempts: other writers kept changing the same rows")


def get_row(conn: Connection, model_id: str, *, lock: bool = False):
    row = conn.execute(_SELECT_MODEL_LOCKED if lock else _SELECT_MODEL, {"model_id": model_id}).first()
    if row is None:
        raise ModelNotFound(not_found_message(conn, model_id))
    return row


def not_found_message(conn: Connection, model_id: str) -> str:
    try:
        key = parse_model_id(model_id).config_key
    except ValueError:
        return f"no model {model_id!r} is registered (model ids look like 'hex8_2p_v3')"
    ids = conn.execute(select(_M.c.model_id).where(_M.c.config_key == key).order_by(_M.c.version)).scalars()
    known = list(ids)
    listed = ", ".join(known[-10:]) if known else "none"
    return f"no model {model_id!r} is registered; models of {key}: {listed}"


def production_row(conn: Connection, config_key: str, run: str = MAIN_RUN, *, lock: bool = False):
    query = _SELECT_PRODUCTION_LOCKED if lock else _SELECT_PRODUCTION
    return conn.execute(query, {"config_key": config_key, "run": run}).first()


def refuse_duplicate(conn: Connection, model_id: str, config_key: str, version: int) -> None:
    rows = conn.execute(
        _SELECT_CLASH, {"model_id": model_id, "config_key": config_key, "version": version}
    ).all()
    if not rows:
        return
    newest = conn.execute(
        select(_M.c.version).where(_M.c.config_key == config_key).order_by(_M.c.version.desc()).limit(1)
    ).scalar()
    hint = f"; the next free version of {config_key} is {newest + 1}" if newest is not None else ""
    for other_id, stage, _ in rows:
        if other_id == model_id:
            raise AlreadyExists(f"model {model_id!r} is already registered (stage {stage}){hint}")
    raise AlreadyExists(f"version {version} of {config_key} is already model {rows[0].model_id!r}{hint}")


def check_transition(model_id: str, current: ModelStage, target: ModelStage) -> None:
    if target in TRANSITIONS[current]:
        return
    allowed = ", ".join(allowed_transitions(current)) or "none"
    hint = ""
    if current is S.RETIRED and target is S.PRODUCTION:
        hint = "; a superseded production model comes back only through rollback(config_key)"
    raise InvalidTransition(
        f"model {model_id} cannot move from {current} to {target}; allowed from {current}: {allowed}{hint}"
    )


def swap_production(
    conn: Connection,
    config_key: str,
    incumbent: Any,
    target: str,
    target_stage: ModelStage,
    reason: str,
    *,
    retired_evidence: dict[str, Any],
    restored_evidence: dict[str, Any],
) -> None:
    """Retire ``incumbent`` (the production row, or None) and put ``target`` (now in ``target_stage``) into
    PRODUCTION, both recorded as rollbacks with ``reason``: the one move rollback and restore share."""
    now = utcnow()
    if incumbent is not None:
        set_stage(conn, incumbent.model_id, S.PRODUCTION, S.RETIRED, now)
        add_transition(
            conn, incumbent.model_id, config_key, S.PRODUCTION, S.RETIRED, "rollback", now,
            reason=reason, evidence=retired_evidence,
        )  # fmt: skip
    set_stage(conn, target, target_stage, S.PRODUCTION, now)
    add_transition(
        conn, target, config_key, target_stage, S.PRODUCTION, "rollback", now,
        reason=reason, evidence=restored_evidence,
    )  # fmt: skip


def set_stage(conn: Connection, model_id: str, expected: ModelStage, new: ModelStage, now: datetime) -> None:
    # Compare-and-set: if another transaction moved the model since we read it, nothing matches and the
    # whole transaction is redone from a fresh read.
    params = {"m_id": model_id, "expected": expected.value, "new": new.value, "now": now}
    try:
        result = conn.execute(_SET_STAGE, params)
    except IntegrityError:
        if new is S.PRODUCTION:  # the one-production index: a concurrent promotion won
            raise Conflict from None
        raise
    if result.rowcount != 1:
        raise Conflict


def retire_production(
    conn: Connection, config_key: str, run: str, successor: str, now: datetime
) -> list[dict[str, Any]]:
    """Retire whatever holds PRODUCTION for ``config_key`` in ``run`` now (none, or the one the index allows) in
    one statement; the supersede transitions to insert with the successor's promotion."""
    retired = conn.execute(_RETIRE_PRODUCTION, {"key": config_key, "r_run": run, "now": now}).scalars()
    return [
        transition_row(
            incumbent, config_key, S.PRODUCTION, S.RETIRED, "supersede", now,
            reason=f"superseded by {successor}", evidence={"superseded_by": successor},
        )
        for incumbent in retired
    ]  # fmt: skip


def transition_row(
    model_id: str,
    config_key: str,
    from_stage: ModelStage | None,
    to_stage: ModelStage,
    kind: str,
    at: datetime,
    *,
    elo_delta: float | None = None,
    reason: str | None = None,
    evidence: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "model_id": model_id,
        "config_key": config_key,
        "from_stage": None if from_stage is None else from_stage.value,
        "to_stage": to_stage.value,
        "kind": kind,
        "at": at,
        "elo_delta": elo_delta,
        "reason": reason,
        "evidence": evidence or {},
    }


def add_transition(conn: Connection, *args: Any, **kwargs: Any) -> None:
    conn.execute(INSERT_TRANSITION, transition_row(*args, **kwargs))


def rollback_target(
    conn: Connection, config_key: str, run: str = MAIN_RUN, *, exclude: str | None
) -> str | None:
    """The model of ``run`` most recently retired from PRODUCTION (not by a rollback) that is still RETIRED."""
    of_run = select(_M.c.model_id).where(_M.c.config_key == config_key, _M.c.run == run)
    rows = conn.execute(
        select(_T.c.model_id, _T.c.kind)
        .where(
            _T.c.config_key == config_key,
            _T.c.model_id.in_(of_run),
            _T.c.from_stage == S.PRODUCTION.value,
            _T.c.to_stage == S.RETIRED.value,
        )
        .order_by(_T.c.id.desc())
    )
    seen: set[str] = set()
    for model_id, kind in rows:
        if model_id in seen or model_id == exclude:
            continue
        seen.add(model_id)  # only a model's latest exit from PRODUCTION counts
        if kind == "rollback":
            continue
        stage = conn.execute(select(_M.c.stage).where(_M.c.model_id == model_id)).scalar()
        if stage == S.RETIRED.value:
            return model_id
    return None


def to_record(row: Any, home: Path) -> ModelRecord:
    """A record from a ``models`` row or from the mapping of values just inserted."""
    values: Mapping[str, Any] = row if isinstance(row, Mapping) else row._mapping
    return ModelRecord(
        model_id=values["model_id"],
        config_key=values["config_key"],
        version=values["version"],
        stage=ModelStage(values["stage"]),
        parent_model_id=values["parent_model_id"],
        artifact_path=resolve_artifact_path(home, values["artifact_path"]),
        sha256=values["sha256"],
        training_config=dict(values["training_config"] or {}),
        metrics=dict(values["metrics"] or {}),
        metadata=dict(values["metadata"] or {}),
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        run=values["run"],
    )


def to_transition(row: Any) -> Transition:
    return Transition(
        id=row.id,
        model_id=row.model_id,
        config_key=row.config_key,
        from_stage=None if row.from_stage is None else ModelStage(row.from_stage),
        to_stage=ModelStage(row.to_stage),
        kind=row.kind,
        at=row.at,
        elo_delta=row.elo_delta,
        reason=row.reason,
        evidence=dict(row.evidence or {}),
    )
