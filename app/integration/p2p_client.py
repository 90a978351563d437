"""``P2PIntegration``: the seed's client of a zeroloop node, a small typed httpx client.

Errors say what to do: no node listening → ``NodeUnreachable`` (start one with ``zeroloop serve``); unknown job →
``JobNotFound``; a config the node rejects → ``InvalidConfig`` (a ``ValueError``) carrying the node's field
messages; 401 → ``PermissionError`` saying a token is needed. ``transport`` plugs in any httpx transport, so the
same client runs against an in-memory app in tests.
"""

from __future__ import annotations

import json
import os
from typing import Any, Unpack

import httpx

from app.core.config import DEFAULT_PORT
from app.core.errors import InvalidConfig, InvalidTransition, JobNotFound, NodeUnreachable, ZeroloopError
from app.core.jobs import (
    ClusterStatus,
    JobClient,
    JobOptions,
    JobPublic,
    JobQuery,
    JobsPublic,
    Resources,
    wait_for,
)

JobStatus = JobPublic  # the seed's name for a job as the node reports it

__all__ = ["JobClient", "JobStatus", "NodeError", "P2PIntegration"]


class NodeError(ZeroloopError):
    """The node answered with an error that is none of the typed ones (a bug on the node: 5xx)."""


class P2PIntegration:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        token: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ):
        """A client of the node at ``host:port``. ``token``: default ``$ZEROLOOP_TOKEN`` if set."""
        self.host, self.port = host, port
        self.base_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        token = token if token is not None else os.environ.get("ZEROLOOP_TOKEN") or None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._has_token = bool(token)
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout, headers=headers, transport=transport
        )

    # -- the seed's calls --------------------------------------------------------------------------------

    def submit_job(self, job_type: str, config: dict[str, Any], **options: Unpack[JobOptions]) -> str:
        """Queue a job on the cluster; returns its id. Options left out take the node's defaults."""
        body: dict[str, Any] = {"type": job_type, "config": config, **options}
        if isinstance(body.get("resources"), Resources):
            body["resources"] = body["resources"].model_dump()
        try:
            content = json.dumps(body, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidConfig(
                f"the job's config must be plain JSON (numbers, strings, lists, objects): {exc}"
            ) from None
        job = JobPublic.model_validate(
            self._request("POST", "/api/jobs", content=content, headers={"Content-Type": "application/json"})
        )
        return job.id

    def get_job_status(self, job_id: str) -> JobStatus:
        return JobPublic.model_validate(self._request("GET", f"/api/jobs/{_path(job_id)}"))

    # -- the rest ----------------------------------------------------------------------------------------

    def cancel_job(self, job_id: str) -> JobStatus:
        return JobPublic.model_validate(self._request("POST", f"/api/jobs/{_path(job_id)}/cancel"))

    def list_jobs(self, **query: Unpack[JobQuery]) -> JobsPublic:
        """A filtered page of the node's jobs (``JobQuery``: state, job_type, config_key, limit, offset)."""
        names = {"job_type": "type"}  # the API's query parameter
        params = {names.get(k, k): str(getattr(v, "value", v)) for k, v in query.items() if v is not None}
        return JobsPublic.model_validate(self._request("GET", "/api/jobs", params=params))

    def wait(self, job_id: str, timeout: float | None = None, *, poll_s: float = 0.25) -> JobStatus:
        """The job once it is done (succeeded, failed or cancelled); ``TimeoutError`` after ``timeout`` s."""
        return wait_for(self.get_job_status, job_id, timeout, poll_s)

    def cluster_status(self) -> ClusterStatus:
        return ClusterStatus.model_validate(self._request("GET", "/api/cluster"))

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/api/health")

    # -- JobClient ---------------------------------------------------------------------------------------

    def submit(self, job_type: str, config: dict[str, Any], **options: Unpack[JobOptions]) -> str:
        return self.submit_job(job_type, config, **options)

    def status(self, job_id: str) -> JobStatus:
        return self.get_job_status(job_id)

    def slots(self) -> int:
        return self.cluster_status().slots

    def cancel(self, job_id: str) -> JobStatus:
        return self.cancel_job(job_id)

    # -- plumbing ----------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise NodeUnreachable(
                f"no zeroloop node answers at {self.base_url} ({exc}); start one with "
                f"`zeroloop serve --port {self.port}`"
            ) from None
        except httpx.TimeoutException as exc:
            raise NodeUnreachable(
                f"the zeroloop node at {self.base_url} did not answer in time ({type(exc).__name__}); "
                "is it overloaded, or is something else listening there?"
            ) from None
        if response.is_success:
            return response.json()
        raise self._error(response)

    def _error(self, response: httpx.Response) -> Exception:
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text}
        detail = body.get("detail") if isinstance(body, dict) else body
        code = response.status_code
        if code == 401:
            hint = (
                "the node refused this client's token"
                if self._has_token
                else "the node requires a token: pass P2PIntegration(token=...) or set ZEROLOOP_TOKEN"
            )
            return PermissionError(f"{hint} ({detail})")
        if code == 404:
            return JobNotFound(str(detail))
        if code == 409:
            return InvalidTransition(str(detail))
        if code == 422:
            return _invalid(detail)
        return NodeError(f"node at {self.base_url} answered {code}: {detail}")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> P2PIntegration:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _path(job_id: str) -> str:
    if not isinstance(job_id, str) or not job_id or "/" in job_id:
        raise ValueError(f"job id must be a non-empty string without '/', got {job_id!r}")
    return job_id


def _invalid(detail: Any) -> InvalidConfig:
    """A ``ValueError`` listing each field the node rejected (``errors`` keeps them as the node sent them)."""
    if isinstance(detail, list):
        parts = []
        for e in detail:
            loc = [str(p) for p in e.get("loc", []) if p != "body"]
            parts.append(f"{'.'.join(loc) or 'request'}: {e.get('msg', e)}")
        exc = InvalidConfig("the node rejected the request: " + "; ".join(parts))
        exc.errors = detail
        return exc
    exc = InvalidConfig(f"the node rejected the request: {detail}")
    exc.errors = [{"loc": [], "msg": str(detail)}]
    return exc
