// zeroloop dashboard: a small static front end over the node's JSON API, as ES modules served as they are (no
// build step). This module routes (#/, #/config/KEY, #/runs/KEY, #/model/ID, #/jobs, #/games, #/game/ID) to one
// view per module, draws the nav and starts the poll loop.
//
// One poll loop refreshes the page that is open (every 2 s, backing off on errors, slower in a hidden tab).
// Sections are re-rendered only when their data changed, and every list is a bounded page, so a page left
// open for a day keeps a constant amount of DOM. Text from the API is only ever set as text, never as HTML.

import { $, h } from "./dom.js";
import { ApiError, api, shared } from "./api.js";
import { configOf } from "./format.js";
import { poller, setupToken } from "./live.js";
import { ConfigView } from "./config.js";
import { GameView, GamesView } from "./games.js";
import { JobsView } from "./jobs.js";
import { ModelView } from "./model.js";
import { OverviewView } from "./overview.js";
import { RunsView } from "./runs.js";

function renderNav(route) {
  const nav = $("nav");
  const here = location.hash || "#/";
  const links = [["#/", "Overview"]];
  for (const c of shared.configs) links.push([`#/config/${c.config_key}`, c.config_key]);
  const items = links.map(([href, text]) =>
    h("a", { href, class: here === href || (route.key && href.endsWith("/" + route.key)) ? "active" : null }, text),
  );
  items.push(
    h("span", { class: "sep" }),
    h("a", { href: "#/jobs", class: route.page === "jobs" ? "active" : null }, "Jobs"),
    h("a", { href: "#/games", class: route.page === "games" || route.page === "game" ? "active" : null }, "Games"),
  );
  const sig = JSON.stringify(links) + route.page + (route.key || "") + here;
  if (nav.dataset.sig !== sig) {
    nav.dataset.sig = sig;
    nav.replaceChildren(...items);
  }
}

// -- routing ------------------------------------------------------------------------------------------

function parseRoute() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, query] = raw.split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "config" && parts[1]) return { page: "config", key: parts[1], params };
  if (parts[0] === "runs" && parts[1]) return { page: "runs", key: parts[1], params };
  if (parts[0] === "model" && parts[1]) return { page: "model", id: parts[1], key: configOf(parts[1]), params };
  if (parts[0] === "jobs") return { page: "jobs", params };
  if (parts[0] === "games") return { page: "games", params };
  if (parts[0] === "game" && parts[1]) return { page: "game", id: parts[1], params };
  return { page: "overview", params };
}

// One view per page: `mount(main)` builds it, `refresh()` polls its data, `resize()` (if any) redraws charts.
const VIEWS = {
  overview: () => new OverviewView(),
  config: (r) => new ConfigView(r.key),
  runs: (r) => new RunsView(r.key, r.params),
  model: (r) => new ModelView(r.id),
  jobs: (r) => new JobsView(r.params),
  games: (r) => new GamesView(r.params),
  game: (r) => new GameView(r.id),
};

let route = null;
let view = null;

function navigate() {
  route = parseRoute();
  const main = $("main");
  main.replaceChildren();
  view = VIEWS[route.page](route);
  view.mount(main);
  document.title = `zeroloop · ${route.page === "config" ? route.key : route.page === "runs" ? `${route.key} runs` : route.id || route.page}`;
  window.scrollTo(0, 0);
  renderNav(route);
  poller.now();
}

async function refreshAll() {
  const current = view;
  shared.configs = (await api("/api/configs")).data;
  renderNav(route);
  const old = $("page-error");
  try {
    await current.refresh();
    if (old) old.remove();
  } catch (e) {
    // A page about something that does not exist (404) or a malformed address (422) says so in place;
    // the connection is fine, so polling goes on at its normal pace.
    if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 401) {
      if (current !== view) return;
      const box = h("div", { class: "error-box", id: "page-error" }, h("strong", {}, `${e.status}: `), e.message);
      if (old) old.replaceWith(box);
      else $("main").prepend(box);
      return;
    }
    throw e;
  }
}

async function showNode() {
  try {
    const health = await api("/api/health");
    $("node-info").textContent = `zeroloop v${health.version}`;
  } catch (e) {
    $("node-info").textContent = "";
  }
}

let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => view && view.resize && view.resize(), 150);
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) poller.now();
});
window.addEventListener("hashchange", navigate);

poller.refresh = refreshAll;
setupToken();
showNode();
navigate();
