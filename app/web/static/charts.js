// Charts drawn as SVG by the page itself (nothing is fetched from outside): a plot frame with axes and grid, and
// on it the Elo by generation, the gate's LLR and training curves.

import { appendAll, h, s } from "./dom.js";
import { compact, elo, eloInterval, empty, fmt, isNum, minus, modelHref } from "./format.js";

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
export function widthOf(el, fallback) {
  let w = fallback;
  if (el && el.clientWidth) {
    const cs = getComputedStyle(el);
    w = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  }
  return Math.max(280, Math.floor(w));
}

// The anchors as labelled reference lines across the plot `c`.
const anchorMarks = (anchors, c) =>
  anchors.map((a) =>
    s(
      "g",
      { class: "anchor" },
      s("line", { class: "anchor-line", x1: c.left, x2: c.right, y1: c.y(a.elo), y2: c.y(a.elo) }),
      s(
        "text",
        { class: "anchor-label", x: c.right - 4, y: c.y(a.elo) - 4, "text-anchor": "end" },
        `${a.name} ${elo(a.elo)}`,
      ),
      s("title", {}, `anchor ${a.name}: ${eloInterval(a)}, ${a.games} games`),
    ),
  );

// Elo of every rated model by generation, its 95% interval, and the anchors as reference lines.
export function eloChart(detail, container) {
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
      const anchors = anchorMarks(detail.anchors, c);
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
            onclick: () => (location.hash = modelHref(m.model_id)),
          },
          s("title", {}, `${m.model_id} (${m.stage}): Elo ${eloInterval(r)}, ${r.games} games`),
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
export function llrChart(d, container, { spark = false, width = 0 } = {}) {
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
export function curveChart(history, metric, title, width) {
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

// Every run's production line on one plot: Elo (the config key's one anchored fit) by model version, which counts
// across the runs and so orders their models in time; a run's line starts at its fork point when that is rated.
export function runsChart(d, container) {
  const ratingOf = {};
  for (const r of d.data) for (const g of r.generations) if (g.rating) ratingOf[g.model_id] = g;
  const lines = d.data.map((r, i) => {
    const pts = r.generations.filter((g) => g.rating);
    const fork = r.fork_model_id && ratingOf[r.fork_model_id];
    return { run: r.run, index: i, fork: fork || null, pts };
  });
  const rated = lines.flatMap((l) => l.pts);
  if (!rated.length) return empty("No rated production models yet.");
  const all = rated.concat(lines.filter((l) => l.fork).map((l) => l.fork));
  const versions = all.map((g) => g.version);
  const values = all.flatMap((g) => [g.rating.ci_low, g.rating.ci_high]).concat(d.anchors.map((a) => a.elo));
  return plot({
    width: widthOf(container, 800),
    height: 300,
    x: [Math.min(...versions) - 0.5, Math.max(...versions) + 0.5],
    y: padDomain(Math.min(...values), Math.max(...values), 0.06),
    xInteger: true,
    xLabel: "model version (one count across the runs)",
    yLabel: "Elo (random = 0)",
    margin: { r: 20 },
    layers: (c) => [
      anchorMarks(d.anchors, c),
      lines.map((l) => {
        const cls = `run-${l.index % 6}`;
        const path = (l.fork ? [l.fork] : []).concat(l.pts).map((g) => [c.x(g.version), c.y(g.rating.elo)]);
        const dots = l.pts.map((g) =>
          s(
            "circle",
            {
              class: `run-point ${cls}`,
              cx: c.x(g.version),
              cy: c.y(g.rating.elo),
              r: 5,
              dataset: { model: g.model_id, run: l.run },
              onclick: () => (location.hash = modelHref(g.model_id)),
            },
            s("title", {}, `${g.model_id} (run ${l.run}): Elo ${eloInterval(g.rating)}, ${g.rating.games} games`),
          ),
        );
        return s("g", { class: "run-line", dataset: { run: l.run } }, s("path", { class: `run-path ${cls}`, d: pathOf(path) }), dots);
      }),
    ],
  });
}
