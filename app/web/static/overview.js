// The overview (#/): the cluster at a glance and a card per config key.

import { h } from "./dom.js";
import { api, shared } from "./api.js";
import { STAGES, compact, eloInterval, empty } from "./format.js";
import { Section, pageHead, tile } from "./ui.js";

export class OverviewView {
  mount(main) {
    this.cards = new Section(h("div", { class: "configs" }), (data) => this.renderCards(data));
    this.cluster = new Section(h("div", { class: "tiles" }), (c) => this.renderCluster(c));
    main.append(
      pageHead({ title: "Overview", sub: "Every config key of this installation." }),
      this.cluster.el,
      this.cards.el,
    );
  }

  async refresh() {
    const cluster = await api("/api/cluster");
    this.cluster.update(cluster);
    this.cards.update(shared.configs);
  }

  renderCluster(c) {
    const alive = c.nodes.filter((n) => n.alive);
    return [
      tile("Nodes", String(alive.length), alive.map((n) => n.id).join(", ") || "none alive"),
      tile("Slots", String(c.slots), "job slots of live nodes"),
      tile("Running", String(c.running), "jobs"),
      tile("Queued", String(c.queued), "jobs"),
      tile("Failed", String(c.jobs_by_state.failed || 0), "jobs in all"),
    ];
  }

  renderCards(data) {
    if (!data.length) {
      return empty("Nothing recorded yet. Start the loop with `zeroloop run <config>` or submit a job.");
    }
    return data.map(configCard);
  }
}

// One config key at a glance: its production model and Elo, models by stage, jobs and rated games.
function configCard(c) {
  const total = Object.values(c.stages).reduce((a, b) => a + b, 0) || 1;
  const bar = h("div", {
    class: "stagebar",
    title: STAGES.filter((st) => c.stages[st])
      .map((st) => `${st}: ${c.stages[st]}`)
      .join(", "),
  });
  for (const st of STAGES) {
    if (!c.stages[st]) continue;
    const seg = h("span", { class: `fill-${st}` });
    seg.style.width = `${(100 * c.stages[st]) / total}%`;
    bar.append(seg);
  }
  const r = c.production_rating;
  return h(
    "a",
    { class: "card config-card", href: `#/config/${c.config_key}`, dataset: { config: c.config_key } },
    h(
      "div",
      { class: "title" },
      h("h2", {}, c.config_key),
      c.recommendations
        ? h(
            "span",
            { class: "badge prio-HIGH" },
            `${c.recommendations} recommendation${c.recommendations > 1 ? "s" : ""}`,
          )
        : null,
    ),
    h(
      "dl",
      {},
      h("dt", {}, "Production"),
      h(
        "dd",
        {},
        c.production ? h("span", { class: "mono" }, c.production) : h("span", { class: "muted" }, "none yet"),
      ),
      h("dt", {}, "Elo"),
      h("dd", {}, r ? eloInterval(r) : "–"),
      h("dt", {}, "Models"),
      h(
        "dd",
        {},
        `${c.models}`,
        c.stages.EVALUATION ? ` · ${c.stages.EVALUATION} in evaluation` : "",
        c.stages.TRAINING ? ` · ${c.stages.TRAINING} training` : "",
      ),
      h("dt", {}, "Jobs"),
      h("dd", {}, `${c.jobs.running || 0} running · ${c.jobs.queued || 0} queued · ${c.jobs.failed || 0} failed`),
      h("dt", {}, "Rated games"),
      h("dd", {}, compact(c.rated_games)),
    ),
    bar,
  );
}
