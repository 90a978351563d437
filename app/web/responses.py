"""The error answers of the API as the schema documents them: one body shape for every 4xx and 5xx it gives."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorPublic(BaseModel):
    """An error answer: ``detail`` is a sentence saying what is wrong and what would be valid, or for malformed
    input one object per bad field (``loc``, ``msg``, ``type``, the refused ``input`` quoted briefly, ``ctx``)."""

    detail: str | list[dict[str, Any]]
    message: str | None = Field(default=None, description="A bad job config's errors in one sentence.")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorPublic, "description": description}


# Every route behind the token; the job and lifecycle routers add what only they answer.
PROTECTED = {
    400: _error("A body that is not JSON."),
    401: _error("No token, or not the one this node was started with."),
    404: _error("Nothing with the id or key the request names."),
    413: _error("A request body over 1 MiB."),
    422: _error("Malformed or out-of-range input: what was wrong, and what would be valid."),
}
CONFLICTS = {409: _error("The change is not allowed from the current state (a finished job, a stage move).")}
UNAVAILABLE = {503: _error("The job type's code cannot be imported on this node.")}
