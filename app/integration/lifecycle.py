"""The model registry: every model's stage, lineage and the history of its stage changes.

Stage changes follow one table (``TRANSITIONS``). At most one model per config key is in PRODUCTION: the
database enforces it with a partial unique index, and ``promote_to_production`` retires the previous production
model in the same transaction. Every change is one transaction; a change that raced another writer (possible on
PostgreSQL, where transactions run side by side) is redone from a fresh read, never half-applied.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from sqlalchemy import Connection, and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.core.config import Settings, get_settings
from app.core.errors import AlreadyExists, InvalidTransition, ModelNotFound, PromotionRejected
from app.core.names import parse_config_key, parse_model_id
from app.integration.policy import PromotionPolicy
from app.storage.base import utcnow
from app.storage.db import get_engine, read_engine
from app.storage.models.lifecycle import ModelRow, TransitionRow

__all__ = [
    "ENTRY_STAGES",
    "TRANSITIONS",
    "ModelLifecycle",
    "ModelRecord",
    "ModelStage",
    "PromotionPolicy",
    "Transition",
    "allowed_transitions",
]


class ModelStage(StrEnum):
    TRAINING = "TRAINING"
    EVALUATION = "EVALUATION"
    STAGING = "STAGING"
    PRODUCTION = "PRODUCTION"
    RETIRED = "RETIRED"

    @classmethod
    def parse(cls, value: str | ModelStage) -> ModelStage:
        """A stage from its name in any case (``"staging"``); anything else is a ValueError listing the stages."""
        if isinstance(value, ModelStage):
            return value
        try:
            return cls(str(value).upper())
        except ValueError:
            valid = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown model stage {value!r}; valid stages: {valid}") from None


S = ModelStage
# The one table of allowed stage changes. RETIRED is final for promotions; only ``rollback`` brings a model that
# was superseded in PRODUCTION back, and that path is checked separately against the history.
TRANSITIONS: Mapping[ModelStage, frozenset[ModelStage]] = MappingProxyType(
    {
        S.TRAINING: frozenset({S.EVALUATION, S.RETIRED}),
        S.EVALUATION: frozenset({S.STAGING, S.PRODUCTION, S.RETIRED}),
        S.STAGING: frozenset({S.PRODUCTION, S.RETIRED}),
        S.PRODUCTION: frozenset({S.RETIRED}),
        S.RETIRED: frozenset(),
    }
)
ENTRY_STAGES = (S.TRAINING, S.EVALUATION, S.STAGING)
POLICY_STAGES = (S.STAGING, S.PRODUCTION)
_ORDER = {stage: i for i, stage in enumerate(ModelStage)}


def allowed_transitions(stage: ModelStage) -> tuple[ModelStage, ...]:
    return tuple(sorted(TRANSITIONS[stage], key=_ORDER.__getitem__))


@dataclass(frozen=True, slots=True)
class ModelRecord:
    model_id: str
    config_key: str
    version: int
    stage: ModelStage
    parent_model_id: str | None
    artifact_path: str | None
    sha256: str | None
    training_config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """One stage change. ``from_stage`` is None for the registration; ``kind`` is register, promote,
    supersede (retired because another model entered PRODUCTION) or rollback."""

    id: int
    model_id: str
    config_key: str
    from_stage: ModelStage | None
    to_stage: ModelStage
    kind: str
    at: datetime
    elo_delta: float | None
    reason: str | None
    evidence: dict[str, Any]


class _Conflict(Exception):
    """Another writer changed a row this transaction read; the whole transaction is redone."""


_MAX_ATTEMPTS = 50
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock (PostgreSQL)
_MODEL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_M = ModelRow.__table__
_T = TransitionRow.__table__
T = TypeVar("T")

# Statements built once: building and cache-keying a statement per call cost more than running it on SQLite.
_SELECT_MODEL = select(_M).where(_M.c.model_id == bindparam("model_id"))
_SELECT_MODEL_LOCKED = _SELECT_MODEL.with_for_update()
_SELECT_PRODUCTION = select(_M).where(
    _M.c.config_key == bindparam("config_key"), _M.c.stage == S.PRODUCTION.value
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
    .where(_M.c.config_key == bindparam("key"), _M.c.stage == S.PRODUCTION.value)
    .values(stage=S.RETIRED.value, updated_at=bindparam("now"))
    .returning(_M.c.model_id)
)
_INSERT_MODEL = insert(_M)
_INSERT_TRANSITION = insert(_T)


class ModelLifecycle:
    """The registry of models of one installation (``settings``: default, the process-wide settings)."""

    def __init__(self, settings: Settings | None = None, *, policy: PromotionPolicy | None = None):
        self.settings = settings or get_settings()
        self.policy = policy
        self._engine = get_engine(self.settings)
        self._reader = read_engine(self.settings)

    # -- changes ---------------------------------------------------------------------------------------------

    def register_model(
        self,
        model_id: str,
        stage: ModelStage | str = ModelStage.TRAINING,
        *,
        config_key: str | None = None,
        version: int | None = None,
        parent_model_id: str | None = None,
        artifact_path: str | None = None,
        sha256: str | None = None,
        training_config: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> ModelRecord:
        """Add a model at an entry stage (TRAINING, EVALUATION or STAGING).

        Config key and version come from the model id (``hex8_2p_v3`` → ``hex8_2p``, 3) unless given.
        """
        stage = ModelStage.parse(stage)
        if stage not in ENTRY_STAGES:
            raise InvalidTransition(
                f"cannot register model {model_id!r} at {stage}: a model enters at "
                f"{', '.join(ENTRY_STAGES)}; PRODUCTION is reached with promote_to_production"
            )
        key, ver = _resolve_names(model_id, config_key, version)
        if parent_model_id is not None:
            _check_model_id(parent_model_id, "parent_model_id")
            if parent_model_id == model_id:
                raise ValueError(f"model {model_id!r} cannot be its own parent")
        if sha256 is not None and not _SHA256_RE.match(str(sha256)):
            raise ValueError(f"sha256 must be 64 lowercase hex digits, got {sha256!r}")
        values = {
            "model_id": model_id,
            "config_key": key,
            "version": ver,
            "stage": stage.value,
            "parent_model_id": parent_model_id,
            "artifact_path": None if artifact_path is None else str(artifact_path),
            "sha256": sha256,
            "training_config": _json_dict(training_config, "training_config"),
            "metrics": _metrics_dict(metrics),
            "metadata": _json_dict(metadata, "metadata"),
        }

        def work(conn: Connection) -> ModelRecord:
            _refuse_duplicate(conn, model_id, key, ver)
            now = utcnow()
            try:
                conn.execute(_INSERT_MODEL, {**values, "created_at": now, "updated_at": now})
            except IntegrityError:
                raise _Conflict from None  # a concurrent writer took the id; the retry reports it
            _add_transition(conn, model_id, key, None, stage, "register", now, reason=reason)
            return _record_from(values, created_at=now, updated_at=now)

        return self._transact(work)

    def update_model(
        self,
        model_id: str,
        *,
        artifact_path: str | None = None,
        sha256: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ModelRecord:
        """Set the artifact of a model and merge new metrics/metadata into its own (stage is untouched)."""
        if sha256 is not None and not _SHA256_RE.match(str(sha256)):
            raise ValueError(f"sha256 must be 64 lowercase hex digits, got {sha256!r}")
        new_metrics = _metrics_dict(metrics)
        new_meta = _json_dict(metadata, "metadata")

        def work(conn: Connection) -> ModelRecord:
            row = _get_row(conn, model_id, lock=True)
            values: dict[str, Any] = {"updated_at": utcnow()}
            if artifact_path is not None:
                values["artifact_path"] = str(artifact_path)
            if sha256 is not None:
                values["sha256"] = sha256
            if new_metrics:
                values["metrics"] = {**row.metrics, **new_metrics}
            if new_meta:
                values["metadata"] = {**row._mapping["metadata"], **new_meta}
            conn.execute(update(_M).where(_M.c.model_id == model_id).values(**values))
            return _record(_get_row(conn, model_id))

        return self._transact(work)

    def promote_model(
        self,
        model_id: str,
        stage: ModelStage | str,
        *,
        elo_delta: float | None = None,
        reason: str | None = None,
        evidence: Mapping[str, Any] | None = None,
        policy: PromotionPolicy | None = None,
    ) -> ModelRecord:
        """Move a model to ``stage`` along the transition table.

        For STAGING and PRODUCTION, ``policy`` (else the lifecycle's default policy) is checked against
        ``elo_delta`` and ``evidence`` (games, elo_ci_low/high, llr, sprt ...); a refusal raises
        ``PromotionRejected`` naming every failed rule. PRODUCTION retires the current production model of the
        config key in the same transaction.
        """
        target = ModelStage.parse(stage)
        if policy is not None and target not in POLICY_STAGES:
            raise ValueError(
                f"a promotion policy applies to {' and '.join(POLICY_STAGES)} only, not to {target}"
            )
        elo = _finite_or_none(elo_delta, "elo_delta")
        ev = _json_dict(evidence, "evidence")
        if elo is None and isinstance(ev.get("elo_delta"), int | float):
            elo = _finite_or_none(ev["elo_delta"], "evidence['elo_delta']")
        active = (policy or self.policy) if target in POLICY_STAGES else None

        def work(conn: Connection) -> ModelRecord:
            row = _get_row(conn, model_id, lock=True)
            current = ModelStage(row.stage)
            _check_transition(model_id, current, target)
            if active is not None:
                failures = active.check(elo_delta=elo, evidence=ev)
                if failures:
                    raise PromotionRejected(
                        f"promotion of {model_id} from {current} to {target} rejected by policy: "
                        + "; ".join(str(f) for f in failures)
                    )
            now = utcnow()
            rows = []
            if target is S.PRODUCTION:
                # One statement retires whatever holds PRODUCTION now (none, or the one the index allows).
                retired = conn.execute(_RETIRE_PRODUCTION, {"key": row.config_key, "now": now}).scalars()
                for incumbent in retired:
                    rows.append(
                        _transition_row(
                            incumbent, row.config_key, S.PRODUCTION, S.RETIRED, "supersede", now,
                            reason=f"superseded by {model_id}", evidence={"superseded_by": model_id},
                        )
                    )  # fmt: skip
            _set_stage(conn, model_id, current, target, now)
            rows.append(
                _transition_row(
                    model_id, row.config_key, current, target, "promote", now,
                    elo_delta=elo, reason=reason, evidence=ev,
                )
            )  # fmt: skip
            conn.execute(_INSERT_TRANSITION, rows)
            return replace(_record(row), stage=target, updated_at=now)

        return self._transact(work)

    def promote_to_production(
        self,
        model_id: str,
        *,
        elo_delta: float | None = None,
        reason: str | None = None,
        evidence: Mapping[str, Any] | None = None,
        policy: PromotionPolicy | None = None,
    ) -> ModelRecord:
        """Make ``model_id`` the production model of its config key; the previous one is retired."""
        return self.promote_model(
            model_id, S.PRODUCTION, elo_delta=elo_delta, reason=reason, evidence=evidence, policy=policy
        )

    def retire_model(self, model_id: str, *, reason: str | None = None) -> ModelRecord:
        return self.promote_model(model_id, S.RETIRED, reason=reason)

    def rollback(self, config_key: str, *, reason: str = "manual rollback") -> ModelRecord:
        """Put the most recently superseded production model of ``config_key`` back into PRODUCTION.

        The current production model (if any) is retired. A model retired by a rollback is never a rollback
        target itself, so repeated rollbacks walk back through the production line instead of flip-flopping.
        Returns the restored model.
        """
        parse_config_key(config_key)
        if not reason or not str(reason).strip():
            raise ValueError("a rollback needs a reason")

        def work(conn: Connection) -> ModelRecord:
            incumbent = _production_row(conn, config_key, lock=True)
            exclude = incumbent.model_id if incumbent is not None else None
            target = _rollback_target(conn, config_key, exclude=exclude)
            if target is None:
                raise ModelNotFound(
                    f"no earlier production model of {config_key} to roll back to "
                    f"(current production: {exclude or 'none'})"
                )
            _swap_production(
                conn, config_key, incumbent, target, S.RETIRED, reason,
                retired_evidence={"rolled_back_to": target}, restored_evidence={"rolled_back_from": exclude},
            )  # fmt: skip
            return _record(_get_row(conn, target))

        return self._transact(work)

    def restore(self, model_id: str, *, reason: str) -> ModelRecord:
        """Put a chosen model, RETIRED or not, into PRODUCTION (the undo MLflow users expect); the incumbent
        is retired. Both changes are recorded as rollbacks (the kinds the schema allows) with ``reason`` and
        ``evidence.restore``. Returns the restored model."""
        _check_model_id(model_id, "model_id")
        if not reason or not str(reason).strip():
            raise ValueError("a restore needs a reason")

        def work(conn: Connection) -> ModelRecord:
            row = _get_row(conn, model_id, lock=True)
            current = S(row.stage)
            if current is S.PRODUCTION:
                raise InvalidTransition(f"model {model_id!r} is already in PRODUCTION")
            key = row.config_key
            incumbent = _production_row(conn, key, lock=True)
            replaced = incumbent.model_id if incumbent is not None else None
            _swap_production(
                conn, key, incumbent, model_id, current, reason,
                retired_evidence={"restored": model_id}, restored_evidence={"restore": True, "replaced": replaced},
            )  # fmt: skip
            return _record(_get_row(conn, model_id))

        return self._transact(work)

    # -- queries ---------------------------------------------------------------------------------------------

    def get_model(self, model_id: str) -> ModelRecord:
        with self._reader.connect() as conn:
            return _record(_get_row(conn, model_id))

    def list_models(
        self, config_key: str | None = None, stage: ModelStage | str | None = None
    ) -> list[ModelRecord]:
        """Models ordered by config key and version, optionally of one config key and/or one stage."""
        query = select(_M).order_by(_M.c.config_key, _M.c.version)
        if config_key is not None:
            parse_config_key(config_key)
            query = query.where(_M.c.config_key == config_key)
        if stage is not None:
            query = query.where(_M.c.stage == ModelStage.parse(stage).value)
        with self._reader.connect() as conn:
            return [_record(r) for r in conn.execute(query)]

    def get_production(self, config_key: str) -> ModelRecord | None:
        parse_config_key(config_key)
        with self._reader.connect() as conn:
            row = _production_row(conn, config_key)
            return None if row is None else _record(row)

    def history(self, model_id: str) -> list[Transition]:
        """Every stage change of one model, oldest first, starting with its registration."""
        with self._reader.connect() as conn:
            _get_row(conn, model_id)
            rows = conn.execute(select(_T).where(_T.c.model_id == model_id).order_by(_T.c.id))
            return [_transition(r) for r in rows]

    def config_history(self, config_key: str) -> list[Transition]:
        """Every stage change of every model of one config key, oldest first."""
        parse_config_key(config_key)
        with self._reader.connect() as conn:
            rows = conn.execute(select(_T).where(_T.c.config_key == config_key).order_by(_T.c.id))
            return [_transition(r) for r in rows]

    def lineage(self, model_id: str) -> list[ModelRecord]:
        """The model and its registered ancestors, newest first (stops at the first parent not registered)."""
        chain: list[ModelRecord] = []
        seen: set[str] = set()
        with self._reader.connect() as conn:
            current: str | None = model_id
            while current is not None and current not in seen:
                seen.add(current)
                row = conn.execute(select(_M).where(_M.c.model_id == current)).first()
                if row is None:
                    if not chain:
                        _get_row(conn, model_id)  # raises ModelNotFound with the usual message
                    break
                chain.append(_record(row))
                current = row.parent_model_id
        return chain

    # -- plumbing --------------------------------------------------------------------------------------------

    def _transact(self, work: Callable[[Connection], T]) -> T:
        for attempt in range(_MAX_ATTEMPTS):
            try:
                with self._engine.begin() as conn:
                    return work(conn)
            except _Conflict:
                pass
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) not in _RETRYABLE_SQLSTATES:
                    raise
            time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 7)))
        raise RuntimeError(
            f"gave up after {_MAX_ATTEMPTS} attempts: other writers kept changing the same rows"
        )


# -- helpers over one connection ----------------------------------------------------------------------------


def _get_row(conn: Connection, model_id: str, *, lock: bool = False):
    row = conn.execute(_SELECT_MODEL_LOCKED if lock else _SELECT_MODEL, {"model_id": model_id}).first()
    if row is None:
        raise ModelNotFound(_not_found_message(conn, model_id))
    return row


def _not_found_message(conn: Connection, model_id: str) -> str:
    try:
        key = parse_model_id(model_id).config_key
    except ValueError:
        return f"no model {model_id!r} is registered (model ids look like 'hex8_2p_v3')"
    ids = conn.execute(select(_M.c.model_id).where(_M.c.config_key == key).order_by(_M.c.version)).scalars()
    known = list(ids)
    listed = ", ".join(known[-10:]) if known else "none"
    return f"no model {model_id!r} is registered; models of {key}: {listed}"


def _production_row(conn: Connection, config_key: str, *, lock: bool = False):
    query = _SELECT_PRODUCTION_LOCKED if lock else _SELECT_PRODUCTION
    return conn.execute(query, {"config_key": config_key}).first()


def _refuse_duplicate(conn: Connection, model_id: str, config_key: str, version: int) -> None:
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


def _check_transition(model_id: str, current: ModelStage, target: ModelStage) -> None:
    if target in TRANSITIONS[current]:
        return
    allowed = ", ".join(allowed_transitions(current)) or "none"
    hint = ""
    if current is S.RETIRED and target is S.PRODUCTION:
        hint = "; a superseded production model comes back only through rollback(config_key)"
    raise InvalidTransition(
        f"model {model_id} cannot move from {current} to {target}; allowed from {current}: {allowed}{hint}"
    )


def _swap_production(
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
        _set_stage(conn, incumbent.model_id, S.PRODUCTION, S.RETIRED, now)
        _add_transition(
            conn, incumbent.model_id, config_key, S.PRODUCTION, S.RETIRED, "rollback", now,
            reason=reason, evidence=retired_evidence,
        )  # fmt: skip
    _set_stage(conn, target, target_stage, S.PRODUCTION, now)
    _add_transition(
        conn, target, config_key, target_stage, S.PRODUCTION, "rollback", now,
        reason=reason, evidence=restored_evidence,
    )  # fmt: skip


def _set_stage(conn: Connection, model_id: str, expected: ModelStage, new: ModelStage, now: datetime) -> None:
    # Compare-and-set: if another transaction moved the model since we read it, nothing matches and the
    # whole transaction is redone from a fresh read.
    params = {"m_id": model_id, "expected": expected.value, "new": new.value, "now": now}
    try:
        result = conn.execute(_SET_STAGE, params)
    except IntegrityError:
        if new is S.PRODUCTION:  # the one-production index: a concurrent promotion won
            raise _Conflict from None
        raise
    if result.rowcount != 1:
        raise _Conflict


def _transition_row(
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


def _add_transition(conn: Connection, *args: Any, **kwargs: Any) -> None:
    conn.execute(_INSERT_TRANSITION, _transition_row(*args, **kwargs))


def _rollback_target(conn: Connection, config_key: str, *, exclude: str | None) -> str | None:
    """The model most recently retired from PRODUCTION (not by a rollback) that is still RETIRED."""
    rows = conn.execute(
        select(_T.c.model_id, _T.c.kind)
        .where(
            _T.c.config_key == config_key,
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


def _record(row) -> ModelRecord:
    return ModelRecord(
        model_id=row.model_id,
        config_key=row.config_key,
        version=row.version,
        stage=ModelStage(row.stage),
        parent_model_id=row.parent_model_id,
        artifact_path=row.artifact_path,
        sha256=row.sha256,
        training_config=dict(row.training_config or {}),
        metrics=dict(row.metrics or {}),
        metadata=dict(row._mapping["metadata"] or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _record_from(values: Mapping[str, Any], *, created_at: datetime, updated_at: datetime) -> ModelRecord:
    return ModelRecord(
        model_id=values["model_id"],
        config_key=values["config_key"],
        version=values["version"],
        stage=ModelStage(values["stage"]),
        parent_model_id=values["parent_model_id"],
        artifact_path=values["artifact_path"],
        sha256=values["sha256"],
        training_config=dict(values["training_config"]),
        metrics=dict(values["metrics"]),
        metadata=dict(values["metadata"]),
        created_at=created_at,
        updated_at=updated_at,
    )


def _transition(row) -> Transition:
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


# -- input checks -------------------------------------------------------------------------------------------


def _check_model_id(model_id: Any, what: str = "model_id") -> None:
    if not isinstance(model_id, str) or not _MODEL_ID_RE.match(model_id):
        raise ValueError(
            f"{what} must be 1-128 characters of letters, digits, '_', '.', '-' (like 'hex8_2p_v3'), "
            f"got {model_id!r}"
        )


def _resolve_names(model_id: str, config_key: str | None, version: int | None) -> tuple[str, int]:
    _check_model_id(model_id)
    if config_key is None or version is None:
        parsed = parse_model_id(model_id)
        config_key = parsed.config_key if config_key is None else config_key
        version = parsed.version if version is None else version
    parse_config_key(config_key)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(f"version must be an integer >= 0, got {version!r}")
    return config_key, version


def _finite_or_none(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _json_dict(value: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """A JSON-safe deep copy of a mapping with string keys (NaN and infinities refused)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{what} must be a mapping with string keys, got {value!r}")
    try:
        return json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what} must hold JSON values (finite numbers, strings, lists, dicts): {exc}"
        ) from None


def _metrics_dict(value: Mapping[str, Any] | None) -> dict[str, float]:
    metrics = _json_dict(value, "metrics")
    for key, number in metrics.items():
        _finite_or_none(number, f"metrics[{key!r}]")
        if number is None:
            raise ValueError(f"metrics[{key!r}] must be a finite number, got None")
    return metrics
