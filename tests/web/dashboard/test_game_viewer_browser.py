"""The dashboard's game viewer in headless Chromium (skipped where chromium is not installed, as the other
browser tests are): the games list opens a game, and the controls step through it move by move."""

import re

from playwright.sync_api import expect

from tests.web.dashboard.test_browser import browser, node, page, sign_in  # noqa: F401 - module fixtures


def test_games_list_opens_a_game_and_steps_through_it(node, page):  # noqa: F811
    games = node.http.get("/api/games", params={"limit": 1}).json()["data"]
    assert games, "the seeded history stores arena games"
    game_id = games[0]["game_id"]
    sign_in(page, f"{node.url}/#/games")
    page.click(f"#games tr:has-text('{game_id}')")
    expect(page.locator(".game-ply")).to_contain_text("move 0 of")
    first = page.locator("pre.game-board").inner_text()
    page.click("button[aria-label='next']")
    expect(page.locator(".game-ply")).to_contain_text("move 1 of")
    assert page.locator("pre.game-board").inner_text() != first
    page.keyboard.press("ArrowLeft")
    expect(page.locator(".game-ply")).to_contain_text("move 0 of")
    page.click("button[aria-label='last']")
    # The seeded games are synthetic and may break the rules part-way: the viewer then ends the record there.
    expect(page.locator(".game-ply")).to_contain_text(re.compile("game over|end of record"))
    node.screenshot(page, "game-viewer")
