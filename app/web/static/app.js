// zeroloop dashboard: a small static front end over the node's JSON API.
//
// One poll loop refreshes the page that is open (every 2 s, backing off on errors, slower in a hidden tab).
// Sections are re-rendered only when their data changed, and every list is a bounded page, so a page left
// open for a day keeps a constant amount of DOM. Text from the API is only ever set as text, never as HTML.
"use strict";

(() => {
  const POLL_MS = 2000;
  const MAX_BACKOFF_MS = 60000;
  const HIDDEN_POLL_MS = 15000;
  const REQUEST_TIMEOUT_MS = 15000;
  const TOKEN_KEY = "zeroloop.token";
  const MAX_TOASTS = 4;
  const JOBS_PAGE = 50;
  const STAGES = ["TRAINING", "EVALUATION", "STAGING", "PRODUCTION", "RETIRED"];
  const JOB_STATES = ["queued", "running", "succeeded", "failed", "cancelled"];
  const SVG_NS = "http://www.w3.org/2000/svg";

  // -- DOM helpers --------------------------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    appendAll(el, children);
    return el;
  }

  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    appendAll(el, children);
    return el;
  }

  function setAttrs(el, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.setAttribute("class", v);
      else if (k === "text") el.textContent = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }

  function appendAll(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
  }

  const $ = (id) => document.getElementById(id);

  // -- formatting ---------------------------------------------------------------------------------------

  const isNum = (x) => typeof x === "number" && Number.isFinite(x);
  const fmt = (x, digits = 0) => (isNum(x) ? x.toFixed(digits) : "–");
  const signed = (x, digits = 0) => (isNum(x) ? (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(digits) : "–");
  const minus = (text) => text.replace(/^-/, "−");
  const elo = (x) => (isNum(x) ? minus(x.toFixed(0)) : "–");
  const pct = (x) => (isNum(x) ? Math.round(x * 100) + "%" : "–");
  const short = (id) => (id ? id.slice(0, 8) : "–");

  function compact(x) {
    if (!isNum(x)) return String(x);
    if (Number.isInteger(x)) return x.toLocaleString("en-US");
    const a = Math.abs(x);
    if (a >= 100) return x.toFixed(0);
    if (a >= 1) return x.toFixed(2);
    if (a >= 0.01) return x.toFixed(3);
    return x.toPrecision(2);
  }

  function ago(iso) {
    if (!iso) return "–";
    const t = Date.parse(iso);
    if (!Number.isFinite(t)) return "–";
    const sec = Math.max(0, (Date.now() - t) / 1000);
    if (sec < 5) return "just now";
    if (sec < 60) return Math.floor(sec) + " s ago";
    if (sec < 3600) return Math.floor(sec / 60) + " min ago";
    if (sec < 86400) return Math.floor(sec / 3600) + " h ago";
    return Math.floor(sec / 86400) + " d ago";
  }

  function duration(fromIso, toIso) {
    if (!fromIso) return "–";
    const end = toIso ? Date.parse(toIso) : Date.now();
    const sec = Math.max(0, (end - Date.parse(fromIso)) / 1000);
    if (sec < 60) return sec.toFixed(sec < 10 ? 1 : 0) + " s";
    if (sec < 3600) return Math.floor(sec / 60) + " min " + Math.floor(sec % 60) + " s";
    return Math.floor(sec / 3600) + " h " + Math.floor((sec % 3600) / 60) + " min";
  }

  const when = (iso) => h("span", { class: "nowrap", title: iso ? new Date(iso).toLocaleString() : "" }, ago(iso));
  const stageBadge = (stage) => h("span", { class: `badge stage-${stage}` }, stage);
  const stateBadge = (state) => h("span", { class: `badge state-${state}` }, state);
  const modelLink = (id) => (id ? h("a", { href: `#/model/${encodeURIComponent(id)}`, class: "mono" }, id) : "–");
  const empty = (text) => h("div", { class: "empty" }, text);
  const configOf = (modelId) => (modelId || "").replace(/_v\d+$/, "");
  const isModelId = (name) => /^[a-z][a-z0-9]*_[1-9][0-9]*p_v[0-9]+$/.test(name || "");

  // -- the API ------------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function describeError(data, res) {
    const detail = data && typeof data === "object" ? data.detail : null;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
    return res.statusText || `HTTP ${res.status}`;
  }

  async function api(path, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctrl.signal,
        cache: "no-store",
      });
    } catch (e) {
      const why = e.name === "AbortError" ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : "unreachable";
      throw new ApiError(0, `the node is ${why}`);
    } finally {
      clearTimeout(timer);
    }
    const type = res.headers.get("content-type") || "";
    const data = type.includes("json") ? await res.json().catch(() => null) : await res.text();
    if (!res.ok) throw new ApiError(res.status, describeError(data, res));
    return data;
  }

  const q = (params) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") p.set(k, v);
    const text = p.toString();
    return text ? "?" + text : "";
  };

  // -- toasts and the confirmation dialog ---------------------------------------------------------------

  function toast(title, text, kind = "ok") {
    const box = $("toasts");
    while (box.children.length >= MAX_TOASTS) box.firstElementChild.remove();
    const el = h(
      "div",
      { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" },
      h("strong", {}, title),
      text,
    );
    box.append(el);
    setTimeout(() => el.remove(), kind === "error" ? 10000 : 5000);
  }

  // Resolves to null when the person declines, else to { reason }.
  function confirmAction({ title, body, confirmLabel, danger = true, reason = null, reasonRequired = false }) {
    const dialog = $("confirm");
    $("confirm-title").textContent = title;
    $("confirm-body").textContent = body;
    const ok = $("confirm-ok");
    ok.textContent = confirmLabel;
    ok.className = danger ? "btn btn-danger" : "btn btn-primary";
    const label = $("confirm-reason-label");
    const input = $("confirm-reason");
    label.hidden = reason === null;
    input.value = reason || "";
    input.required = reasonRequired;
    return new Promise((resolve) => {
      dialog.addEventListener(
        "close",
        () => resolve(dialog.returnValue === "ok" ? { reason: input.value.trim() } : null),
        { once: true },
      );
      dialog.returnValue = "";
      dialog.showModal();
      (reason === null ? ok : input).focus();
    });
  }

  // A state change: confirm, send, report. A 401 opens the token banner.
  async function act(confirmSpec, request, success) {
    const answer = await confirmAction(confirmSpec);
    if (!answer) return;
    try {
      const result = await request(answer);
      toast("Done", success(result));
    } catch (e) {
      const status = e instanceof ApiError && e.status ? `${e.status}` : "error";
      toast(`Refused (${status})`, e.message, "error");
      if (e instanceof ApiError && e.status === 401) needToken(e.message);
    }
    poller.now();
  }

  // -- token --------------------------------------------------------------------------------------------

  function tokenState() {
    const has = !!sessionStorage.getItem(TOKEN_KEY);
    $("token-button").textContent = has ? "Token ✓" : "Token";
    $("token-forget").hidden = !has;
  }

  function showTokenBanner(title, reason) {
    $("token-title").textContent = title;
    $("token-reason").textContent = reason;
    $("token-banner").hidden = false;
    $("token-input").focus();
  }

  function needToken(message) {
    poller.blocked = true;
    $("main").classList.add("stale");
    setLive("token", "token required");
    showTokenBanner("Token required (401).", message);
  }

  function setupToken() {
    $("token-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const value = $("token-input").value.trim();
      if (!value) return;
      sessionStorage.setItem(TOKEN_KEY, value);
      $("token-input").value = "";
      $("token-banner").hidden = true;
      tokenState();
      poller.blocked = false;
      $("main").classList.remove("stale");
      poller.now();
    });
    $("token-forget").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      $("token-banner").hidden = true;
      tokenState();
      poller.now();
    });
    $("token-close").addEventListener("click", () => {
      $("token-banner").hidden = true;
    });
    $("token-button").addEventListener("click", () => {
      const has = !!sessionStorage.getItem(TOKEN_KEY);
      showTokenBanner(
        has ? "A token is set for this tab." : "No token set.",
        "The token is kept in this tab's session storage and sent as 'Authorization: Bearer'.",
      );
    });
    tokenState();
  }

  // -- live status and the poll loop --------------------------------------------------------------------

  function setLive(state, text) {
    $("live").dataset.state = state;
    $("live-text").textContent = text;
  }

  const poller = {
    timer: null,
    busy: false,
    again: false,
    failures: 0,
    blocked: false,

    now() {
      if (this.busy) {
        this.again = true;
        return;
      }
      this.tick();
    },

    async tick() {
      clearTimeout(this.timer);
      this.timer = null;
      if (this.blocked) return;
      this.busy = true;
      let delay = POLL_MS;
      try {
        await refreshAll();
        this.failures = 0;
        setLive("ok", "live · " + new Date().toLocaleTimeString([], { hour12: false }));
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
          this.busy = false;
          needToken(e.message);
          return;
        }
        this.failures += 1;
        delay = Math.min(POLL_MS * 2 ** this.failures, MAX_BACKOFF_MS);
        setLive("error", `${e.message}; retrying in ${Math.round(delay / 1000)} s`);
      } finally {
        this.busy = false;
      }
      if (this.again) {
        this.again = false;
        delay = 0;
      } else if (document.hidden) {
        delay = Math.max(delay, HIDDEN_POLL_MS);
      }
      this.timer = setTimeout(() => this.tick(), delay);
    },
  };

  // -- sections: re-render only when the data changed ---------------------------------------------------

  class Section {
    constructor(el, render) {
      this.el = el;
      this.render = render;
      this.sig = null;
      this.data = undefined;
    }

    update(data) {
      const sig = JSON.stringify(data);
      if (sig === this.sig) return;
      this.sig = sig;
      this.data = data;
      this.el.replaceChildren(...[this.render(data, this.el)].flat().filter(Boolean));
    }

    redraw() {
      if (this.data !== undefined) this.el.replaceChildren(...[this.render(this.data, this.el)].flat().filter(Boolean));
    }
  }

  function card(title, hint, ...body) {
    const head = h("div", { class: "card-head" }, h("h2", {}, title), hint ? h("span", { class: "hint" }, hint) : null);
    return h("section", { class: "card" }, head, ...body);
  }

  // -- charts (SVG) -------------------------------------------------------------------------------------

  function niceStep(span, count) {
    const raw = span / Math.max(1, count);
    const mag = 10 ** Math.floor(Math.log10(raw));
    const norm = raw / mag;
    return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  }

  function ticks(lo, hi, count, integer) {
    let step = niceStep(hi - lo || 1, count);
    if (integer) step = Math.max(1, Math.round(step));
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
    out.step = step;
    return out;
  }

  // Every tick label of an axis with the same number of decimals, as many as its step needs.
  const stepFormat = (step) => (v) => v.toFixed(Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9))));

  function padDomain(lo, hi, frac = 0.08) {
    if (!(hi > lo)) return [lo - 1, hi + 1];
    const pad = (hi - lo) * frac;
    return [lo - pad, hi + pad];
  }

  // A plot frame: axes, grid, labels; `layers(ctx)` returns the marks. ctx: { x, y (scales), left, right, top, bottom }.
  function plot({ width, height, x, y, xLabel, yLabel, xInteger = false, yFormat = null, title, layers, margin }) {
    const m = { l: 54, r: 14, t: title ? 24 : 10, b: xLabel ? 38 : 24, ...(margin || {}) };
    const left = m.l,
      right = width - m.r,
      top = m.t,
      bottom = height - m.b;
    const sx = (v) => left + ((v - x[0]) / (x[1] - x[0] || 1)) * (right - left);
    const sy = (v) => bottom - ((v - y[0]) / (y[1] - y[0] || 1)) * (bottom - top);
    const svg = s("svg", { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
    if (title) svg.append(s("text", { class: "title", x: left, y: 14 }, title));
    const grid = s("g", { class: "grid" });
    const axis = s("g", { class: "axis" });
    const yt = ticks(y[0], y[1], Math.max(3, Math.floor((bottom - top) / 42)));
    const yText = yFormat || stepFormat(yt.step);
    for (const v of yt) {
      grid.append(s("line", { x1: left, x2: right, y1: sy(v), y2: sy(v) }));
      axis.append(s("text", { x: left - 8, y: sy(v) + 3.5, "text-anchor": "end" }, minus(yText(v))));
    }
    const xt = ticks(x[0], x[1], Math.max(2, Math.floor((right - left) / 70)), xInteger);
    for (const v of xt) {
      axis.append(s("text", { x: sx(v), y: bottom + 15, "text-anchor": "middle" }, minus(compact(v))));
    }
    axis.append(s("line", { x1: left, x2: right, y1: bottom, y2: bottom }));
    if (xLabel)
      axis.append(
        s("text", { class: "axis-label", x: (left + right) / 2, y: height - 6, "text-anchor": "middle" }, xLabel),
      );
    if (yLabel) {
      axis.append(
        s(
          "text",
          {
            class: "axis-label",
            transform: `translate(13 ${(top + bottom) / 2}) rotate(-90)`,
            "text-anchor": "middle",
          },
          yLabel,
        ),
      );
    }
    svg.append(grid, axis);
    const ctx = { x: sx, y: sy, left, right, top, bottom };
    appendAll(svg, [layers(ctx)]);
    return svg;
  }

  const pathOf = (pts) => pts.map(([px, py], i) => `${i ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`).join("");

  // The drawing width of a container (its content box), so that SVG text is drawn at its real size.
  function widthOf(el, fallback) {
    let w = fallback;
    if (el && el.clientWidth) {
      const cs = getComputedStyle(el);
      w = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    }
    return Math.max(280, Math.floor(w));
  }

  // Elo of every rated model by generation, its 95% interval, and the anchors as reference lines.
  function eloChart(detail, container) {
    const models = detail.models;
    const rated = models.filter((m) => m.rating);
    if (!rated.length) {
      return empty("No rated games yet: models get an Elo once an evaluation has played games.");
    }
    const versions = models.map((m) => m.version);
    const values = rated.flatMap((m) => [m.rating.ci_low, m.rating.ci_high]).concat(detail.anchors.map((a) => a.elo));
    const x = [Math.min(...versions) - 0.5, Math.max(...versions) + 0.5];
    const y = padDomain(Math.min(...values), Math.max(...values), 0.06);
    const width = widthOf(container, 800);
    return plot({
      width,
      height: 300,
      x,
      y,
      xInteger: true,
      xLabel: "generation (model version)",
      yLabel: "Elo (random = 0)",
      margin: { r: 20 },
      layers: (c) => {
        const anchors = detail.anchors.map((a) =>
          s(
            "g",
            { class: "anchor" },
            s("line", { class: "anchor-line", x1: c.left, x2: c.right, y1: c.y(a.elo), y2: c.y(a.elo) }),
            s(
              "text",
              { class: "anchor-label", x: c.right - 4, y: c.y(a.elo) - 4, "text-anchor": "end" },
              `${a.name} ${elo(a.elo)}`,
            ),
            s("title", {}, `anchor ${a.name}: ${elo(a.elo)} [${elo(a.ci_low)}, ${elo(a.ci_high)}], ${a.games} games`),
          ),
        );
        const pts = rated.map((m) => [c.x(m.version), c.y(m.rating.elo)]);
        const upper = rated.map((m) => [c.x(m.version), c.y(m.rating.ci_high)]);
        const lower = rated.map((m) => [c.x(m.version), c.y(m.rating.ci_low)]).reverse();
        const band = rated.length > 1 ? s("path", { class: "ci-band", d: pathOf(upper.concat(lower)) + "Z" }) : null;
        const bars = rated.map((m) => {
          const px = c.x(m.version);
          const y1 = c.y(m.rating.ci_low),
            y2 = c.y(m.rating.ci_high);
          return s(
            "g",
            { class: "ci" },
            s("line", { x1: px, x2: px, y1, y2 }),
            s("line", { x1: px - 4, x2: px + 4, y1, y2: y1 }),
            s("line", { x1: px - 4, x2: px + 4, y1: y2, y2 }),
          );
        });
        const dots = rated.map((m) => {
          const cls = `elo-point${m.stage === "PRODUCTION" ? " production" : ""}${m.stage === "RETIRED" ? " retired" : ""}`;
          const r = m.rating;
          return s(
            "circle",
            {
              class: cls,
              cx: c.x(m.version),
              cy: c.y(r.elo),
              r: m.stage === "PRODUCTION" ? 6.5 : 5,
              dataset: { model: m.model_id },
              onclick: () => (location.hash = `#/model/${encodeURIComponent(m.model_id)}`),
            },
            s(
              "title",
              {},
              `${m.model_id} (${m.stage}): Elo ${elo(r.elo)} [${elo(r.ci_low)}, ${elo(r.ci_high)}], ${r.games} games`,
            ),
          );
        });
        const labels = rated.map((m) =>
          s("text", { class: "point-label", x: c.x(m.version) + 8, y: c.y(m.rating.elo) - 8 }, elo(m.rating.elo)),
        );
        return [anchors, band, bars, s("path", { class: "elo-line", d: pathOf(pts) }), dots, labels];
      },
    });
  }

  // The gate's log-likelihood ratio after each look, between its reject and accept bounds.
  function llrChart(d, container, { spark = false, width = 0 } = {}) {
    const path = d.llr_path || [];
    if (!path.length) return spark ? h("span", { class: "faint" }, "no LLR yet") : empty("No LLR recorded yet.");
    const lo = isNum(d.llr_lower) ? d.llr_lower : Math.min(...path);
    const hi = isNum(d.llr_upper) ? d.llr_upper : Math.max(...path);
    const y = padDomain(Math.min(lo, ...path, 0), Math.max(hi, ...path, 0), 0.1);
    const x = [path.length > 1 ? 1 : 0, Math.max(path.length, 2)];
    if (spark) {
      const width = 150,
        height = 40;
      const sx = (v) => 3 + ((v - x[0]) / (x[1] - x[0])) * (width - 6);
      const sy = (v) => height - 3 - ((v - y[0]) / (y[1] - y[0])) * (height - 6);
      return s(
        "svg",
        { class: "spark", width, height, viewBox: `0 0 ${width} ${height}` },
        s("title", {}, `LLR ${fmt(d.llr, 2)} after ${path.length} looks (bounds ${fmt(lo, 2)}, ${fmt(hi, 2)})`),
        s("line", { class: "zero-line", x1: 0, x2: width, y1: sy(0), y2: sy(0) }),
        s("line", { class: "bound-accept", x1: 0, x2: width, y1: sy(hi), y2: sy(hi) }),
        s("line", { class: "bound-reject", x1: 0, x2: width, y1: sy(lo), y2: sy(lo) }),
        s("path", { class: "llr-line", d: pathOf(path.map((v, i) => [sx(i + 1), sy(v)])) }),
      );
    }
    return plot({
      width: width || widthOf(container, 520),
      height: 220,
      x,
      y,
      xInteger: true,
      xLabel: "look (batch of games)",
      yLabel: "LLR",
      layers: (c) => [
        s("line", { class: "zero-line", x1: c.left, x2: c.right, y1: c.y(0), y2: c.y(0) }),
        s("line", { class: "bound-accept", x1: c.left, x2: c.right, y1: c.y(hi), y2: c.y(hi) }),
        s("text", { class: "bound-label-accept", x: c.left + 4, y: c.y(hi) - 4 }, `accept ${fmt(hi, 2)}`),
        s("line", { class: "bound-reject", x1: c.left, x2: c.right, y1: c.y(lo), y2: c.y(lo) }),
        s("text", { class: "bound-label-reject", x: c.left + 4, y: c.y(lo) + 13 }, `reject ${minus(fmt(lo, 2))}`),
        s("path", { class: "llr-line", d: pathOf(path.map((v, i) => [c.x(i + 1), c.y(v)])) }),
        path.map((v, i) =>
          s(
            "circle",
            { class: "llr-point", cx: c.x(i + 1), cy: c.y(v), r: 2.5 },
            s("title", {}, `look ${i + 1}: LLR ${fmt(v, 3)}`),
          ),
        ),
      ],
    });
  }

  // Train (solid) and validation (dashed) curves of one metric over epochs.
  function curveChart(history, metric, title, width) {
    const series = ["train", "val"]
      .map((split) => ({
        split,
        pts: history
          .filter((r) => isNum(r[`${split}/${metric}`]))
          .map((r, i) => [isNum(r.epoch) ? r.epoch : i + 1, r[`${split}/${metric}`]]),
      }))
      .filter((ser) => ser.pts.length);
    if (!series.length) return null;
    const xs = series.flatMap((ser) => ser.pts.map((p) => p[0]));
    const ys = series.flatMap((ser) => ser.pts.map((p) => p[1]));
    return plot({
      width,
      height: 200,
      x: [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)],
      y: padDomain(Math.min(...ys), Math.max(...ys), 0.1),
      xInteger: true,
      xLabel: "epoch",
      title,
      margin: { l: 46 },
      layers: (c) =>
        series.map((ser) => [
          s("path", { class: `series-${ser.split} curve`, d: pathOf(ser.pts.map(([a, b]) => [c.x(a), c.y(b)])) }),
          ser.pts.map(([a, b]) =>
            s(
              "circle",
              { class: `dot-${ser.split}`, cx: c.x(a), cy: c.y(b), r: 2.5 },
              s("title", {}, `${ser.split} ${metric}, epoch ${a}: ${compact(b)}`),
            ),
          ),
        ]),
    });
  }

  // -- shared renderers ---------------------------------------------------------------------------------

  // One evaluation; `chartWidth` draws its full LLR chart at that width instead of a sparkline.
  function decisionItem(d, { chartWidth = 0 } = {}) {
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
  function statusLine(job) {
    if (job.state === "failed" && (job.error_summary || job.error)) {
      return job.error_summary || job.error.split("\n")[0];
    }
    return job.message || job.state;
  }

  function jobProgress(job) {
    const done = job.state !== "queued" && job.state !== "running";
    const cls = job.state === "succeeded" ? "done" : done ? job.state : "";
    const bar = h("div", { class: `bar ${cls}` }, h("span", {}));
    bar.firstChild.style.width = `${Math.round((job.progress || 0) * 100)}%`;
    return h(
      "div",
      { class: "progress" },
      bar,
      h("span", { class: "progress-label", title: job.message || "" }, `${pct(job.progress)} · ${statusLine(job)}`),
    );
  }

  function cancelJob(job) {
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

  function jobsCompact(page, container) {
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

  // -- views --------------------------------------------------------------------------------------------

  let configs = [];

  function renderNav(route) {
    const nav = $("nav");
    const here = location.hash || "#/";
    const links = [["#/", "Overview"]];
    for (const c of configs) links.push([`#/config/${c.config_key}`, c.config_key]);
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

  class OverviewView {
    mount(main) {
      this.cards = new Section(h("div", { class: "configs" }), (data) => this.renderCards(data));
      this.cluster = new Section(h("div", { class: "tiles" }), (c) => this.renderCluster(c));
      main.append(
        h(
          "div",
          { class: "page-head" },
          h("div", {}, h("h1", {}, "Overview"), h("div", { class: "sub" }, "Every config key of this installation.")),
        ),
        this.cluster.el,
        this.cards.el,
      );
    }

    async refresh() {
      const cluster = await api("/api/cluster");
      this.cluster.update(cluster);
      this.cards.update(configs);
    }

    renderCluster(c) {
      const alive = c.nodes.filter((n) => n.alive);
      const tile = (label, value, note) =>
        h(
          "div",
          { class: "tile" },
          h("div", { class: "label" }, label),
          h("div", { class: "value" }, value),
          note ? h("div", { class: "note" }, note) : null,
        );
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
      return data.map((c) => {
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
            h("dd", {}, r ? `${elo(r.elo)}  [${elo(r.ci_low)}, ${elo(r.ci_high)}]` : "–"),
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
      });
    }
  }

  class ConfigView {
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
      this.tiles.update({ detail, jobs: configs.find((c) => c.config_key === this.key) || null, recs: recs.length });
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
      const rollback = h(
        "button",
        { class: "btn btn-outline-danger", type: "button", id: "rollback" },
        "Roll back production",
      );
      rollback.addEventListener("click", () =>
        act(
          {
            title: `Roll back ${d.config_key}?`,
            body: `${prod ? prod.model_id + " is retired and the" : "The"} previous production model of ${d.config_key} returns to PRODUCTION.`,
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
      return h(
        "div",
        { class: "page-head" },
        h(
          "div",
          {},
          h("div", { class: "crumbs" }, h("a", { href: "#/" }, "Overview"), " / config key"),
          h("h1", { class: "mono" }, d.config_key),
          h(
            "div",
            { class: "sub" },
            "Production: ",
            prod ? modelLink(prod.model_id) : h("span", {}, "none yet"),
            prod && prod.rating
              ? h(
                  "span",
                  { class: "pill" },
                  `Elo ${elo(prod.rating.elo)} [${elo(prod.rating.ci_low)}, ${elo(prod.rating.ci_high)}]`,
                )
              : null,
          ),
        ),
        h("div", { class: "actions" }, rollback),
      );
    }

    renderTiles({ detail, jobs, recs }) {
      const rated = detail.models.filter((m) => m.rating);
      const best = rated.reduce((a, m) => (!a || m.rating.elo > a.rating.elo ? m : a), null);
      const tile = (label, value, note) =>
        h(
          "div",
          { class: "tile" },
          h("div", { class: "label" }, label),
          h("div", { class: "value" }, value),
          note ? h("div", { class: "note" }, note) : null,
        );
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
              onclick: () => (location.hash = `#/model/${encodeURIComponent(m.model_id)}`),
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
      const recItems = recs.map((r) =>
        h(
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
        ),
      );
      const appliedItems = applied.data.map((a) =>
        h(
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
        ),
      );
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

  // A table with one header row; a header is a label, or [label, class].
  function table(attrs, headers, body) {
    const th = (x) => (Array.isArray(x) ? h("th", { class: x[1] }, x[0]) : h("th", {}, x));
    return h("table", attrs, h("thead", {}, h("tr", {}, headers.map(th))), body);
  }

  function hyperText(v) {
    if (v === null || v === undefined) return "–";
    if (Array.isArray(v)) return v.map(hyperText).join(", ");
    if (typeof v === "object")
      return Object.entries(v)
        .map(([k, x]) => `${k} ${hyperText(x)}`)
        .join(" · ");
    return String(v);
  }

  function changesText(r) {
    const entries = Object.entries(r.changes || {});
    return entries.map(([k, v]) => (r.kind === "MULTIPLY" ? `${k} ×${compact(v)}` : `${k} → ${compact(v)}`)).join(", ");
  }

  class ModelView {
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
      return h(
        "div",
        { class: "page-head" },
        h(
          "div",
          {},
          h(
            "div",
            { class: "crumbs" },
            h("a", { href: "#/" }, "Overview"),
            " / ",
            h("a", { href: `#/config/${model.config_key}` }, model.config_key),
            " / model",
          ),
          h("h1", { class: "mono" }, model.model_id),
          h(
            "div",
            { class: "sub" },
            stageBadge(model.stage),
            summary && summary.rating
              ? h(
                  "span",
                  { class: "pill" },
                  `Elo ${elo(summary.rating.elo)} [${elo(summary.rating.ci_low)}, ${elo(summary.rating.ci_high)}] · ${summary.rating.games} games`,
                )
              : h("span", { class: "muted" }, "unrated"),
            h("span", { class: "muted" }, "created ", when(model.created_at)),
          ),
        ),
        h("div", { class: "actions" }, buttons),
      );
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

  class JobsView {
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
        const el = h(
          "select",
          { name, id: `filter-${name}` },
          h("option", { value: "" }, "all"),
          options.map((o) => h("option", { value: o }, o)),
        );
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
      this.cluster = new Section(h("div", { class: "tiles" }), (c) => [
        h(
          "div",
          { class: "tile" },
          h("div", { class: "label" }, "Running"),
          h("div", { class: "value" }, String(c.running)),
          h("div", { class: "note" }, `of ${c.slots} slots`),
        ),
        h(
          "div",
          { class: "tile" },
          h("div", { class: "label" }, "Queued"),
          h("div", { class: "value" }, String(c.queued)),
        ),
        h(
          "div",
          { class: "tile" },
          h("div", { class: "label" }, "Succeeded"),
          h("div", { class: "value" }, String(c.jobs_by_state.succeeded || 0)),
        ),
        h(
          "div",
          { class: "tile" },
          h("div", { class: "label" }, "Failed"),
          h("div", { class: "value" }, String(c.jobs_by_state.failed || 0)),
        ),
        h(
          "div",
          { class: "tile" },
          h("div", { class: "label" }, "Nodes"),
          h("div", { class: "value" }, String(c.nodes.filter((n) => n.alive).length)),
          h(
            "div",
            { class: "note" },
            c.nodes
              .filter((n) => n.alive)
              .map((n) => `${n.id} (${n.executor})`)
              .join(", ") || "none alive",
          ),
        ),
      ]);
      this.tbody = h("tbody");
      this.count = h("span");
      this.prev = h("button", { class: "btn btn-small", type: "button", onclick: () => this.page(-1) }, "← Newer");
      this.next = h("button", { class: "btn btn-small", type: "button", onclick: () => this.page(1) }, "Older →");
      this.emptyNote = empty("No jobs match these filters.");
      main.append(
        h(
          "div",
          { class: "page-head" },
          h(
            "div",
            {},
            h("h1", {}, "Jobs"),
            h(
              "div",
              { class: "sub" },
              "Selfplay, training, evaluation and pipeline jobs of every node sharing this database.",
            ),
          ),
        ),
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
        configs.map((c) => c.config_key),
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
      select.replaceChildren(
        h("option", { value: "" }, "all"),
        values.map((v) => h("option", { value: v }, v)),
      );
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
          const done = job.state !== "queued" && job.state !== "running";
          bar.className = `bar ${job.state === "succeeded" ? "done" : done ? job.state : ""}`;
          bar.firstChild.style.width = `${Math.round((job.progress || 0) * 100)}%`;
          set(label, `${pct(job.progress)} · ${statusLine(job)}`);
          label.title = job.message || "";
          set(cells.attempts, `${job.attempts}/${job.max_attempts}`);
          set(cells.node, job.node_id || "–");
          set(cells.created, ago(job.created_at));
          cells.created.title = new Date(job.created_at).toLocaleString();
          set(cells.duration, job.started_at ? duration(job.started_at, job.finished_at) : "–");
          cancel.hidden = done;
        },
        detail: (job, log) => {
          const sig = JSON.stringify([job, log]);
          if (detailRow && sig === detailSig) return detailRow;
          detailSig = sig;
          const json = (x) => JSON.stringify(x, null, 2);
          detailRow = h(
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
          return detailRow;
        },
      };
    }
  }

  // Stored games as a table whose rows open the viewer.
  function gameList(data, id) {
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

  // Stored games: a list, and a viewer that steps through one game move by move with the model's view.
  class GamesView {
    constructor(params) {
      this.configKey = params.get("config_key") || "";
    }

    mount(main) {
      this.list = new Section(h("div"), (data) => this.renderList(data));
      main.append(card("Games", "arena and selfplay games, newest first; click one to step through it", this.list.el));
    }

    async refresh() {
      const query = q({ config_key: this.configKey, limit: 100 });
      this.list.update(await api(`/api/games${query}`));
    }

    renderList(data) {
      if (!data.count) return h("p", { class: "empty" }, "No stored games yet.");
      return gameList(data, "games");
    }
  }

  class GameView {
    constructor(id) {
      this.id = id;
      this.game = null;
      this.ply = 0;
    }

    mount(main) {
      this.body = h("div", { class: "game-viewer" }, h("p", { class: "empty" }, "loading…"));
      main.append(card(`Game ${this.id}`, "← → step through the moves", this.body));
      this.onKey = (e) => {
        if (!this.game || !document.body.contains(this.body)) return document.removeEventListener("keydown", this.onKey);
        if (e.key === "ArrowRight") this.go(this.ply + 1);
        if (e.key === "ArrowLeft") this.go(this.ply - 1);
      };
      document.addEventListener("keydown", this.onKey);
    }

    async refresh() {
      if (this.game) return; // a finished game never changes
      this.game = await api(`/api/games/${encodeURIComponent(this.id)}`);
      this.draw();
    }

    go(ply) {
      this.ply = Math.max(0, Math.min(this.game.positions.length - 1, ply));
      this.draw();
    }

    draw() {
      const g = this.game;
      const last = g.positions.length - 1;
      const p = g.positions[this.ply];
      const button = (text, ply, label) =>
        h("button", { class: "btn", type: "button", "aria-label": label, onclick: () => this.go(ply) }, text);
      const slider = h("input", { type: "range", min: 0, max: last, value: this.ply, "aria-label": "move" });
      slider.addEventListener("input", () => this.go(Number(slider.value)));
      const seats = g.players.map((name, i) => `seat ${i}: ${name}`).join(" · ");
      const played =
        p.to_move === null ? "game over" : p.move === null ? "end of record" : `next: ${p.move}${p.in_opening ? " (random opening)" : ""}`;
      const model = p.model
        ? h(
            "div",
            { class: "game-model" },
            h("div", {}, `${p.model.model}: value by seat ${p.model.value.map((v) => v.toFixed(2)).join(" / ")}`),
            h("div", {}, "priors: " + p.model.top.map((t) => `${t.move} ${(t.prior * 100).toFixed(1)}%`).join(", ")),
          )
        : h("div", { class: "hint" }, p.to_move === null ? "" : "no network view (anchor or unregistered model)");
      this.body.replaceChildren(
        h("div", { class: "hint" }, `${g.config_key} · ${g.source} · ${seats}`),
        h(
          "div",
          { class: "game-controls" },
          button("⏮", 0, "first"),
          button("◀", this.ply - 1, "previous"),
          slider,
          button("▶", this.ply + 1, "next"),
          button("⏭", last, "last"),
          h("span", { class: "game-ply" }, `move ${this.ply} of ${last} · ${played}`),
        ),
        h("pre", { class: "game-board" }, p.board),
        model,
        this.ply === last ? h("div", {}, `returns by seat: ${g.returns.join(", ")}`) : null,
        g.replay_error && this.ply === last ? h("div", { class: "reason" }, g.replay_error) : null,
      );
    }
  }

  // -- routing ------------------------------------------------------------------------------------------

  function parseRoute() {
    const raw = location.hash.replace(/^#/, "") || "/";
    const [path, query] = raw.split("?");
    const params = new URLSearchParams(query || "");
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] === "config" && parts[1]) return { page: "config", key: parts[1], params };
    if (parts[0] === "model" && parts[1]) return { page: "model", id: parts[1], key: configOf(parts[1]), params };
    if (parts[0] === "jobs") return { page: "jobs", params };
    if (parts[0] === "games") return { page: "games", params };
    if (parts[0] === "game" && parts[1]) return { page: "game", id: parts[1], params };
    return { page: "overview", params };
  }

  let route = null;
  let view = null;

  function navigate() {
    route = parseRoute();
    const main = $("main");
    main.replaceChildren();
    view =
      route.page === "config"
        ? new ConfigView(route.key)
        : route.page === "model"
          ? new ModelView(route.id)
          : route.page === "jobs"
            ? new JobsView(route.params)
            : route.page === "games"
              ? new GamesView(route.params)
              : route.page === "game"
                ? new GameView(route.id)
                : new OverviewView();
    view.mount(main);
    document.title = `zeroloop · ${route.page === "config" ? route.key : route.id || route.page}`;
    window.scrollTo(0, 0);
    renderNav(route);
    poller.now();
  }

  async function refreshAll() {
    const current = view;
    configs = (await api("/api/configs")).data;
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

  setupToken();
  showNode();
  navigate();
})();
