// Renderers more than one view shows: an evaluation with its LLR, a job's progress and cancel button, a compact
// job table and a table of stored games.

import { h } from "./dom.js";
import { api } from "./api.js";
import { llrChart } from "./charts.js";
import {
  empty,
  fmt,
  isModelId,
  isNum,
  minus,
  modelLink,
  pct,
  short,
  signed,
  stageBadge,
  stateBadge,
  when,
} from "./format.js";
import { act, table } from "./ui.js";

// One evaluation; `chartWidth` draws its full LLR chart at that width instead of a sparkline.
export function decisionItem(d, { chartWidth = 0 } = {}) {
  const chart = chartWidth > 0;
  const decision = d.status === "finished" ? d.decision : d.status;
  const changes = (d.stage_changes || []).map((t) => h("span", {}, "→ ", stageBadge(t.to_stage), " ", when(t.at)));
  const stats = [
    isNum(d.games) ? `${d.games} games` : null,
    isNum(d.score) ? `score ${d.score.toFixed(3)}` : null,
    isNum(d.elo_delta) ? `Elo ${signed(d.elo_delta)} [${signed(d.elo_ci_low)}, ${signed(d.elo_ci_high)}]` : null,
    isNum(d.wins) ? `W/D/L ${d.wins}/${d.draws}/${d.losses}` : null,
    isNum(d.llr)
      ? `LLR ${minus(d.llr.toFixed(2))} (bounds ${minus(fmt(d.llr_lower, 2))}, ${fmt(d.llr_upper, 2)})`
      : null,
    d.pentanomial ? `pairs ${d.pentanomial.join("/")}` : null,
  ].filter(Boolean);
  const li = h(
    "li",
    { class: "decision", dataset: { evaluation: d.evaluation_id } },
    h(
      "div",
      { class: "row" },
      h(
        "div",
        { class: "row-main" },
        h(
          "div",
          { class: "row-title" },
          h("span", { class: `badge decision-${decision}` }, decision),
          modelLink(d.candidate),
          h("span", { class: "muted" }, "vs"),
          isModelId(d.opponent) ? modelLink(d.opponent) : h("span", { class: "mono" }, d.opponent),
          changes,
        ),
        h(
          "div",
          { class: "row-meta" },
          stats.map((t) => h("span", {}, t)),
          h("span", {}, "SPRT H0 ", signed(d.elo0), " / H1 ", signed(d.elo1)),
          when(d.finished_at || d.created_at),
        ),
        d.error ? h("div", { class: "reason" }, d.error) : null,
      ),
      chart ? null : llrChart(d, null, { spark: true }),
    ),
  );
  if (chart) li.append(h("div", { class: "llr-full" }, llrChart(d, null, { width: chartWidth })));
  return li;
}

// What a job is doing; for a failed job the line of its error that names the exception (the API's
// error_summary: a traceback's last line is source code, which says nothing on its own).
export function statusLine(job) {
  if (job.state === "failed" && (job.error_summary || job.error)) {
    return job.error_summary || job.error.split("\n")[0];
  }
  return job.message || job.state;
}

export const jobDone = (job) => job.state !== "queued" && job.state !== "running";

// A progress bar (a div.bar around a span) shows how far `job` is and, once done, how it ended.
export function paintBar(bar, job) {
  bar.className = `bar ${job.state === "succeeded" ? "done" : jobDone(job) ? job.state : ""}`;
  bar.firstChild.style.width = `${Math.round((job.progress || 0) * 100)}%`;
}

function jobProgress(job) {
  const bar = h("div", { class: "bar" }, h("span", {}));
  paintBar(bar, job);
  return h(
    "div",
    { class: "progress" },
    bar,
    h("span", { class: "progress-label", title: job.message || "" }, `${pct(job.progress)} · ${statusLine(job)}`),
  );
}

export function cancelJob(job) {
  act(
    {
      title: `Cancel job ${short(job.id)}?`,
      body:
        job.state === "running"
          ? `The ${job.type} job is running on ${job.node_id || "a node"}; its process will be stopped. This cannot be undone.`
          : `The queued ${job.type} job will not run. This cannot be undone.`,
      confirmLabel: "Cancel job",
    },
    () => api(`/api/jobs/${encodeURIComponent(job.id)}/cancel`, { method: "POST" }),
    (j) => `Job ${short(j.id)} is ${j.state}.`,
  );
}

export function jobsCompact(page, container) {
  if (!page.data.length) return empty("No jobs for this config key yet.");
  return table(
    {},
    ["State", "Type", "Progress", "Created"],
    h(
      "tbody",
      {},
      page.data.map((j) =>
        h(
          "tr",
          { class: "clickable", dataset: { jobId: j.id }, onclick: () => (location.hash = `#/jobs?job=${j.id}`) },
          h("td", {}, stateBadge(j.state)),
          h("td", {}, j.type, " ", h("span", { class: "mono faint" }, short(j.id))),
          h("td", {}, jobProgress(j)),
          h("td", {}, when(j.created_at)),
        ),
      ),
    ),
  );
}

// Stored games as a table whose rows open the viewer.
export function gameList(data, id) {
  const rows = data.data.map((g) =>
    h(
      "tr",
      { class: "clickable", onclick: () => (location.hash = `#/game/${encodeURIComponent(g.game_id)}`) },
      h("td", {}, g.game_id),
      h("td", {}, g.config_key),
      h("td", {}, g.source),
      h("td", {}, [...new Set(g.players)].join(" vs ")),
      h("td", { class: "num" }, String(g.moves.length)),
      h("td", {}, g.winners.length === g.players.length ? "draw" : g.winners.map((w) => `seat ${w}`).join(", ")),
    ),
  );
  const headers = ["Game", "Config", "Source", "Players", ["Moves", "num"], "Winner"];
  return table({ id: id || null }, headers, h("tbody", {}, rows));
}
