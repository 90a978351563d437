"""The dashboard in headless Chromium against a real node (subprocess, token set) over a seeded history.

Screenshots of every page are saved to ``<home>/screenshots/`` of the node's data directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from app.core.config import Settings
from tests.conftest import require
from tests.p2p.nodeproc import NodeProcess
from tests.web.dashboard.seed_history import OTHER_KEY, SeededHistory, seed_history

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "dashboard-test-token"
WAIT_MS = 20_000


class Node:
    def __init__(self, proc: NodeProcess, home: Path, history: SeededHistory):
        self.proc, self.home, self.history = proc, home, history
        self.url = proc.url
        self.http = httpx.Client(base_url=proc.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)

    def job(self, job_id: str) -> dict:
        r = self.http.get(f"/api/jobs/{job_id}")
        r.raise_for_status()
        return r.json()

    def screenshot(self, page, name: str) -> Path:
        path = self.home / "screenshots" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    require(os.path.exists(CHROMIUM), "Debian chromium (apt-get install chromium)")
    home = tmp_path_factory.mktemp("dashboard") / "home"
    history = seed_history(Settings(home=home))
    proc = NodeProcess(home, slots=1, token=TOKEN).start()
    try:
        yield Node(proc, home, history)
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def browser(node):
    from playwright.sync_api import sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # Console errors include Content-Security-Policy violations; the failed requests the tests provoke (401,
    # a stopped node) are expected there.
    pg.on(
        "console",
        lambda m: (
            m.type == "error" and not m.text.startswith("Failed to load resource") and errors.append(m.text)
        ),
    )
    yield pg
    context.close()
    assert not errors, f"errors on the page: {errors}"


def sign_in(page, url: str) -> None:
    """Open the page; it meets a 401 and asks for the token, which we give it."""
    page.goto(url)
    page.wait_for_selector("#token-banner:not([hidden])")
    page.fill("#token-input", TOKEN)
    page.click("#token-save")
    expect(page.locator("#live")).to_have_attribute("data-state", "ok")


def test_overview_config_and_model_pages(node, page):
    h = node.history
    sign_in(page, f"{node.url}/#/")
    page.wait_for_selector(f".config-card[data-config='{h.config_key}']")
    assert page.locator(".config-card").count() == 2
    card = page.locator(f".config-card[data-config='{h.config_key}']")
    assert h.production in card.inner_text()
    node.screenshot(page, "overview")

    page.click(f".config-card[data-config='{h.config_key}']")
    page.wait_for_selector("#elo-chart circle.elo-point")
    detail = node.http.get(f"/api/configs/{h.config_key}").json()
    rated = [m["model_id"] for m in detail["models"] if m["rating"]]
    assert rated == h.rated_models
    points = page.locator("#elo-chart circle.elo-point")
    assert points.count() == len(h.rated_models) == 4
    assert [points.nth(i).get_attribute("data-model") for i in range(points.count())] == rated
    assert page.locator("#elo-chart circle.elo-point.production").get_attribute("data-model") == h.production
    assert page.locator("#elo-chart .anchor-line").count() == len(detail["anchors"]) == 3
    # Every model is listed with its stage; the unrated one too.
    table = page.locator("#models-table").inner_text()
    for model in h.models:
        assert model in table
    assert "TRAINING" in table and "PRODUCTION" in table and "RETIRED" in table
    # Gate decisions with an LLR sparkline each, the stage change they led to, and the feedback feed.
    assert page.locator("li.decision").count() == 4
    assert page.locator("#gate-decisions li.decision").count() == 4
    assert "No ad-hoc evaluations" in page.locator("#adhoc-evaluations").inner_text()
    assert page.locator("li.decision svg.spark path.llr-line").count() == 4
    assert "reject" in page.locator(f"li.decision[data-evaluation='{h.evaluations[-1]}']").inner_text()
    assert page.locator("#recommendations li").count() >= 1
    assert "retry" in page.locator("#recommendations").inner_text().lower()
    assert page.locator(f"#applied li[data-identity='{h.applied_recommendation}']").count() == 1
    assert "pipeline error" in page.locator("#events").inner_text().lower()
    node.screenshot(page, "config")

    page.click(f"#elo-chart circle.elo-point[data-model='{h.production}']")
    page.wait_for_selector("#training-curves svg.chart")
    assert page.locator("h1").inner_text() == h.production
    lineage = page.locator("#lineage").inner_text()
    assert lineage.split() == ["hex6_2p_v1", "→", "hex6_2p_v2", "→", h.production]
    assert page.locator("#children").inner_text() == "hex6_2p_v4, hex6_2p_v5"
    assert page.locator("#training-curves svg.chart").count() == 3
    assert page.locator("#training-curves path.series-train").count() == 3
    assert page.locator("#training-curves path.series-val").count() == 3
    assert "learning_rate" in page.locator("#hyperparameters").inner_text()
    assert page.locator("#stage-history li").count() == 4  # registered, evaluation, staging, production
    assert page.locator("li.decision .llr-full svg.chart path.llr-line").count() == 1
    assert page.locator("[data-promote='RETIRED']").count() == 1
    node.screenshot(page, "model")


def test_jobs_page_shows_live_progress_and_errors(node, page):
    h = node.history
    sign_in(page, f"{node.url}/#/jobs")
    row = f"#jobs-table tr[data-job-id='{h.running_job}']"
    page.wait_for_selector(f"{row} .badge.state-running")
    label = page.locator(f"{row} .progress-label")
    first = label.inner_text()
    expect(label).not_to_have_text(first)
    assert node.job(h.running_job)["progress"] > 0
    # Polls update the rows in place: the page does not grow while it watches a running job.
    nodes = page.evaluate("document.getElementsByTagName('*').length")
    second = label.inner_text()
    expect(label).not_to_have_text(second)
    assert page.evaluate("document.getElementsByTagName('*').length") == nodes

    failed = f"#jobs-table tr[data-job-id='{h.failed_job}']"
    page.click(f"{failed} td:nth-child(3)")
    page.wait_for_selector(f"tr[data-detail-for='{h.failed_job}'] pre.error")
    assert (
        "CUDA out of memory" in page.locator(f"tr[data-detail-for='{h.failed_job}'] pre.error").inner_text()
    )
    node.screenshot(page, "jobs")

    page.select_option("#filter-state", "failed")
    expect(page.locator("#jobs-table tr[data-job-id]")).to_have_count(1)
    assert page.locator(failed).count() == 1


def test_actions_need_the_token_and_confirmation(node, page):
    h = node.history
    page.goto(f"{node.url}/#/jobs")
    banner = page.locator("#token-banner")
    banner.wait_for(state="visible")
    assert "401" in banner.inner_text()
    page.fill("#token-input", TOKEN)
    page.click("#token-save")
    row = f"#jobs-table tr[data-job-id='{h.running_job}']"
    page.wait_for_selector(f"{row} .badge.state-running")

    # Declining the confirmation changes nothing.
    page.click(f"{row} button.cancel")
    page.wait_for_selector("#confirm[open]")
    page.click("#confirm-cancel")
    assert node.job(h.running_job)["state"] == "running"

    # Without the token the node refuses the cancel, and the page says so.
    page.click("#token-button")
    page.click("#token-forget")
    banner.wait_for(state="visible")
    page.click(f"{row} button.cancel")
    page.click("#confirm-ok")
    refused = page.locator(".toast.error").last
    refused.wait_for()
    assert "401" in refused.inner_text()
    assert node.job(h.running_job)["state"] == "running"
    node.screenshot(page, "token-refused")

    # With the token back, the same action cancels the job.
    page.fill("#token-input", TOKEN)
    page.click("#token-save")
    expect(page.locator("#live")).to_have_attribute("data-state", "ok")
    page.click(f"{row} button.cancel")
    page.click("#confirm-ok")
    page.wait_for_selector(f"{row} .badge.state-cancelled")
    assert node.job(h.running_job)["state"] == "cancelled"


def test_rollback_and_promotion_from_the_page(node, page):
    h = node.history
    sign_in(page, f"{node.url}/#/config/{h.config_key}")
    page.wait_for_selector("#rollback")
    page.click("#rollback")
    # The dialog names the model it restores and the one it retires.
    expect(page.locator("#confirm-title")).to_have_text(f"Roll back {h.config_key} to hex6_2p_v2?")
    expect(page.locator("#confirm-body")).to_have_text(
        f"hex6_2p_v2 returns to PRODUCTION; {h.production} is retired."
    )
    page.fill("#confirm-reason", "v3 regressed in the browser test")
    page.click("#confirm-ok")
    page.wait_for_selector("#elo-chart circle.elo-point.production[data-model='hex6_2p_v2']")
    production = node.http.get(
        "/api/models", params={"config_key": h.config_key, "stage": "PRODUCTION"}
    ).json()
    assert [m["model_id"] for m in production["data"]] == ["hex6_2p_v2"]
    history = node.http.get("/api/models/hex6_2p_v2/history").json()
    assert history[-1]["kind"] == "rollback" and history[-1]["reason"] == "v3 regressed in the browser test"

    page.goto(f"{node.url}/#/model/{h.models[-1]}")
    page.wait_for_selector("[data-promote='EVALUATION']")
    page.click("[data-promote='EVALUATION']")
    page.click("#confirm-ok")
    page.wait_for_selector("[data-promote='STAGING']")
    assert node.http.get(f"/api/models/{h.models[-1]}").json()["model"]["stage"] == "EVALUATION"


def test_rollback_is_offered_only_with_a_model_to_restore(node, page):
    sign_in(page, f"{node.url}/#/config/{OTHER_KEY}")
    button = page.locator("#rollback")
    expect(button).to_be_disabled()
    assert "No earlier production model" in button.get_attribute("title")


def test_the_page_backs_off_while_the_node_is_down(node, page):
    sign_in(page, f"{node.url}/#/config/{node.history.config_key}")
    page.wait_for_selector("#elo-chart circle.elo-point")
    # Every text the status line shows is kept in the page: on a busy machine a 4-s state can come and go
    # between two looks of the test, and the sequence is what is being tested.
    page.evaluate(
        """() => { window.seenLive = []; const el = document.querySelector('#live-text');
        new MutationObserver(() => window.seenLive.push(el.textContent))
            .observe(el, {childList: true, characterData: true, subtree: true}); }"""
    )
    node.proc.stop()
    expect(page.locator("#live")).to_have_attribute("data-state", "error")
    page.wait_for_function("() => window.seenLive.some(t => t.includes('retrying in 8 s'))", timeout=30_000)
    retries = [t for t in page.evaluate("() => window.seenLive") if "retrying in" in t]
    assert "unreachable; retrying in 4 s" in retries[0]
    assert "retrying in 8 s" in retries[1]  # the next failure waits twice as long
    # What was last seen stays on the page.
    assert page.locator("#elo-chart circle.elo-point").count() == len(node.history.rated_models)
