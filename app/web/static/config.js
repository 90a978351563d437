// A config key (#/config/KEY): its models by generation with ratings, gate decisions, ad-hoc evaluations,
// the feedback loop's recommendations and events, and its newest jobs; "roll back production".

import { h } from "./dom.js";
import { api, shared } from "./api.js";
import { eloChart } from "./charts.js";
import { STAGES, compact, elo, eloInterval, empty, fmt, modelHref, modelLink, stageBadge, when } from "./format.js";
import { Section, act, card, pageHead, table, tile } from "./ui.js";
import { decisionItem, jobsCompact } from "./widgets.js";

export class ConfigView {
  constructor(key) {
    this.key = key;
  }

  mount(main) {
    const key = this.key;
    this.head = new Section(h("div"), (d) => this.renderHead(d));
    this.tiles = new Section(h("div", { class: "tiles" }), (x) => this.renderTiles(x));
    this.chart = new Section(h("div", { class: "card-body", id: "elo-chart" }), (d, el) => eloChart(d, el));
    this.models = new Section(h("div", { class: "card-body flush" }), (d) => this.renderModels(d));
    const evaluationList = (none) => (p) =>
      p.data.length ? h("ul", { class: "list" }, p.data.map((d) => decisionItem(d))) : empty(none);
    this.decisions = new Section(h("div", { class: "card-body flush", id: "gate-decisions" }), evaluationList("No gate decisions yet."));
    // Evaluations a person asked for never decide a promotion, so they are listed apart from the gates.
    this.adhoc = new Section(h("div", { class: "card-body flush", id: "adhoc-evaluations" }), evaluationList("No ad-hoc evaluations."));
    this.recs = new Section(h("div", { class: "card-body flush" }), (x) => this.renderFeedback(x));
    this.events = new Section(h("div", { class: "card-body flush" }), (p) => this.renderEvents(p));
    this.jobs = new Section(h("div", { class: "card-body flush" }), (p) => jobsCompact(p));
    const legend = h(
      "div",
      { class: "legend" },
      h("span", { class: "key" }, h("span", { class: "swatch dot" }), "model Elo"),
      h("span", { class: "key" }, h("span", { class: "swatch band" }), "95% interval"),
      h("span", { class: "key" }, h("span", { class: "swatch prod" }), "production"),
      h("span", { class: "key" }, h("span", { class: "swatch anchor" }), "anchors"),
    );
    main.append(
      this.head.el,
      this.tiles.el,
      h(
        "div",
        { class: "stack" },
        card("Elo by generation", legend, this.chart.el),
        h(
          "div",
          { class: "grid grid-main" },
          card("Models", "stage and rating of every generation", this.models.el),
          card("Promotion decisions", "SPRT gate of each candidate", this.decisions.el),
        ),
        card("Ad-hoc evaluations", "zeroloop evaluate and other matches asked for by hand", this.adhoc.el),
        h(
          "div",
          { class: "grid grid-main" },
          card("Feedback", "recommendations and what was applied", this.recs.el),
          card("Feedback events", "newest first", this.events.el),
        ),
        card("Jobs", h("a", { href: `#/jobs?config_key=${key}` }, "all jobs of " + key), this.jobs.el),
      ),
    );
  }

  async refresh() {
    const k = encodeURIComponent(this.key);
    const [detail, decisions, adhoc, events, recs, applied, jobs] = await Promise.all([
      api(`/api/configs/${k}`),
      api(`/api/configs/${k}/decisions?purpose=gate&limit=10`),
      api(`/api/configs/${k}/decisions?purpose=adhoc&limit=5`),
      api(`/api/feedback?config_key=${k}&limit=20`),
      api(`/api/feedback/recommendations?config_key=${k}`),
      api(`/api/feedback/applied?config_key=${k}&limit=20`),
      api(`/api/jobs?config_key=${k}&limit=8`),
    ]);
    this.head.update(detail);
    this.tiles.update({ detail, jobs: shared.configs.find((c) => c.config_key === this.key) || null, recs: recs.length });
    this.chart.update(detail);
    this.models.update(detail);
    this.decisions.update(decisions);
    this.adhoc.update(adhoc);
    this.recs.update({ recs, applied });
    this.events.update(events);
    this.jobs.update(jobs);
  }

  resize() {
    this.chart.redraw();
  }

  renderHead(d) {
    const prod = d.models.find((m) => m.stage === "PRODUCTION");
    // The API names the model a rollback restores (the last one superseded in production, not itself rolled back).
    const target = d.rollback_to;
    const rollback = h(
      "button",
      {
        class: "btn btn-outline-danger",
        type: "button",
        id: "rollback",
        disabled: !target,
        title: target
          ? `Put ${target} back into production`
          : `No earlier production model of ${d.config_key} to go back to`,
      },
      "Roll back production",
    );
    rollback.addEventListener("click", () =>
      act(
        {
          title: `Roll back ${d.config_key} to ${target}?`,
          body: `${target} returns to PRODUCTION${prod ? `; ${prod.model_id} is retired` : ""}.`,
          confirmLabel: "Roll back",
          reason: "",
          reasonRequired: true,
        },
        ({ reason }) =>
          api(`/api/configs/${encodeURIComponent(d.config_key)}/rollback`, {
            method: "POST",
            body: { reason: reason || "rolled back from the dashboard" },
          }),
        (r) => `${r.restored} is back in production${r.retired ? `; ${r.retired} retired` : ""}.`,
      ),
    );
    return pageHead({
      crumbs: [h("a", { href: "#/" }, "Overview"), " / config key"],
      title: d.config_key,
      mono: true,
      sub: [
        "Production: ",
        prod ? modelLink(prod.model_id) : h("span", {}, "none yet"),
        prod && prod.rating ? h("span", { class: "pill" }, `Elo ${eloInterval(prod.rating)}`) : null,
      ],
      actions: [
        h("a", { class: "btn", id: "runs-link", href: `#/runs/${encodeURIComponent(d.config_key)}` }, "Runs"),
        rollback,
      ],
    });
  }

  renderTiles({ detail, jobs, recs }) {
    const rated = detail.models.filter((m) => m.rating);
    const best = rated.reduce((a, m) => (!a || m.rating.elo > a.rating.elo ? m : a), null);
    return [
      tile(
        "Models",
        String(detail.models.length),
        STAGES.filter((st) => detail.models.some((m) => m.stage === st))
          .map((st) => `${detail.models.filter((m) => m.stage === st).length} ${st.toLowerCase()}`)
          .join(" · "),
      ),
      tile("Best Elo", best ? elo(best.rating.elo) : "–", best ? best.model_id : "no rated model"),
      tile("Rated games", compact(detail.rated_games), `anchor ${detail.anchor} = 0`),
      tile("Jobs", jobs ? `${jobs.jobs.running || 0} / ${jobs.jobs.queued || 0}` : "0 / 0", "running / queued"),
      tile("Recommendations", String(recs), recs ? "open" : "nothing to change"),
    ];
  }

  renderModels(d) {
    if (!d.models.length) return empty("No models registered for this config key yet.");
    const rows = [...d.models]
      .reverse()
      .map((m) =>
        h(
          "tr",
          {
            class: "clickable",
            dataset: { model: m.model_id },
            onclick: () => (location.hash = modelHref(m.model_id)),
          },
          h("td", {}, h("span", { class: "mono" }, m.model_id)),
          h("td", {}, stageBadge(m.stage)),
          h("td", { class: "num" }, m.rating ? elo(m.rating.elo) : "–"),
          h(
            "td",
            { class: "num muted" },
            m.rating ? `${elo(m.rating.ci_low)} … ${elo(m.rating.ci_high)}` : "unrated",
          ),
          h("td", { class: "num" }, m.rating ? compact(m.rating.games) : "0"),
          h(
            "td",
            {},
            m.parent_model_id
              ? h("span", { class: "mono muted" }, m.parent_model_id.replace(/^.*_v/, "v"))
              : h("span", { class: "faint" }, "scratch"),
          ),
          h("td", {}, when(m.created_at)),
        ),
      );
    return table(
      { id: "models-table" },
      ["Model", "Stage", ["Elo", "num"], ["95% CI", "num"], ["Games", "num"], "Parent", "Created"],
      h("tbody", {}, rows),
    );
  }

  renderFeedback({ recs, applied }) {
    const recItems = recs.map(recommendationItem);
    const appliedItems = applied.data.map(appliedItem);
    const backedOff = (applied.rules || []).filter((r) => r.backed_off);
    return [
      h("div", { class: "subhead" }, h("h3", {}, `Current recommendations (${recs.length})`)),
      recItems.length
        ? h("ul", { class: "list", id: "recommendations" }, recItems)
        : empty("No recommendations: the loop needs no change."),
      backedOff.length
        ? h(
            "div",
            { class: "reason", id: "backed-off" },
            "Backed off (their changes did not help): " +
              backedOff.map((r) => `${r.rule} (${r.backoff_cycles_left} cycle(s) left)`).join(", "),
          )
        : null,
      h("div", { class: "subhead" }, h("h3", {}, `Applied (${applied.count})`)),
      appliedItems.length ? h("ul", { class: "list", id: "applied" }, appliedItems) : empty("Nothing applied yet."),
    ];
  }

  renderEvents(p) {
    if (!p.data.length) return empty("No feedback recorded yet.");
    const rows = [...p.data].reverse().map((e) => {
      const metrics = Object.entries(e.metrics)
        .slice(0, 4)
        .map(([k, v]) => `${k} ${compact(v)}`)
        .join(" · ");
      const ctx = Object.entries(e.context)
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ");
      return h(
        "tr",
        { dataset: { event: e.id } },
        h("td", { class: "mono faint" }, `#${e.id}`),
        h(
          "td",
          {},
          h(
            "span",
            { class: `badge ${e.feedback_type === "PIPELINE_ERROR" ? "state-failed" : "type-badge"}` },
            e.feedback_type.replaceAll("_", " ").toLowerCase(),
          ),
        ),
        h("td", {}, e.model_id ? modelLink(e.model_id) : h("span", { class: "faint" }, "–")),
        h(
          "td",
          { class: "muted" },
          e.error ? h("span", { class: "clamp", title: e.error }, e.error) : [metrics, ctx ? ` (${ctx})` : ""],
        ),
        h("td", {}, when(e.at)),
      );
    });
    return table({ id: "events" }, ["#", "Event", "Model", "Metrics", "When"], h("tbody", {}, rows));
  }
}

function changesText(r) {
  const entries = Object.entries(r.changes || {});
  return entries.map(([k, v]) => (r.kind === "MULTIPLY" ? `${k} ×${compact(v)}` : `${k} → ${compact(v)}`)).join(", ");
}

// A recommendation of the feedback loop: its priority, action, changes, reason and evidence.
function recommendationItem(r) {
  return h(
    "li",
    { class: "recommendation", dataset: { identity: r.identity } },
    h(
      "div",
      { class: "row-title" },
      h("span", { class: `badge prio-${r.priority}` }, r.priority),
      h("span", {}, r.action.replaceAll("_", " ").toLowerCase()),
      Object.keys(r.changes).length ? h("span", { class: "changes" }, changesText(r)) : null,
      r.model_id ? modelLink(r.model_id) : null,
    ),
    h("div", { class: "reason" }, r.reason),
    h(
      "div",
      { class: "row-meta" },
      h("span", {}, `rule ${r.rule}`),
      h("span", {}, `evidence #${r.evidence_ids.join(", #")}`),
    ),
  );
}

// An applied recommendation and, once followed up, whether it helped.
function appliedItem(a) {
  return h(
    "li",
    { class: "applied", dataset: { identity: a.identity } },
    h(
      "div",
      { class: "row-title" },
      h("span", { class: "badge state-succeeded" }, "applied"),
      h("span", {}, (a.recommendation.action || a.rule).replaceAll("_", " ").toLowerCase()),
      a.recommendation.changes && Object.keys(a.recommendation.changes).length
        ? h("span", { class: "changes" }, changesText(a.recommendation))
        : null,
      when(a.applied_at),
      a.verdict
        ? h(
            "span",
            { class: `badge verdict ${a.verdict.improved ? "state-succeeded" : "state-failed"}` },
            a.verdict.improved ? "improved" : "did not help",
          )
        : null,
    ),
    a.recommendation.reason ? h("div", { class: "reason muted" }, a.recommendation.reason) : null,
    a.verdict
      ? h("div", { class: "row-meta" }, `follow-up #${a.verdict.event_id}: ${a.verdict.metric} ${fmt(a.verdict.before, 4)} → ${fmt(a.verdict.after, 4)}`)
      : null,
  );
}
