// A model (#/model/ID): its facts and lineage, training data, hyperparameters and curves, evaluations with
// their LLR, stage history and stored games; promote or retire it.

import { h } from "./dom.js";
import { api } from "./api.js";
import { curveChart, widthOf } from "./charts.js";
import { compact, configOf, eloInterval, empty, isNum, modelLink, short, stageBadge, when } from "./format.js";
import { Section, act, card, pageHead } from "./ui.js";
import { decisionItem, gameList } from "./widgets.js";

function hyperText(v) {
  if (v === null || v === undefined) return "–";
  if (Array.isArray(v)) return v.map(hyperText).join(", ");
  if (typeof v === "object")
    return Object.entries(v)
      .map(([k, x]) => `${k} ${hyperText(x)}`)
      .join(" · ");
  return String(v);
}

export class ModelView {
  constructor(id) {
    this.id = id;
    this.key = configOf(id);
  }

  mount(main) {
    this.head = new Section(h("div"), (x) => this.renderHead(x));
    this.facts = new Section(h("div", { class: "card-body" }), (x) => this.renderFacts(x));
    this.data = new Section(h("div", { class: "card-body" }), (t) => this.renderData(t));
    this.hyper = new Section(h("div", { class: "card-body" }), (t) => this.renderHyper(t));
    this.curves = new Section(h("div", { class: "card-body", id: "training-curves" }), (t, el) =>
      this.renderCurves(t, el),
    );
    this.history = new Section(h("div", { class: "card-body" }), (x) => this.renderHistory(x));
    this.games = new Section(h("div", { class: "card-body flush" }), (g) =>
      g.count ? gameList(g) : empty("No stored games of this model."),
    );
    this.evals = new Section(h("div", { class: "card-body flush" }), (p, el) =>
      p.data.length
        ? h(
            "ul",
            { class: "list" },
            p.data.map((d) => decisionItem(d, { chartWidth: widthOf(el, 560) - 32 })),
          )
        : empty("This model has not been evaluated."),
    );
    const legend = h(
      "div",
      { class: "legend" },
      h("span", { class: "key" }, h("span", { class: "swatch" }), "train"),
      h("span", { class: "key" }, h("span", { class: "swatch val" }), "validation"),
    );
    main.append(
      this.head.el,
      h(
        "div",
        { class: "stack" },
        h(
          "div",
          { class: "grid grid-3" },
          card("Model", null, this.facts.el),
          card("Data", "what it was trained on", this.data.el),
          card("Hyperparameters", null, this.hyper.el),
        ),
        card("Training curves", legend, this.curves.el),
        h(
          "div",
          { class: "grid grid-main" },
          card("Evaluations", "SPRT gate: LLR after each look", this.evals.el),
          card("Stage history", "oldest first", this.history.el),
        ),
        card("Games", "its newest stored games; click one to step through it", this.games.el),
      ),
    );
  }

  async refresh() {
    const id = encodeURIComponent(this.id);
    const [model, history, training, evals, detail, games] = await Promise.all([
      api(`/api/models/${id}`),
      api(`/api/models/${id}/history`),
      api(`/api/models/${id}/training`),
      api(`/api/configs/${encodeURIComponent(this.key)}/decisions?candidate=${id}&limit=5`),
      api(`/api/configs/${encodeURIComponent(this.key)}`),
      api(`/api/games?player=${id}&limit=10`),
    ]);
    const summary = detail.models.find((m) => m.model_id === this.id) || null;
    const children = detail.models.filter((m) => m.parent_model_id === this.id).map((m) => m.model_id);
    this.head.update({ model: model.model, summary });
    this.facts.update({ model: model.model, lineage: model.lineage, children, summary });
    this.data.update(training);
    this.hyper.update(training);
    this.curves.update(training);
    this.history.update(history);
    this.evals.update(evals);
    this.games.update(games);
  }

  resize() {
    this.curves.redraw();
    this.evals.redraw();
  }

  renderHead({ model, summary }) {
    const buttons = (summary ? summary.allowed : []).map((stage) => {
      const retire = stage === "RETIRED";
      const b = h(
        "button",
        { class: retire ? "btn btn-outline-danger" : "btn btn-primary", type: "button", dataset: { promote: stage } },
        retire ? "Retire" : `Promote to ${stage}`,
      );
      b.addEventListener("click", () =>
        act(
          {
            title: retire ? `Retire ${model.model_id}?` : `Promote ${model.model_id} to ${stage}?`,
            body:
              stage === "PRODUCTION"
                ? "It becomes the production model of its config key; the current production model is retired. Its latest evaluation is attached as evidence."
                : retire
                  ? "A retired model can only return to production through a rollback."
                  : `It moves from ${model.stage} to ${stage}.`,
            confirmLabel: retire ? "Retire" : "Promote",
            danger: retire || stage === "PRODUCTION",
            reason: "",
          },
          ({ reason }) =>
            api(`/api/models/${encodeURIComponent(model.model_id)}/promote`, {
              method: "POST",
              body: { stage, reason: reason || null },
            }),
          (r) => `${r.model_id}: ${r.from_stage} → ${r.to_stage}${r.superseded ? `; ${r.superseded} retired` : ""}.`,
        ),
      );
      return b;
    });
    const rating = summary && summary.rating;
    return pageHead({
      crumbs: [
        h("a", { href: "#/" }, "Overview"),
        " / ",
        h("a", { href: `#/config/${model.config_key}` }, model.config_key),
        " / model",
      ],
      title: model.model_id,
      mono: true,
      sub: [
        stageBadge(model.stage),
        rating
          ? h("span", { class: "pill" }, `Elo ${eloInterval(rating)} · ${rating.games} games`)
          : h("span", { class: "muted" }, "unrated"),
        h("span", { class: "muted" }, "created ", when(model.created_at)),
      ],
      actions: buttons,
    });
  }

  renderFacts({ model, lineage, children }) {
    const chain = [...lineage]
      .reverse()
      .map((m) => [
        h("a", { class: "node", href: `#/model/${m.model_id}` }, m.model_id),
        h("span", { class: "arrow" }, "→"),
      ]);
    return [
      h("div", { class: "lineage", id: "lineage" }, chain, h("span", { class: "node self" }, model.model_id)),
      h(
        "dl",
        { class: "kv", style: null },
        h("dt", {}, "Config key"),
        h("dd", {}, h("a", { href: `#/config/${model.config_key}`, class: "mono" }, model.config_key)),
        h("dt", {}, "Version"),
        h("dd", {}, String(model.version)),
        h("dt", {}, "Parent"),
        h(
          "dd",
          {},
          model.parent_model_id
            ? modelLink(model.parent_model_id)
            : h("span", { class: "muted" }, "none (trained from scratch)"),
        ),
        h("dt", {}, "Children"),
        h(
          "dd",
          { id: "children" },
          children.length
            ? children.map((c, i) => [i ? ", " : "", modelLink(c)])
            : h("span", { class: "muted" }, "none yet"),
        ),
        h("dt", {}, "Checkpoint"),
        h("dd", { class: "mono" }, model.artifact_path || h("span", { class: "muted" }, "not written yet")),
        h("dt", {}, "sha256"),
        h("dd", { class: "mono", title: model.sha256 || "" }, model.sha256 ? model.sha256.slice(0, 16) + "…" : "–"),
        h("dt", {}, "Updated"),
        h("dd", {}, when(model.updated_at)),
      ),
    ];
  }

  renderData(t) {
    return [
      h(
        "dl",
        { class: "kv" },
        h("dt", {}, "Positions"),
        h(
          "dd",
          {},
          isNum(t.positions.train)
            ? `${compact(t.positions.train)} train · ${compact(t.positions.val || 0)} validation`
            : isNum(t.positions.total)
              ? `${compact(t.positions.total)} in the replay window`
              : "–",
        ),
        h("dt", {}, "Games"),
        h("dd", {}, isNum(t.games) ? compact(t.games) : "–"),
        h("dt", {}, "Training job"),
        h("dd", {}, t.job_id ? h("a", { href: `#/jobs?job=${t.job_id}`, class: "mono" }, short(t.job_id)) : "–"),
        h("dt", {}, `Shards (${t.shards.length})`),
        h(
          "dd",
          {},
          t.shards.length
            ? h(
                "div",
                { class: "chips" },
                t.shards.slice(0, 12).map((x) => h("span", { class: "chip" }, x)),
                t.shards.length > 12 ? h("span", { class: "muted" }, `+${t.shards.length - 12} more`) : null,
              )
            : "–",
        ),
      ),
    ];
  }

  renderHyper(t) {
    const entries = Object.entries(t.hyperparameters);
    if (!entries.length) return empty("No hyperparameters recorded.");
    return h(
      "dl",
      { class: "kv", id: "hyperparameters" },
      entries.map(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono" }, hyperText(v))]),
    );
  }

  renderCurves(t, el) {
    if (!t.history.length) return empty("No training history recorded for this model (yet).");
    const width = Math.floor((widthOf(el, 900) - 24) / (el.clientWidth > 1000 ? 3 : 1));
    const charts = [
      curveChart(t.history, "policy_loss", "Policy loss", width),
      curveChart(t.history, "value_loss", "Value loss", width),
      curveChart(t.history, "policy_accuracy", "Policy accuracy", width),
    ].filter(Boolean);
    return h("div", { class: "charts-3" }, charts);
  }

  renderHistory(list) {
    return h(
      "ul",
      { class: "timeline", id: "stage-history" },
      list.map((t) => {
        const evidence = Object.entries(t.evidence || {}).filter(([k]) => !["llr_path", "pentanomial"].includes(k));
        return h(
          "li",
          { class: `to-${t.to_stage}` },
          h(
            "div",
            { class: "row-title" },
            t.from_stage
              ? [stageBadge(t.from_stage), h("span", { class: "muted" }, "→")]
              : h("span", { class: "muted" }, "registered at"),
            stageBadge(t.to_stage),
            h("span", { class: "muted" }, t.kind),
            when(t.at),
          ),
          t.reason ? h("div", { class: "reason" }, t.reason) : null,
          evidence.length
            ? h(
                "div",
                { class: "evidence" },
                evidence
                  .slice(0, 14)
                  .map(([k, v]) =>
                    h("span", {}, `${k} `, h("b", {}, typeof v === "number" ? compact(v) : String(v))),
                  ),
              )
            : null,
        );
      }),
    );
  }
}
