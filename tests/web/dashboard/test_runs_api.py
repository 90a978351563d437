"""``GET /api/configs/{key}/runs`` and ``.../runs/diff`` in memory over two seeded runs: bodies and the 4xx."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.web.main import create_app
from tests.web.dashboard.seed_history import KEY, OTHER_KEY
from tests.web.dashboard.seed_runs import FORK, WIDE, seed_runs


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    settings = Settings(home=tmp_path_factory.mktemp("runs") / "home")
    seeded = seed_runs(settings)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, seeded


def test_runs_are_listed_with_their_production_lines_on_one_scale(api):
    client, seeded = api
    body = client.get(f"/api/configs/{KEY}/runs").json()
    assert body["count"] == 2 and [r["run"] for r in body["data"]] == ["main", "wide"]
    main, wide = body["data"]
    assert main["fork_model_id"] is None and main["production"] == seeded.history.production
    assert (wide["fork_model_id"], wide["production"], wide["models"]) == (FORK, WIDE[1], 2)
    assert [g["model_id"] for g in wide["generations"]] == list(WIDE)
    assert [g["version"] for g in wide["generations"]] == [6, 7]
    assert all(g["rating"]["games"] > 0 for g in wide["generations"])
    assert FORK not in [g["model_id"] for g in wide["generations"]]
    assert seeded.history.production in [g["model_id"] for g in main["generations"]]
    # One anchored fit: the stronger fork model rates above main's production.
    assert wide["generations"][1]["rating"]["elo"] > main["generations"][-1]["rating"]["elo"]
    assert {a["name"] for a in body["anchors"]} == {"random", "rollout_mcts_50", "rollout_mcts_200"}
    assert client.get(f"/api/configs/{OTHER_KEY}/runs").json()["data"][0]["run"] == "main"


def test_the_diff_names_only_what_differs(api):
    client, _ = api
    body = client.get(f"/api/configs/{KEY}/runs/diff", params={"a": "main", "b": "wide"}).json()
    assert [(d["key"], d["b"]) for d in body["data"]] == [
        ("fork", FORK), ("gate_max_games", 300), ("cycle.num_simulations", 200)
    ]  # fmt: skip
    assert client.get(f"/api/configs/{KEY}/runs/diff", params={"a": "wide", "b": "wide"}).json()["data"] == []


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        (f"/api/configs/{KEY}/runs/diff", {"a": "main", "b": "tall"}, 404, "no run 'tall' of hex6_2p; runs of hex6_2p: main, wide"),
        (f"/api/configs/{KEY}/runs/diff", {"a": "main", "b": "Bad_Run"}, 422, "String should match pattern"),
        (f"/api/configs/{KEY}/runs/diff", {"a": "main"}, 422, "Field required"),
        ("/api/configs/hex6/runs", {}, 422, "String should match pattern"),
    ],
)  # fmt: skip
def test_bad_requests_are_4xx_naming_what_was_wrong(api, path, params, status, says):
    client, _ = api
    r = client.get(path, params=params)
    assert r.status_code == status, r.text
    assert says in r.text
