"""The model registry service: every model's stage, lineage and the history of its stage changes.

Stage changes follow one table (``app.registry.types.TRANSITIONS``). At most one model per config key is in
PRODUCTION in each run (``main``, or a branch forked from a model: the run a model id names): the database enforces it
with a partial unique index, and ``promote_to_production`` retires the run's previous production model in the same
transaction. Every change is one transaction; a change that raced another
writer (possible on PostgreSQL, where transactions run side by side) is redone from a fresh read, never
half-applied. Artifact paths are stored relative to the data directory (``app.registry.paths``): one inside it
is accepted as absolute or relative, one outside it is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from app.core.config import Settings, get_settings
from app.core.errors import InvalidTransition, ModelNotFound, PromotionRejected
from app.core.names import MAIN_RUN, parse_config_key, parse_run
from app.registry.checks import (
    check_model_id,
    check_sha256,
    finite_or_none,
    json_dict,
    metrics_dict,
    resolve_names,
)
from app.registry.paths import stored_artifact_path
from app.registry.policy import PromotionPolicy
from app.registry.store import (
    INSERT_MODEL,
    INSERT_TRANSITION,
    MODELS,
    TRANSITION_TABLE,
    Conflict,
    add_transition,
    check_transition,
    get_row,
    production_row,
    refuse_duplicate,
    retire_production,
    rollback_target,
    set_stage,
    swap_production,
    to_record,
    to_transition,
    transact,
    transition_row,
)
from app.registry.types import ENTRY_STAGES, POLICY_STAGES, ModelRecord, ModelStage, Transition
from app.storage.base import utcnow
from app.storage.db import get_engine, read_engine

S = ModelStage
T = TypeVar("T")
_M = MODELS
_T = TRANSITION_TABLE


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
        artifact_path: str | Path | None = None,
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
        key, ver, run = resolve_names(model_id, config_key, version)
        if parent_model_id is not None:
            check_model_id(parent_model_id, "parent_model_id")
            if parent_model_id == model_id:
                raise ValueError(f"model {model_id!r} cannot be its own parent")
        check_sha256(sha256)
        values = {
            "model_id": model_id,
            "config_key": key,
            "run": run,
            "version": ver,
            "stage": stage.value,
            "parent_model_id": parent_model_id,
            "artifact_path": self._stored_path(artifact_path),
            "sha256": sha256,
            "training_config": json_dict(training_config, "training_config"),
            "metrics": metrics_dict(metrics),
            "metadata": json_dict(metadata, "metadata"),
        }

        def work(conn: Connection) -> ModelRecord:
            refuse_duplicate(conn, model_id, key, ver)
            now = utcnow()
            try:
                conn.execute(INSERT_MODEL, {**values, "created_at": now, "updated_at": now})
            except IntegrityError:
                raise Conflict from None  # a concurrent writer took the id; the retry reports it
            add_transition(conn, model_id, key, None, stage, "register", now, reason=reason)
            return self._record({**values, "created_at": now, "updated_at": now})

        return self._transact(work)

    def update_model(
        self,
        model_id: str,
        *,
        artifact_path: str | Path | None = None,
        sha256: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ModelRecord:
        """Set the artifact of a model and merge new metrics/metadata into its own (stage is untouched)."""
        check_sha256(sha256)
        stored_path = self._stored_path(artifact_path)
        new_metrics = metrics_dict(metrics)
        new_meta = json_dict(metadata, "metadata")

        def work(conn: Connection) -> ModelRecord:
            row = get_row(conn, model_id, lock=True)
            values: dict[str, Any] = {"updated_at": utcnow()}
            if stored_path is not None:
                values["artifact_path"] = stored_path
            if sha256 is not None:
                values["sha256"] = sha256
            if new_metrics:
                values["metrics"] = {**row.metrics, **new_metrics}
            if new_meta:
                values["metadata"] = {**row._mapping["metadata"], **new_meta}
            conn.execute(update(_M).where(_M.c.model_id == model_id).values(**values))
            return self._record(get_row(conn, model_id))

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
        elo = finite_or_none(elo_delta, "elo_delta")
        ev = json_dict(evidence, "evidence")
        if elo is None and isinstance(ev.get("elo_delta"), int | float):
            elo = finite_or_none(ev["elo_delta"], "evidence['elo_delta']")
        active = (policy or self.policy) if target in POLICY_STAGES else None

        def work(conn: Connection) -> ModelRecord:
            row = get_row(conn, model_id, lock=True)
            current = ModelStage(row.stage)
            check_transition(model_id, current, target)
            if active is not None:
                failures = active.check(elo_delta=elo, evidence=ev)
                if failures:
                    raise PromotionRejected(
                        f"promotion of {model_id} from {current} to {target} rejected by policy: "
                        + "; ".join(str(f) for f in failures)
                    )
            now = utcnow()
            rows = (
                retire_production(conn, row.config_key, row.run, model_id, now)
                if target is S.PRODUCTION
                else []
            )
            set_stage(conn, model_id, current, target, now)
            rows.append(
                transition_row(
                    model_id, row.config_key, current, target, "promote", now,
                    elo_delta=elo, reason=reason, evidence=ev,
                )
            )  # fmt: skip
            conn.execute(INSERT_TRANSITION, rows)
            return replace(self._record(row), stage=target, updated_at=now)

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
        """Make ``model_id`` the production model of its config key and run; the previous one is retired."""
        return self.promote_model(
            model_id, S.PRODUCTION, elo_delta=elo_delta, reason=reason, evidence=evidence, policy=policy
        )

    def retire_model(self, model_id: str, *, reason: str | None = None) -> ModelRecord:
        return self.promote_model(model_id, S.RETIRED, reason=reason)

    def rollback(
        self, config_key: str, *, reason: str = "manual rollback", run: str = MAIN_RUN
    ) -> ModelRecord:
        """Put the most recently superseded production model of ``config_key`` in ``run`` back into PRODUCTION.

        The current production model (if any) is retired. A model retired by a rollback is never a rollback
        target itself, so repeated rollbacks walk back through the production line instead of flip-flopping.
        Returns the restored model.
        """
        parse_config_key(config_key)
        parse_run(run)
        if not reason or not str(reason).strip():
            raise ValueError("a rollback needs a reason")

        def work(conn: Connection) -> ModelRecord:
            incumbent = production_row(conn, config_key, run, lock=True)
            exclude = incumbent.model_id if incumbent is not None else None
            target = rollback_target(conn, config_key, run, exclude=exclude)
            if target is None:
                raise ModelNotFound(
                    f"no earlier production model of {_of(config_key, run)} to roll back to "
                    f"(current production: {exclude or 'none'})"
                )
            swap_production(
                conn, config_key, incumbent, target, S.RETIRED, reason,
                retired_evidence={"rolled_back_to": target}, restored_evidence={"rolled_back_from": exclude},
            )  # fmt: skip
            return self._record(get_row(conn, target))

        return self._transact(work)

    def restore(self, model_id: str, *, reason: str) -> ModelRecord:
        """Put a chosen model, RETIRED or not, into PRODUCTION (the undo MLflow users expect); the incumbent
        is retired. Both changes are recorded as rollbacks (the kinds the schema allows) with ``reason`` and
        ``evidence.restore``. Returns the restored model."""
        check_model_id(model_id, "model_id")
        if not reason or not str(reason).strip():
            raise ValueError("a restore needs a reason")

        def work(conn: Connection) -> ModelRecord:
            row = get_row(conn, model_id, lock=True)
            current = S(row.stage)
            if current is S.PRODUCTION:
                raise InvalidTransition(f"model {model_id!r} is already in PRODUCTION")
            key = row.config_key
            incumbent = production_row(conn, key, row.run, lock=True)
            replaced = incumbent.model_id if incumbent is not None else None
            swap_production(
                conn, key, incumbent, model_id, current, reason,
                retired_evidence={"restored": model_id}, restored_evidence={"restore": True, "replaced": replaced},
            )  # fmt: skip
            return self._record(get_row(conn, model_id))

        return self._transact(work)

    # -- queries ---------------------------------------------------------------------------------------------

    def get_model(self, model_id: str) -> ModelRecord:
        with self._reader.connect() as conn:
            return self._record(get_row(conn, model_id))

    def list_models(
        self, config_key: str | None = None, stage: ModelStage | str | None = None, *, run: str | None = None
    ) -> list[ModelRecord]:
        """Models ordered by config key and version, optionally of one config key, one stage and/or one run."""
        query = select(_M).order_by(_M.c.config_key, _M.c.version)
        if config_key is not None:
            parse_config_key(config_key)
            query = query.where(_M.c.config_key == config_key)
        if run is not None:
            query = query.where(_M.c.run == parse_run(run))
        if stage is not None:
            query = query.where(_M.c.stage == ModelStage.parse(stage).value)
        with self._reader.connect() as conn:
            return [self._record(r) for r in conn.execute(query)]

    def get_production(self, config_key: str, run: str = MAIN_RUN) -> ModelRecord | None:
        """The production model of ``config_key`` in ``run`` (default: the main run), or None."""
        parse_config_key(config_key)
        parse_run(run)
        with self._reader.connect() as conn:
            row = production_row(conn, config_key, run)
            return None if row is None else self._record(row)

    def rollback_target(self, config_key: str, run: str = MAIN_RUN) -> str | None:
        """The model ``rollback(config_key, run=run)`` would put back into PRODUCTION now, or None (it would
        refuse)."""
        parse_config_key(config_key)
        parse_run(run)
        with self._reader.connect() as conn:
            incumbent = production_row(conn, config_key, run)
            return rollback_target(conn, config_key, run, exclude=incumbent.model_id if incumbent else None)

    def history(self, model_id: str) -> list[Transition]:
        """Every stage change of one model, oldest first, starting with its registration."""
        with self._reader.connect() as conn:
            get_row(conn, model_id)
            rows = conn.execute(select(_T).where(_T.c.model_id == model_id).order_by(_T.c.id))
            return [to_transition(r) for r in rows]

    def config_history(self, config_key: str) -> list[Transition]:
        """Every stage change of every model of one config key, oldest first."""
        parse_config_key(config_key)
        with self._reader.connect() as conn:
            rows = conn.execute(select(_T).where(_T.c.config_key == config_key).order_by(_T.c.id))
            return [to_transition(r) for r in rows]

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
                        get_row(conn, model_id)  # raises ModelNotFound with the usual message
                    break
                chain.append(self._record(row))
                current = row.parent_model_id
        return chain

    # -- plumbing --------------------------------------------------------------------------------------------

    def _record(self, row: Any) -> ModelRecord:
        return to_record(row, self.settings.home)

    def _stored_path(self, artifact_path: str | Path | None) -> str | None:
        return None if artifact_path is None else stored_artifact_path(self.settings.home, artifact_path)

    def _transact(self, work: Callable[[Connection], T]) -> T:
        return transact(self._engine, work)


def _of(config_key: str, run: str) -> str:
    return config_key if run == MAIN_RUN else f"{config_key} (run {run})"
