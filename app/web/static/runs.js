// The runs (branches) of a config key (#/runs/KEY[?a=RUN&b=RUN]): each run's fork point, production, models and
// cycles; every run's production line on one Elo chart (the config key's one anchored fit); and the settings two
// runs differ in, the pair picked with two selects (main and the newest other run at first).

import { h } from "./dom.js";
import { api, q } from "./api.js";
import { runsChart } from "./charts.js";
import { empty, modelLink, when } from "./format.js";
import { Section, card, pageHead, table } from "./ui.js";

const shown = (v) => (v === null || v === undefined ? "–" : typeof v === "object" ? JSON.stringify(v) : String(v));

export class RunsView {
  constructor(key, params) {
    this.key = key;
    this.pair = [params.get("a"), params.get("b")];
  }

  mount(main) {
    const key = this.key;
    this.head = new Section(h("div"), (d) =>
      pageHead({
        crumbs: [h("a", { href: "#/" }, "Overview"), " / ", h("a", { href: `#/config/${encodeURIComponent(key)}` }, key)],
        title: `${key} runs`,
        mono: true,
        sub: `${d.count} run${d.count === 1 ? "" : "s"}: main from generation 0, the others forked from a model`,
      }),
    );
    this.legend = new Section(h("div", { class: "legend" }), (d) =>
      d.data.map((r, i) => h("span", { class: "key" }, h("span", { class: `swatch run-${i % 6}` }), r.run)),
    );
    this.chart = new Section(h("div", { class: "card-body", id: "runs-chart" }), (d, el) => runsChart(d, el));
    this.list = new Section(h("div", { class: "card-body flush", id: "runs-table" }), (d) => this.renderRuns(d));
    this.picker = h("div", { class: "diff-picker" });
    this.diff = new Section(h("div", { class: "card-body flush", id: "runs-diff" }), (d) => this.renderDiff(d));
    main.append(
      this.head.el,
      h(
        "div",
        { class: "stack" },
        card("Elo of each run's production models", this.legend.el, this.chart.el),
        card("Runs", "fork point, production line and cycles", this.list.el),
        card("Settings diff", "only the settings that differ", this.picker, this.diff.el),
      ),
    );
  }

  renderRuns(d) {
    if (!d.data.length) return empty(`No runs of ${this.key} yet.`);
    const rows = d.data.map((r) =>
      h(
        "tr",
        { dataset: { run: r.run } },
        h("td", {}, r.run),
        h("td", {}, r.fork_model_id ? modelLink(r.fork_model_id) : "generation 0"),
        h("td", {}, modelLink(r.production)),
        h("td", { class: "num" }, String(r.models)),
        h("td", { class: "num" }, `${r.cycles_done}/${r.cycles}`),
        h("td", {}, when(r.updated_at)),
      ),
    );
    return table({ class: "table" }, ["run", "forked from", "production", ["models", "num"], ["cycles done", "num"], "updated"], h("tbody", {}, rows));
  }

  renderPicker(runs) {
    const sig = runs.join(",");
    if (this.picker.dataset.sig === sig) return;
    this.picker.dataset.sig = sig;
    const select = (id, value) => {
      const el = h("select", { id }, runs.map((r) => h("option", { value: r, selected: r === value ? "" : null }, r)));
      el.value = value;
      el.addEventListener("change", () => {
        this.pair = [this.a.value, this.b.value];
        this.refresh();
      });
      return el;
    };
    this.a = select("diff-a", this.pair[0]);
    this.b = select("diff-b", this.pair[1]);
    this.picker.replaceChildren(this.a, h("span", {}, "vs"), this.b);
  }

  renderDiff(d) {
    if (!d) return empty("One run only: nothing to compare yet.");
    if (!d.data.length) return empty(`${d.a} and ${d.b} have the same settings.`);
    const rows = d.data.map((x) => h("tr", { dataset: { key: x.key } }, h("td", { class: "mono" }, x.key), h("td", {}, shown(x.a)), h("td", {}, shown(x.b))));
    return table({ class: "table" }, ["setting", d.a, d.b], h("tbody", {}, rows));
  }

  async refresh() {
    const key = encodeURIComponent(this.key);
    const d = await api(`/api/configs/${key}/runs`);
    this.head.update(d);
    this.legend.update(d);
    this.chart.update(d);
    this.list.update(d);
    const runs = d.data.map((r) => r.run);
    const [a, b] = this.pair;
    if (!runs.includes(a) || !runs.includes(b)) this.pair = [runs[0], runs[runs.length - 1]];
    this.renderPicker(runs);
    const [left, right] = this.pair;
    this.diff.update(runs.length > 1 ? await api(`/api/configs/${key}/runs/diff${q({ a: left, b: right })}`) : null);
  }

  resize() {
    this.chart.redraw();
  }
}
