"""What a request may send and what an answer echoes: the body cap on the bytes received (chunked too), 422s that
quote their input briefly, numbers too large for the database, and the OpenAPI links between operations."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from app.web.limits import (
    ECHO_CHARS,
    MAX_BODY_BYTES,
    MESSAGE_CHARS,
    BodyLimit,
    brief,
    brief_errors,
    brief_message,
)
from app.web.main import create_app


@pytest.fixture
def api(settings):
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def chunks(total: int, size: int = 64 << 10):
    """A request body with no Content-Length: httpx sends a generator chunked."""
    while total > 0:
        yield b"x" * min(size, total)
        total -= size


def test_a_chunked_body_over_the_cap_is_413(api):
    r = api.post(
        "/api/jobs", content=chunks(MAX_BODY_BYTES + 1), headers={"content-type": "application/json"}
    )
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in r.request.headers
    assert r.status_code == 413 and f"over {MAX_BODY_BYTES} bytes" in r.json()["detail"]
    assert api.get("/api/jobs").json()["count"] == 0


def test_a_chunked_body_under_the_cap_is_read(api):
    def body():
        yield b'{"type": "sleep", '
        yield b'"config": {"seconds": 1}}'

    r = api.post("/api/jobs", content=body(), headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["config"]["seconds"] == 1


@pytest.mark.parametrize("declared", ["abc", "-1", str(MAX_BODY_BYTES + 1)])
def test_a_bad_or_large_content_length_is_413(api, declared):
    r = api.post(
        "/api/jobs", content=b"{}", headers={"content-type": "application/json", "content-length": declared}
    )
    assert r.status_code == 413


def test_a_content_length_of_digits_int_refuses_is_413():
    async def app(scope, receive, send):
        raise AssertionError("not reached")

    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-length", "\u00b2".encode("latin-1"))],
    }
    asyncio.run(BodyLimit(app)(scope, receive, send))
    assert sent[0]["status"] == 413


def test_a_422_quotes_a_large_input_briefly(api):
    big = "x" * (MAX_BODY_BYTES // 2)
    r = api.post("/api/jobs", json={"type": "sleep", "priority": big})
    assert r.status_code == 422
    assert len(r.content) < 2 * ECHO_CHARS + 500
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "priority"] and error["type"] == "int_parsing"
    assert error["input"].startswith("xxx") and error["input"].endswith(f"... ({len(big)} characters)")


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/jobs", {"type": "selfplay", "config": {"board_type": "h" * 500_000}}),  # a validator's message
        ("/api/jobs", {"type": "sleep", "config": {"k" * 500_000: 1}}),  # a key in the location
        ("/api/models/hex6_2p_v1/promote", {"stage": "s" * 500_000}),
        ("/api/models?stage=" + "q" * 50_000, None),  # a domain error's message
    ],
)
def test_no_422_echoes_a_large_input_anywhere(api, url, body):
    r = api.post(url, json=body) if body is not None else api.get(url)
    assert r.status_code == 422
    assert len(r.content) < 3 * MESSAGE_CHARS


def test_a_message_cut_in_its_middle_keeps_what_would_be_valid(api):
    r = api.get("/api/models", params={"stage": "q" * 50_000})
    detail = r.json()["detail"]
    assert detail.startswith("unknown model stage 'qqq") and "characters cut" in detail
    assert detail.endswith("valid stages: TRAINING, EVALUATION, STAGING, PRODUCTION, RETIRED")
    assert brief_message("abcdefghij", limit=4) == "ab ... (6 characters cut) ... ij"
    assert brief_message("short") == "short"


def test_a_422_keeps_a_short_input_as_it_was(api):
    r = api.post("/api/jobs", json={"type": "sleep", "priority": "high"})
    assert r.status_code == 422 and r.json()["detail"][0]["input"] == "high"
    r = api.get("/api/jobs", params={"limit": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["ctx"] == {"ge": 1}


def test_a_422_over_a_non_finite_number_is_json(api):
    r = api.post(
        "/api/jobs",
        content=b'{"type": "sleep", "priority": NaN}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["detail"][0]["input"] == "nan"


def test_brief_cuts_input_and_context():
    assert brief({"a": [1, 2]}) == {"a": [1, 2]}
    assert brief("y" * 1000, limit=10) == "yyyyyyyyyy... (1000 characters)"
    assert brief(list(range(1000)), limit=5) == "[0, 1... (4890 characters)"
    assert brief(float("inf")) == "inf"
    assert brief(ValueError("no good")) == "no good"
    (error,) = brief_errors(
        [{"loc": ("body", "w" * 50, 0), "input": "z" * 50, "ctx": {"error": "q" * 50}, "msg": "m"}], limit=4
    )
    assert error == {
        "loc": ["body", "wwww... (50 characters)", 0],
        "input": "zzzz... (50 characters)",
        "ctx": {"error": "qqqq... (50 characters)"},
        "msg": "m",
    }


def test_a_game_id_beyond_any_row_is_404(api):
    for kind in ("arena", "selfplay"):
        r = api.get(f"/api/games/{kind}:{2**80}")
        assert r.status_code == 404 and "no game" in r.json()["detail"]


def test_links_name_real_operations_and_their_parameters():
    schema = create_app().openapi()
    operations = {
        op["operationId"]: op
        for path in schema["paths"].values()
        for op in path.values()
        if "operationId" in op
    }
    links = {
        (path, method, name): link
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        for response in op["responses"].values()
        for name, link in response.get("links", {}).items()
    }
    sources = {(path, method) for path, method, _ in links}
    assert {("/api/jobs", "post"), ("/api/jobs", "get"), ("/api/models", "get")} <= sources
    targets = {link["operationId"] for link in links.values()}
    assert {
        "get_job",
        "cancel_job",
        "get_model",
        "model_history",
        "training_curves",
        "promote_model",
    } <= targets
    for link in links.values():
        target = operations[link["operationId"]]
        names = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
        assert set(link["parameters"]) == names
