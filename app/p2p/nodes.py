"""Service functions over the node heartbeat table, and the cluster status built from it and the job table."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.core.config import Settings
from app.core.jobs import ClusterStatus, JobState, NodeIdentity, NodePublic
from app.core.records import from_attributes
from app.storage.base import utcnow
from app.storage.db import read_scope, session_scope
from app.storage.models.jobs import JobRow, NodeRow

NODE_STALE_S = 15.0
LISTED_FOR = timedelta(days=1)  # nodes gone longer than this drop out of the cluster status


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_alive(row: NodeRow, *, now: datetime, hostname: str, stale_s: float = NODE_STALE_S) -> bool:
    """A node is alive while it beats; on this machine a vanished process counts as dead at once."""
    if row.stopped_at is not None:
        return False
    if (now - row.last_seen).total_seconds() > stale_s:
        return False
    return not (row.hostname == hostname and not pid_exists(row.pid))


def beat(settings: Settings, info: NodeIdentity) -> None:
    now = utcnow()
    with session_scope(settings) as s:
        row = s.get(NodeRow, info.id)
        if row is None:
            s.add(NodeRow(**info.model_dump(), started_at=now, last_seen=now))
            return
        restarted = row.pid != info.pid or row.stopped_at is not None
        for name, value in info.model_dump().items():
            setattr(row, name, value)
        row.last_seen, row.stopped_at = now, None
        if restarted:
            row.started_at = now


def mark_stopped(settings: Settings, node_id: str) -> None:
    with session_scope(settings) as s:
        row = s.get(NodeRow, node_id)
        if row is not None:
            row.stopped_at = utcnow()


def all_nodes(settings: Settings) -> list[NodeRow]:
    with session_scope(settings) as s:
        return list(s.scalars(select(NodeRow).order_by(NodeRow.id)))


def cluster_status(settings: Settings, *, hostname: str, stale_s: float = NODE_STALE_S) -> ClusterStatus:
    now = utcnow()
    with read_scope(settings) as s:
        rows = list(
            s.scalars(select(NodeRow).where(NodeRow.last_seen >= now - LISTED_FOR).order_by(NodeRow.id))
        )
        running_by_node = dict(
            s.execute(
                select(JobRow.node_id, func.count())
                .where(JobRow.state == JobState.RUNNING.value)
                .group_by(JobRow.node_id)
            ).all()
        )
        by_state = dict(s.execute(select(JobRow.state, func.count()).group_by(JobRow.state)).all())
    nodes = [
        from_attributes(
            NodePublic,
            r,
            alive=is_alive(r, now=now, hostname=hostname, stale_s=stale_s),
            running=running_by_node.get(r.id, 0),
        )
        for r in rows
    ]
    jobs_by_state = {state.value: by_state.get(state.value, 0) for state in JobState}
    return ClusterStatus(
        nodes=nodes,
        slots=sum(n.slots for n in nodes if n.alive),
        running=jobs_by_state[JobState.RUNNING.value],
        queued=jobs_by_state[JobState.QUEUED.value],
        jobs_by_state=jobs_by_state,
    )
