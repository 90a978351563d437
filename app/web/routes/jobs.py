from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from app.core.jobs import JOB_TYPE_PATTERN, JobCreate, JobPublic, JobsPublic, JobState, JobTypePublic
from app.p2p import jobtypes, paths, store
from app.web.deps import ConfigKeyQuery, NodeDep, SettingsDep
from app.web.responses import CONFLICTS, UNAVAILABLE

router = APIRouter(tags=["jobs"], responses={**CONFLICTS, **UNAVAILABLE})

JobId = Annotated[str, Path(min_length=1, max_length=64, description="The job's id, as submit returned it.")]

# OpenAPI links from a submitted job to the routes that take its id (clients and stateful fuzzers follow them).
_JOB_ID = {"job_id": "$response.body#/id"}
SUBMIT_LINKS = {
    "GetJob": {"operationId": "get_job", "parameters": _JOB_ID, "description": "The job's state."},
    "CancelJob": {"operationId": "cancel_job", "parameters": _JOB_ID, "description": "Cancel the job."},
    "JobLog": {"operationId": "job_log", "parameters": _JOB_ID, "description": "The tail of the job's log."},
}
SUBMIT_EXAMPLES = {
    "sleep": {
        "summary": "A test job that sleeps",
        "value": {"type": "sleep", "config": {"seconds": 1}, "priority": 5},
    },
    "selfplay": {
        "summary": "Selfplay games on a small board",
        "value": {"type": "selfplay", "config": {"board_type": "hex6", "num_players": 2, "games": 8}},
    },
}
_FIRST_JOB_ID = {"job_id": "$response.body#/data/0/id"}
LIST_LINKS = {
    "GetFirstJob": {
        "operationId": "get_job",
        "parameters": _FIRST_JOB_ID,
        "description": "The first job listed.",
    },
    "CancelFirstJob": {"operationId": "cancel_job", "parameters": _FIRST_JOB_ID},
}


def _json(model: BaseModel, status_code: int = 200) -> Response:
    # Submit and status are the hot paths: their bodies are validated models already, so they skip FastAPI's
    # second validation of the response (about a third of a status request's time in the API layer).
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


@router.post(
    "/jobs",
    status_code=status.HTTP_201_CREATED,
    response_model=JobPublic,
    responses={status.HTTP_201_CREATED: {"description": "The job, queued.", "links": SUBMIT_LINKS}},
)
def submit_job(
    create: Annotated[JobCreate, Body(openapi_examples=SUBMIT_EXAMPLES)], settings: SettingsDep, node: NodeDep
) -> Response:
    job = store.submit(settings, create)
    if node is not None:
        node.job_submitted()
    return _json(job, status.HTTP_201_CREATED)


@router.get("/jobs", responses={200: {"description": "A page of jobs, newest first.", "links": LIST_LINKS}})
def list_jobs(
    settings: SettingsDep,
    state: JobState | None = None,
    type: Annotated[str | None, Query(pattern=JOB_TYPE_PATTERN)] = None,
    config_key: ConfigKeyQuery = None,
    limit: Annotated[int, Query(ge=1, le=store.MAX_LIST)] = 100,
    offset: Annotated[int, Query(ge=0, le=store.MAX_OFFSET)] = 0,
) -> JobsPublic:
    return store.list_jobs(
        settings, state=state, job_type=type, config_key=config_key, limit=limit, offset=offset
    )


@router.get("/jobs/{job_id}", response_model=JobPublic, operation_id="get_job")
def get_job(job_id: JobId, settings: SettingsDep) -> Response:
    return _json(store.get_job(settings, job_id))


@router.post("/jobs/{job_id}/cancel", operation_id="cancel_job")
def cancel_job(job_id: JobId, settings: SettingsDep, node: NodeDep) -> JobPublic:
    job = store.cancel(settings, job_id)
    if node is not None:
        node.wake()
    return job


# Documented by hand: with response_class=PlainTextResponse the schema would say the JSON errors are text too.
@router.get(
    "/jobs/{job_id}/log",
    response_class=Response,
    operation_id="job_log",
    responses={
        200: {"description": "The log's tail.", "content": {"text/plain": {"schema": {"type": "string"}}}}
    },
)
def job_log(
    job_id: JobId, settings: SettingsDep, max_chars: Annotated[int, Query(ge=1, le=1_000_000)] = 20_000
) -> PlainTextResponse:
    job = store.get_job(settings, job_id)  # 404 for an unknown id rather than an empty log
    return PlainTextResponse(paths.log_tail(settings, job.id, max_chars))


@router.get("/jobtypes")
def list_job_types() -> list[JobTypePublic]:
    out = []
    for jt in jobtypes.job_types():
        try:
            schema, available, reason = jt.config_model().model_json_schema(), True, None
        except jobtypes.JobTypeUnavailable as exc:
            schema, available, reason = None, False, str(exc)
        out.append(
            JobTypePublic(
                name=jt.name,
                description=jt.description,
                config_schema=schema,
                available=available,
                unavailable_reason=reason,
                resources=jt.resources,
            )
        )
    return out
