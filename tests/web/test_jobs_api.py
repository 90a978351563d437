"""The HTTP layer in memory (ASGI): status codes, bodies, the token, and 4xx for every kind of bad input."""

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.jobs import JobCreate
from app.p2p import leased, store
from app.web.main import create_app

TOKEN = "s3cret-token"


@pytest.fixture
def api(settings):
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def secured(home):
    settings = Settings(home=home, token=TOKEN)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def submit(api, **body):
    body.setdefault("type", "sleep")
    return api.post("/api/jobs", json=body)


def test_submit_get_list_cancel(api):
    r = submit(api, config={"seconds": 5}, priority=3)
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["state"] == "queued" and job["config"]["seconds"] == 5 and job["priority"] == 3
    assert api.get(f"/api/jobs/{job['id']}").json()["id"] == job["id"]
    submit(api)
    listing = api.get("/api/jobs", params={"state": "queued", "type": "sleep", "limit": 1}).json()
    assert listing["count"] == 2 and len(listing["data"]) == 1
    r = api.post(f"/api/jobs/{job['id']}/cancel")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert api.get("/api/jobs", params={"state": "cancelled"}).json()["count"] == 1


def test_unknown_job_is_404_and_a_finished_job_cannot_be_cancelled(api, settings):
    for r in (api.get("/api/jobs/nope"), api.post("/api/jobs/nope/cancel"), api.get("/api/jobs/nope/log")):
        assert r.status_code == 404 and "no job with id 'nope'" in r.json()["detail"]
    job = store.submit(settings, JobCreate(type="sleep"))
    (claim,) = store.claim(settings, node_id="n", executor="local", limit=1)
    leased.record_success(settings, job.id, claim.lease, {"x": 1})
    r = api.post(f"/api/jobs/{job.id}/cancel")
    assert r.status_code == 409 and "already succeeded" in r.json()["detail"]


BAD_SUBMISSIONS = [
    ({"config": {}}, "type"),
    ({"type": "Sleep!"}, "type"),
    ({"type": "nope"}, "unknown job type"),
    ({"type": "sleep", "config": [1]}, "config"),
    ({"type": "sleep", "config": "x"}, "config"),
    ({"type": "sleep", "config": {"seconds": -1}}, "seconds"),
    ({"type": "sleep", "config": {"seconds": 3601}}, "seconds"),
    ({"type": "sleep", "config": {"seconds": "long"}}, "seconds"),
    ({"type": "sleep", "config": {"fail": "maybe"}}, "fail"),
    ({"type": "sleep", "config": {"progress_steps": 0}}, "progress_steps"),
    ({"type": "sleep", "config": {"progress_steps": 1.5}}, "progress_steps"),
    ({"type": "sleep", "config": {"colour": "red"}}, "colour"),
    ({"type": "sleep", "priority": 1001}, "priority"),
    ({"type": "sleep", "priority": "high"}, "priority"),
    ({"type": "sleep", "max_attempts": 0}, "max_attempts"),
    ({"type": "sleep", "max_attempts": 21}, "max_attempts"),
    ({"type": "sleep", "resources": {"cpus": -1}}, "cpus"),
    ({"type": "sleep", "resources": {"gpus": 100}}, "gpus"),
    ({"type": "sleep", "resources": {"custom": {"bad name": 1}}}, "custom"),
    ({"type": "sleep", "resources": {"custom": {"slot": -2}}}, "custom"),
    ({"type": "sleep", "resources": {"memory": 4}}, "memory"),
    ({"type": "sleep", "owner": "me"}, "owner"),
    (
        {"type": "selfplay", "config": {"board_type": "hex5", "model_id": "../../etc/passwd"}},
        "malformed model id",
    ),
    (
        {"type": "selfplay", "config": {"board_type": "hex5", "model_id": "hex8_2p_v1"}},
        "not a model of hex5_2p",
    ),
]


@pytest.mark.parametrize(("body", "mentions"), BAD_SUBMISSIONS)
def test_every_bad_field_is_422_with_a_message(api, body, mentions):
    r = api.post("/api/jobs", json=body)
    assert r.status_code == 422, r.text
    assert mentions in r.text
    detail = r.json()["detail"]
    assert detail and (isinstance(detail, str) or all(e["msg"] for e in detail))
    assert api.get("/api/jobs").json()["count"] == 0


def test_config_errors_are_located_inside_the_body(api):
    r = submit(api, config={"seconds": -1, "colour": "red"})
    locs = {tuple(e["loc"]) for e in r.json()["detail"]}
    assert locs == {("body", "config", "seconds"), ("body", "config", "colour")}


def test_malformed_json_is_422(api):
    r = api.post("/api/jobs", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422


@pytest.mark.parametrize(
    "params",
    [
        {"state": "done"},
        {"type": "BAD TYPE"},
        {"config_key": "hex8"},
        {"limit": 0},
        {"limit": 5000},
        {"limit": "many"},
        {"offset": -1},
        {"offset": 152522341407494361841664},
    ],
)
def test_bad_list_filters_are_422(api, params):
    r = api.get("/api/jobs", params=params)
    assert r.status_code == 422 and r.json()["detail"]


def test_token_guards_everything_but_health(secured):
    assert secured.get("/api/health").status_code == 200
    for method, path in [
        ("GET", "/api/jobs"),
        ("POST", "/api/jobs"),
        ("GET", "/api/cluster"),
        ("GET", "/metrics"),
    ]:
        r = secured.request(method, path, json={"type": "sleep"} if method == "POST" else None)
        assert r.status_code == 401 and "requires a token" in r.json()["detail"], path
        assert r.headers["WWW-Authenticate"] == "Bearer"
        wrong = secured.request(method, path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "refused" in wrong.json()["detail"]
    ok = secured.post("/api/jobs", json={"type": "sleep"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 201
    assert secured.get("/api/jobs", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401


def test_openapi_documents_the_routes_and_the_bearer_scheme(api):
    schema = api.get("/openapi.json").json()
    assert {
        "/api/jobs",
        "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/cancel",
        "/api/cluster",
        "/api/health",
    } <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "JobCreate" in schema["components"]["schemas"]
    status = schema["paths"]["/api/jobs/{job_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    created = schema["paths"]["/api/jobs"]["post"]["responses"]["201"]["content"]["application/json"]
    assert status["schema"]["$ref"] == created["schema"]["$ref"] == "#/components/schemas/JobPublic"


def test_jobtypes_lists_schemas(api):
    types = {t["name"]: t for t in api.get("/api/jobtypes").json()}
    assert types["sleep"]["available"] and "seconds" in types["sleep"]["config_schema"]["properties"]
    assert {"selfplay", "training", "evaluation"} <= set(types)


def test_cluster_and_metrics(api, settings):
    store.submit(settings, JobCreate(type="sleep"))
    cluster = api.get("/api/cluster").json()
    assert cluster["queued"] == 1 and cluster["jobs_by_state"]["queued"] == 1
    r = api.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert 'zeroloop_jobs{state="queued",type="sleep"} 1.0' in r.text


def test_job_log_is_plain_text(api, settings):
    from app.p2p import paths

    job = store.submit(settings, JobCreate(type="sleep"))
    paths.append_log(settings, job.id, "hello from the worker")
    r = api.get(f"/api/jobs/{job.id}/log")
    assert r.status_code == 200 and "hello from the worker" in r.text


def test_an_oversized_body_is_413_without_echo(api):
    r = api.post(
        "/api/jobs",
        content=b'{"type": "' + b"x" * (2 << 20) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    assert len(r.content) < 1000
    assert api.get("/api/jobs").json()["count"] == 0
