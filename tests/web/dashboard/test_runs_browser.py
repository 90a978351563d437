"""The runs page in headless Chromium against a real node (skipped where chromium is not installed, as the other
browser tests are): two runs listed, both production lines on one Elo chart, and the settings diff between them."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from app.core.config import Settings
from tests.conftest import require
from tests.p2p.nodeproc import NodeProcess
from tests.web.dashboard.seed_history import KEY
from tests.web.dashboard.seed_runs import FORK, WIDE, seed_runs
from tests.web.dashboard.test_browser import CHROMIUM, TOKEN, Node, browser, page, sign_in  # noqa: F401 - fixtures


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    require(os.path.exists(CHROMIUM), "Debian chromium (apt-get install chromium)")
    home = tmp_path_factory.mktemp("runs-dashboard") / "home"
    seeded = seed_runs(Settings(home=home))
    proc = NodeProcess(home, slots=1, token=TOKEN).start()
    try:
        yield Node(proc, home, seeded.history)
    finally:
        proc.stop()


def test_the_runs_page_shows_two_runs_on_one_chart_and_their_settings_diff(node, page):  # noqa: F811
    sign_in(page, f"{node.url}/#/config/{KEY}")
    page.click("#runs-link")
    page.wait_for_selector("#runs-chart circle.run-point")
    expect(page.locator("#runs-table tbody tr")).to_have_count(2)
    rows = page.locator("#runs-table tbody tr")
    assert rows.nth(0).get_attribute("data-run") == "main" and rows.nth(1).get_attribute("data-run") == "wide"
    assert FORK in rows.nth(1).inner_text() and WIDE[1] in rows.nth(1).inner_text()
    # One chart, one line per run; the fork's line starts at its (rated) fork point.
    assert page.locator("#runs-chart svg.chart").count() == 1
    assert page.locator("#runs-chart g.run-line").count() == 2
    wide = page.locator("#runs-chart g.run-line[data-run='wide'] circle.run-point")
    assert [wide.nth(i).get_attribute("data-model") for i in range(wide.count())] == list(WIDE)
    main = page.locator("#runs-chart g.run-line[data-run='main'] circle.run-point")
    assert main.count() >= 1 and node.history.production in [
        main.nth(i).get_attribute("data-model") for i in range(main.count())
    ]
    assert page.locator("#runs-chart .anchor-line").count() == 3
    # The diff of main against wide: only what differs.
    expect(page.locator("#runs-diff tbody tr")).to_have_count(3)
    diff = page.locator("#runs-diff").inner_text()
    assert "gate_max_games" in diff and "cycle.num_simulations" in diff and FORK in diff
    assert "anchors_games" not in diff
    page.select_option("#diff-b", "main")
    expect(page.locator("#runs-diff")).to_contain_text("main and main have the same settings")
    node.screenshot(page, "runs")
