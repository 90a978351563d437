"""The dashboard's JSON endpoints and page routes in memory (ASGI) over a seeded history: bodies, 4xx, token."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.jobs import JobCreate
from app.evaluation import store as eval_store
from app.evaluation.config import EvalConfig
from app.evaluation.ratings import fit_ratings
from app.p2p import leased
from app.p2p import store as job_store
from app.registry import ModelLifecycle
from app.web.dashboard import loop
from app.web.main import create_app
from app.web.routes.dashboard import STATIC_DIR
from tests.web.dashboard.seed_history import KEY, OTHER_KEY, STRENGTH, Arena, evaluate, seed_history

TOKEN = "api-test-token"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One seeded history shared by the read-only tests of this module."""
    settings = Settings(home=tmp_path_factory.mktemp("seeded") / "home")
    return settings, seed_history(settings)


@pytest.fixture
def api(seeded):
    with TestClient(create_app(seeded[0]), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def fresh(home):
    """A history of its own, for tests that change it."""
    settings = Settings(home=home)
    history = seed_history(settings)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield settings, history, client


def test_configs_summarise_every_config_key(api, seeded):
    _, h = seeded
    body = api.get("/api/configs").json()
    assert [c["config_key"] for c in body["data"]] == [OTHER_KEY, KEY] and body["count"] == 2
    hex6 = body["data"][1]
    assert hex6["production"] == h.production
    assert hex6["production_rating"]["name"] == h.production
    assert hex6["stages"] == {"TRAINING": 1, "PRODUCTION": 1, "RETIRED": 3}
    assert hex6["jobs"] == {"succeeded": 1, "failed": 1}
    assert hex6["rated_games"] == eval_store.count_games(seeded[0], KEY) > 0
    assert hex6["recommendations"] == 1  # the retry; the applied one is no longer open
    other = body["data"][0]
    assert other["production"] == f"{OTHER_KEY}_v1" and other["production_rating"] is None


def test_config_detail_rates_models_by_generation_against_anchors(api, seeded):
    settings, h = seeded
    d = api.get(f"/api/configs/{KEY}").json()
    assert [m["model_id"] for m in d["models"]] == h.models
    assert [m["model_id"] for m in d["models"] if m["rating"]] == h.rated_models
    by_id = {m["model_id"]: m for m in d["models"]}
    v5 = by_id[h.models[-1]]
    assert v5["rating"] is None and v5["stage"] == "TRAINING" and v5["allowed"] == ["EVALUATION", "RETIRED"]
    assert by_id[h.production]["allowed"] == ["RETIRED"]
    for m in d["models"]:
        r = m["rating"]
        if r is not None:
            assert r["ci_low"] < r["elo"] < r["ci_high"] and r["games"] > 0
    # The same numbers as a fit over the stored games; anchors weakest first with random fixed at 0.
    table = fit_ratings(eval_store.game_results(settings, KEY))
    assert by_id[h.production]["rating"]["elo"] == pytest.approx(table.get(h.production).elo)
    assert [a["name"] for a in d["anchors"]] == ["random", "rollout_mcts_50", "rollout_mcts_200"]
    assert d["anchors"][0]["elo"] == 0 and d["anchor"] == "random"
    assert d["others"] == [] and d["unrated"] == []
    # The fitted order follows the strengths the games were sampled from.
    elos = {m: by_id[m]["rating"]["elo"] for m in h.rated_models}
    assert sorted(elos, key=elos.get) == sorted(h.rated_models, key=STRENGTH.get)


def test_config_detail_of_a_config_key_without_games(api):
    d = api.get(f"/api/configs/{OTHER_KEY}").json()
    assert [m["stage"] for m in d["models"]] == ["PRODUCTION", "EVALUATION"]
    assert d["anchors"] == [] and d["rated_games"] == 0 and all(m["rating"] is None for m in d["models"])


def test_rating_fits_are_reused_until_a_game_is_added(seeded):
    settings, _ = seeded
    first = loop.rating_table(settings, KEY)
    assert loop.rating_table(settings, KEY) is first
    arena = Arena(settings, seed=3)
    arena.store(arena.pairs("random", "rollout_mcts_50", 1), "match", None)
    second = loop.rating_table(settings, KEY)
    assert second is not first and second.games == first.games + 2


def test_gate_decisions_carry_the_sprt_evidence_and_the_stage_changes(api, seeded):
    _, h = seeded
    body = api.get(f"/api/configs/{KEY}/decisions").json()
    assert body["count"] == 4
    decisions = body["data"]
    assert [d["evaluation_id"] for d in decisions] == h.evaluations[::-1]  # newest first
    for d in decisions:
        assert d["status"] == "finished" and d["llr_path"] and d["llr_path"][-1] == pytest.approx(d["llr"])
        assert d["wins"] + d["draws"] + d["losses"] == d["games"] and sum(d["pentanomial"]) * 2 == d["games"]
        assert d["elo0"] == 0 and d["elo1"] == 30 and d["llr_lower"] < 0 < d["llr_upper"]
    rejected, accepted = decisions[0], decisions[1]
    assert rejected["decision"] == "reject" and rejected["llr"] <= rejected["llr_lower"]
    assert [(c["from_stage"], c["to_stage"]) for c in rejected["stage_changes"]] == [
        ("EVALUATION", "RETIRED")
    ]
    assert accepted["decision"] == "accept" and accepted["llr"] >= accepted["llr_upper"]
    assert [c["to_stage"] for c in accepted["stage_changes"]] == ["STAGING", "PRODUCTION"]

    one = api.get(f"/api/configs/{KEY}/decisions", params={"candidate": h.production}).json()
    assert one["count"] == 1 and one["data"][0]["candidate"] == h.production
    page = api.get(f"/api/configs/{KEY}/decisions", params={"limit": 1, "offset": 1}).json()
    assert page["count"] == 4 and [d["evaluation_id"] for d in page["data"]] == [h.evaluations[-2]]


def test_ad_hoc_evaluations_are_kept_apart_from_promotion_decisions(seeded, api):
    settings, h = seeded
    asked = EvalConfig(board_type="hex6", candidate=h.production, opponent="rollout_mcts_50")
    evaluation = eval_store.create_evaluation(
        settings,
        config_key=KEY,
        candidate=h.production,
        opponent="rollout_mcts_50",
        config=asked.model_dump(mode="json"),
    )
    eval_store.finish_evaluation(settings, evaluation, decision="inconclusive", result={"games": 2})

    gates = api.get(f"/api/configs/{KEY}/decisions", params={"purpose": "gate"}).json()
    assert gates["count"] == 4 and {d["purpose"] for d in gates["data"]} == {"gate"}
    assert evaluation not in [d["evaluation_id"] for d in gates["data"]]
    adhoc = api.get(f"/api/configs/{KEY}/decisions", params={"purpose": "adhoc"}).json()
    assert [(d["evaluation_id"], d["purpose"]) for d in adhoc["data"]] == [(evaluation, "adhoc")]
    assert api.get(f"/api/configs/{KEY}/decisions").json()["count"] == 5
    bad = api.get(f"/api/configs/{KEY}/decisions", params={"purpose": "promotion"})
    assert bad.status_code == 422 and "gate" in bad.text


def test_gate_decisions_hold_strict_json_when_a_result_has_infinities(seeded, api):
    settings, _ = seeded
    evaluation = eval_store.create_evaluation(
        settings, config_key=OTHER_KEY, candidate=f"{OTHER_KEY}_v2", opponent="random", config={}
    )
    result = {"games": 3, "score": 1.0, "elo_delta": math.inf, "elo_ci_low": 10.0, "elo_ci_high": math.inf}
    eval_store.finish_evaluation(settings, evaluation, decision="inconclusive", result=result)
    r = api.get(f"/api/configs/{OTHER_KEY}/decisions")
    assert r.status_code == 200, r.text
    (d,) = r.json()["data"]
    assert (
        d["elo_delta"] is None and d["elo_ci_high"] is None and d["elo_ci_low"] == 10 and d["llr_path"] == []
    )


def test_training_curves_from_the_model_metadata(api, seeded):
    _, h = seeded
    t = api.get(f"/api/models/{h.production}/training").json()
    assert t["source"] == "metadata" and len(t["history"]) == 8
    assert {
        "epoch",
        "train/policy_loss",
        "val/policy_loss",
        "val/value_loss",
        "train/policy_accuracy",
    } <= set(t["history"][0])
    assert (
        t["hyperparameters"]["learning_rate"] == 2e-3
        and t["hyperparameters"]["parent_model_id"] == "hex6_2p_v2"
    )
    assert len(t["shards"]) == 4 and t["positions"] == {"train": 108_000, "val": 12_000}
    # The pipeline records the replay window's size as one number.
    ModelLifecycle(seeded[0]).update_model(h.models[0], metadata={"positions": 40_000})
    assert api.get(f"/api/models/{h.models[0]}/training").json()["positions"] == {"total": 40_000}
    empty = api.get(f"/api/models/{h.models[-1]}/training").json()
    assert empty["source"] is None and empty["history"] == []


def test_training_curves_from_the_training_job_when_the_model_has_none(home):
    settings = Settings(home=home)
    ModelLifecycle(settings).register_model(f"{KEY}_v1", training_config={"epochs": 2})
    history = [{"epoch": 1.0, "train/policy_loss": 2.0}, {"epoch": 2.0, "train/policy_loss": 1.5}]
    job = job_store.submit(settings, JobCreate(type="training", config={"board_type": "hex6", "epochs": 2}))
    (claim,) = job_store.claim(settings, node_id="n", executor="local", limit=1)
    result = {
        "model_id": f"{KEY}_v1",
        "history": history,
        "shards": ["s1"],
        "train_positions": 90,
        "games": 4,
    }
    leased.record_success(settings, job.id, claim.lease, result)
    t = loop.training_curves(settings, f"{KEY}_v1")
    assert t.source == "job" and t.job_id == job.id and t.history == history
    assert t.shards == ["s1"] and t.positions == {"train": 90} and t.games == 4
    assert t.hyperparameters == {"epochs": 2}  # the model's own record wins over the job's config


def test_applied_recommendations(api, seeded):
    _, h = seeded
    body = api.get("/api/feedback/applied", params={"config_key": KEY}).json()
    assert body["count"] == 1
    (applied,) = body["data"]
    assert applied["identity"] == h.applied_recommendation and applied["rule"] == "weak_win_rate"
    assert applied["recommendation"]["action"] == "INCREASE_SEARCH" and applied["recommendation"]["reason"]
    other = api.get("/api/feedback/applied", params={"config_key": OTHER_KEY}).json()
    assert (other["data"], other["count"]) == ([], 0)
    assert {r["rule"] for r in other["rules"]} >= {"loss_plateau", "lr_restore"}
    assert not any(r["applied"] or r["backed_off"] for r in other["rules"])


BAD_READS = [
    ("/api/configs/Hex6_2p", 422),
    ("/api/configs/hex6", 422),
    ("/api/configs/nosuchgame_2p", 422),
    ("/api/configs/hex6_3p", 422),
    (f"/api/configs/{KEY}/decisions?limit=0", 422),
    (f"/api/configs/{KEY}/decisions?limit=201", 422),
    (f"/api/configs/{KEY}/decisions?offset=-1", 422),
    (f"/api/configs/{KEY}/decisions?candidate=connect4_3p_v1", 422),
    (f"/api/configs/{KEY}/decisions?candidate=nobody", 422),
    ("/api/models/hex6_2p_v99/training", 404),
    ("/api/models/hex6/training", 422),
    ("/api/feedback/applied?config_key=bad", 422),
    ("/api/feedback/applied?limit=0", 422),
]


@pytest.mark.parametrize(("url", "code"), BAD_READS)
def test_bad_reads_are_4xx_with_a_message(api, url, code):
    r = api.get(url)
    assert r.status_code == code, r.text
    assert r.json()["detail"]


def test_promote_attaches_the_latest_evaluation_as_evidence(fresh):
    settings, h, api = fresh
    v5 = h.models[-1]
    STRENGTH[v5] = 520.0
    try:
        r = api.post(f"/api/models/{v5}/promote", json={"stage": "evaluation"})
        assert r.status_code == 200, r.text
        assert r.json() == {
            "model_id": v5, "from_stage": "TRAINING", "to_stage": "EVALUATION", "superseded": None,
            "evaluation_id": None,
        }  # fmt: skip
        result = evaluate(Arena(settings, seed=5), v5, h.production, calibrate=False)
    finally:
        del STRENGTH[v5]
    r = api.post(f"/api/models/{v5}/promote", json={"stage": "PRODUCTION", "reason": "looked good"})
    assert r.status_code == 200, r.text
    assert r.json()["superseded"] == h.production and r.json()["evaluation_id"] == result.evaluation_id
    last = ModelLifecycle(settings).history(v5)[-1]
    assert last.reason == "looked good" and last.to_stage == "PRODUCTION"
    assert last.evidence["source"] == "dashboard" and last.evidence["evaluation_id"] == result.evaluation_id
    assert last.evidence["sprt"] == result.decision and last.evidence["games"] == result.games
    assert ModelLifecycle(settings).get_model(h.production).stage == "RETIRED"
    # The gate decision now shows the promotion made on its evidence.
    decision = api.get(f"/api/configs/{KEY}/decisions", params={"candidate": v5}).json()["data"][0]
    assert [c["to_stage"] for c in decision["stage_changes"]] == ["PRODUCTION"]


def test_bad_promotions_are_refused_and_change_nothing(fresh):
    settings, h, api = fresh
    v5 = h.models[-1]
    cases = [
        (v5, {"stage": "PRODUCTION"}, 409, "cannot move from TRAINING to PRODUCTION"),
        (h.models[0], {"stage": "STAGING"}, 409, "cannot move from RETIRED"),
        (v5, {"stage": "LIVE"}, 422, "unknown model stage"),
        (v5, {}, 422, "stage"),
        (v5, {"stage": "STAGING", "reason": "x" * 501}, 422, "reason"),
        ("hex6_2p_v99", {"stage": "STAGING"}, 404, "no model 'hex6_2p_v99'"),
        ("not-a-model", {"stage": "STAGING"}, 422, "model_id"),
        (v5, {"stage": "STAGING", "elo_delta": 45}, 422, "elo_delta"),
    ]
    for model_id, body, code, text in cases:
        r = api.post(f"/api/models/{model_id}/promote", json=body)
        assert r.status_code == code, (model_id, body, r.text)
        assert text in str(r.json()["detail"])
    assert [m.stage.value for m in ModelLifecycle(settings).list_models(config_key=KEY)] == [
        "RETIRED", "RETIRED", "PRODUCTION", "RETIRED", "TRAINING",
    ]  # fmt: skip


def test_rollback(fresh):
    settings, h, api = fresh
    assert api.get(f"/api/configs/{KEY}").json()["rollback_to"] == "hex6_2p_v2"  # what the dialog names
    r = api.post(f"/api/configs/{KEY}/rollback", json={"reason": "v3 regressed"})
    assert r.status_code == 200, r.text
    assert r.json() == {"config_key": KEY, "restored": "hex6_2p_v2", "retired": h.production}
    assert ModelLifecycle(settings).get_production(KEY).model_id == "hex6_2p_v2"
    # v3 left by a rollback is never a target: the next one goes further back, and then there is none.
    assert api.get(f"/api/configs/{KEY}").json()["rollback_to"] == "hex6_2p_v1"
    assert (
        api.post(f"/api/configs/{KEY}/rollback", json={"reason": "v2 too"}).json()["restored"] == "hex6_2p_v1"
    )
    assert api.get(f"/api/configs/{KEY}").json()["rollback_to"] is None
    assert api.post(f"/api/configs/{KEY}/rollback", json={}).status_code == 422
    assert api.post(f"/api/configs/{KEY}/rollback", json={"reason": ""}).status_code == 422
    assert api.post("/api/configs/bad/rollback", json={"reason": "x"}).status_code == 422
    r = api.post(f"/api/configs/{OTHER_KEY}/rollback", json={"reason": "x"})
    assert r.status_code == 404 and "no earlier production model" in r.json()["detail"]


def test_the_page_is_served_without_the_token_and_the_data_is_not(home):
    settings = Settings(home=home, token=TOKEN)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/static/main.js">' in page.text
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
        modules = sorted(p.name for p in STATIC_DIR.glob("*.js"))
        assert {"main.js", "api.js", "jobs.js"} <= set(modules)
        for name, kind in [*((m, "text/javascript") for m in modules), ("app.css", "text/css")]:
            r = client.get(f"/static/{name}")
            assert r.status_code == 200 and r.headers["content-type"].startswith(kind) and r.content
        for name in ("index.html", "nope.js", "..%2Fdashboard%2Floop.py", "%2e%2e"):
            assert client.get(f"/static/{name}").status_code == 404
        # Every URL the page calls lives on this node: no external host in the page or its assets.
        for name in ("/", "/static/app.css", *(f"/static/{m}" for m in modules)):
            text = client.get(name).text
            assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
        for method, url, body in (
            ("GET", "/api/configs", None),
            ("GET", f"/api/configs/{KEY}", None),
            ("POST", f"/api/models/{KEY}_v1/promote", {"stage": "STAGING"}),
            ("POST", f"/api/configs/{KEY}/rollback", {"reason": "x"}),
        ):
            r = client.request(method, url, json=body)
            assert r.status_code == 401 and "token" in r.json()["detail"], (url, r.text)
            r = client.request(method, url, json=body, headers={"Authorization": "Bearer wrong"})
            assert r.status_code == 401 and "refused" in r.json()["detail"]
        ok = client.get("/api/configs", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and ok.json() == {"data": [], "count": 0}
