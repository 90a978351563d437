// Jobs (#/jobs): the cluster's figures and a filtered, paged job table whose rows are kept across polls and
// updated in place; a row opens to its config, result, error and log tail.

import { h } from "./dom.js";
import { api, q, shared } from "./api.js";
import { ago, duration, empty, pct, short, stateBadge } from "./format.js";
import { poller } from "./live.js";
import { Section, card, pageHead, table, tile } from "./ui.js";
import { cancelJob, jobDone, paintBar, statusLine } from "./widgets.js";

const JOBS_PAGE = 50;
const JOB_STATES = ["queued", "running", "succeeded", "failed", "cancelled"];

// The options of a filter: "all" (the empty value), then each value.
const optionsOf = (values) => [h("option", { value: "" }, "all"), values.map((v) => h("option", { value: v }, v))];

export class JobsView {
  constructor(params) {
    this.filters = {
      state: params.get("state") || "",
      type: params.get("type") || "",
      config_key: params.get("config_key") || "",
    };
    this.offset = 0;
    this.rows = new Map();
    this.open = new Set(params.get("job") ? [params.get("job")] : []);
    this.logs = new Map();
    this.typesAsked = false;
  }

  mount(main) {
    const select = (name, options) => {
      const el = h("select", { name, id: `filter-${name}` }, optionsOf(options));
      el.value = this.filters[name];
      el.addEventListener("change", () => {
        this.filters[name] = el.value;
        this.offset = 0;
        const query = q(this.filters);
        history.replaceState(null, "", `#/jobs${query}`);
        poller.now();
      });
      return el;
    };
    this.typeSelect = select("type", []);
    this.keySelect = select("config_key", []);
    this.cluster = new Section(h("div", { class: "tiles" }), (c) => {
      const alive = c.nodes.filter((n) => n.alive);
      return [
        tile("Running", String(c.running), `of ${c.slots} slots`),
        tile("Queued", String(c.queued)),
        tile("Succeeded", String(c.jobs_by_state.succeeded || 0)),
        tile("Failed", String(c.jobs_by_state.failed || 0)),
        tile("Nodes", String(alive.length), alive.map((n) => `${n.id} (${n.executor})`).join(", ") || "none alive"),
      ];
    });
    this.tbody = h("tbody");
    this.count = h("span");
    this.prev = h("button", { class: "btn btn-small", type: "button", onclick: () => this.page(-1) }, "← Newer");
    this.next = h("button", { class: "btn btn-small", type: "button", onclick: () => this.page(1) }, "Older →");
    this.emptyNote = empty("No jobs match these filters.");
    main.append(
      pageHead({
        title: "Jobs",
        sub: "Selfplay, training, evaluation and pipeline jobs of every node sharing this database.",
      }),
      this.cluster.el,
      card(
        "Jobs",
        h(
          "div",
          { class: "filters" },
          h("label", {}, "State", select("state", JOB_STATES)),
          h("label", {}, "Type", this.typeSelect),
          h("label", {}, "Config", this.keySelect),
        ),
        h(
          "div",
          { class: "card-body flush" },
          table(
            { id: "jobs-table" },
            ["State", "Job", "Type", "Config", "Progress", ["Attempts", "num"], "Node", "Created", "Duration", ""],
            this.tbody,
          ),
          this.emptyNote,
          h("div", { class: "pager" }, this.count, this.prev, this.next),
        ),
      ),
    );
  }

  page(step) {
    this.offset = Math.max(0, this.offset + step * JOBS_PAGE);
    poller.now();
  }

  async refresh() {
    if (!this.typesAsked) {
      // Not awaited: the node imports every stage to describe the job types, which can take seconds the
      // first time, and the jobs should not wait for a filter's options.
      this.typesAsked = true;
      api("/api/jobtypes")
        .then((types) =>
          this.fillOptions(
            this.typeSelect,
            types.map((t) => t.name),
          ),
        )
        .catch(() => (this.typesAsked = false));
    }
    this.fillOptions(
      this.keySelect,
      shared.configs.map((c) => c.config_key),
    );
    const [page, cluster] = await Promise.all([
      api(`/api/jobs${q({ ...this.filters, limit: JOBS_PAGE, offset: this.offset })}`),
      api("/api/cluster"),
    ]);
    const logs = await Promise.all(
      page.data
        .filter((j) => this.open.has(j.id) && (j.state === "running" || !this.logs.has(j.id)))
        .map((j) => api(`/api/jobs/${j.id}/log?max_chars=6000`).then((text) => [j.id, text])),
    );
    for (const [id, text] of logs) this.logs.set(id, text);
    this.cluster.update(cluster);
    this.renderRows(page);
  }

  fillOptions(select, values) {
    const sig = values.join(",");
    if (select.dataset.sig === sig) return;
    select.dataset.sig = sig;
    const current = select.value;
    select.replaceChildren(...optionsOf(values).flat());
    if (current && !values.includes(current)) select.append(h("option", { value: current }, current));
    select.value = current;
  }

  renderRows(page) {
    const order = [];
    const seen = new Set();
    for (const job of page.data) {
      seen.add(job.id);
      let row = this.rows.get(job.id);
      if (!row) {
        row = this.createRow(job.id);
        this.rows.set(job.id, row);
      }
      row.update(job);
      order.push(row.tr);
      if (this.open.has(job.id)) order.push(row.detail(job, this.logs.get(job.id)));
    }
    for (const id of [...this.rows.keys()]) {
      if (!seen.has(id)) {
        this.rows.delete(id);
        this.logs.delete(id);
      }
    }
    this.tbody.replaceChildren(...order);
    this.emptyNote.hidden = page.data.length > 0;
    const first = page.data.length ? this.offset + 1 : 0;
    this.count.textContent = `${first}–${this.offset + page.data.length} of ${page.count}`;
    this.prev.disabled = this.offset === 0;
    this.next.disabled = this.offset + page.data.length >= page.count;
  }

  // One table row per job, kept across polls and updated in place: only changed text is touched.
  createRow(id) {
    const cells = {};
    const td = (name, cls) => (cells[name] = h("td", { class: cls || null }));
    const tr = h(
      "tr",
      { class: "clickable", dataset: { jobId: id } },
      td("state"),
      td("id", "mono"),
      td("type"),
      td("key", "mono"),
      td("progress"),
      td("attempts", "num"),
      td("node", "muted nowrap"),
      td("created"),
      td("duration", "nowrap"),
      td("actions"),
    );
    tr.addEventListener("click", (ev) => {
      if (ev.target.closest("button, a")) return;
      if (this.open.has(id)) this.open.delete(id);
      else this.open.add(id);
      poller.now();
    });
    const bar = h("div", { class: "bar" }, h("span", {}));
    const label = h("span", { class: "progress-label" });
    cells.progress.append(h("div", { class: "progress" }, bar, label));
    const cancel = h("button", { class: "btn btn-small btn-outline-danger cancel", type: "button" }, "Cancel");
    cells.actions.append(cancel);
    let current = null;
    cancel.addEventListener("click", () => current && cancelJob(current));
    const set = (el, text) => {
      if (el.textContent !== text) el.textContent = text;
    };
    let detailRow = null;
    let detailSig = null;
    return {
      tr,
      update: (job) => {
        current = job;
        const stateSig = job.state;
        if (cells.state.dataset.sig !== stateSig) {
          cells.state.dataset.sig = stateSig;
          cells.state.replaceChildren(stateBadge(job.state));
        }
        tr.classList.toggle("selected", this.open.has(id));
        set(cells.id, short(job.id));
        cells.id.title = job.id;
        set(cells.type, job.type);
        set(cells.key, job.config_key || "–");
        paintBar(bar, job);
        set(label, `${pct(job.progress)} · ${statusLine(job)}`);
        label.title = job.message || "";
        set(cells.attempts, `${job.attempts}/${job.max_attempts}`);
        set(cells.node, job.node_id || "–");
        set(cells.created, ago(job.created_at));
        cells.created.title = new Date(job.created_at).toLocaleString();
        set(cells.duration, job.started_at ? duration(job.started_at, job.finished_at) : "–");
        cancel.hidden = jobDone(job);
      },
      detail: (job, log) => {
        const sig = JSON.stringify([job, log]);
        if (detailRow && sig === detailSig) return detailRow;
        detailSig = sig;
        detailRow = jobDetail(job, log);
        return detailRow;
      },
    };
  }
}

// The row under an open job: its error, config, result, log tail and where it ran.
function jobDetail(job, log) {
  const json = (x) => JSON.stringify(x, null, 2);
  return h(
    "tr",
    { class: "detail", dataset: { detailFor: job.id } },
    h(
      "td",
      { colspan: 10 },
      h(
        "div",
        { class: "detail-grid" },
        job.error ? h("div", {}, h("h3", {}, "Error"), h("pre", { class: "error" }, job.error)) : null,
        h("div", {}, h("h3", {}, "Config"), h("pre", { class: "light" }, json(job.config))),
        job.result !== null && job.result !== undefined
          ? h("div", {}, h("h3", {}, "Result"), h("pre", { class: "light" }, json(job.result)))
          : null,
        h(
          "div",
          {},
          h("h3", {}, "Log (tail)"),
          h("pre", {}, log === undefined ? "loading…" : log || "(empty)"),
        ),
        h(
          "div",
          {},
          h("h3", {}, "Details"),
          h(
            "dl",
            { class: "kv" },
            h("dt", {}, "id"),
            h("dd", { class: "mono" }, job.id),
            h("dt", {}, "executor"),
            h("dd", {}, job.executor || "–"),
            h("dt", {}, "host / pid"),
            h("dd", {}, `${job.worker_host || "–"} / ${job.pid || "–"}`),
            h("dt", {}, "priority"),
            h("dd", {}, String(job.priority)),
            h("dt", {}, "started"),
            h("dd", {}, job.started_at ? new Date(job.started_at).toLocaleString() : "–"),
            h("dt", {}, "finished"),
            h("dd", {}, job.finished_at ? new Date(job.finished_at).toLocaleString() : "–"),
          ),
        ),
      ),
    ),
  );
}
