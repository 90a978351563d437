// Numbers, times, names and the small badges and links every view shows.

import { h } from "./dom.js";

export const STAGES = ["TRAINING", "EVALUATION", "STAGING", "PRODUCTION", "RETIRED"];

export const isNum = (x) => typeof x === "number" && Number.isFinite(x);
export const fmt = (x, digits = 0) => (isNum(x) ? x.toFixed(digits) : "–");
export const signed = (x, digits = 0) => (isNum(x) ? (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(digits) : "–");
export const minus = (text) => text.replace(/^-/, "−");
export const elo = (x) => (isNum(x) ? minus(x.toFixed(0)) : "–");
export const pct = (x) => (isNum(x) ? Math.round(x * 100) + "%" : "–");
export const short = (id) => (id ? id.slice(0, 8) : "–");

export function compact(x) {
  if (!isNum(x)) return String(x);
  if (Number.isInteger(x)) return x.toLocaleString("en-US");
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 1) return x.toFixed(2);
  if (a >= 0.01) return x.toFixed(3);
  return x.toPrecision(2);
}

export function ago(iso) {
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

export function duration(fromIso, toIso) {
  if (!fromIso) return "–";
  const end = toIso ? Date.parse(toIso) : Date.now();
  const sec = Math.max(0, (end - Date.parse(fromIso)) / 1000);
  if (sec < 60) return sec.toFixed(sec < 10 ? 1 : 0) + " s";
  if (sec < 3600) return Math.floor(sec / 60) + " min " + Math.floor(sec % 60) + " s";
  return Math.floor(sec / 3600) + " h " + Math.floor((sec % 3600) / 60) + " min";
}

export const when = (iso) => h("span", { class: "nowrap", title: iso ? new Date(iso).toLocaleString() : "" }, ago(iso));
export const stageBadge = (stage) => h("span", { class: `badge stage-${stage}` }, stage);
export const stateBadge = (state) => h("span", { class: `badge state-${state}` }, state);
// An Elo with its 95% interval, "123 [100, 146]".
export const eloInterval = (r) => `${elo(r.elo)} [${elo(r.ci_low)}, ${elo(r.ci_high)}]`;
export const modelHref = (id) => `#/model/${encodeURIComponent(id)}`;
export const modelLink = (id) => (id ? h("a", { href: modelHref(id), class: "mono" }, id) : "–");
export const empty = (text) => h("div", { class: "empty" }, text);
// A model id is KEY_vN in the main run and KEY_RUN_vN in another (hex8_2p_wide_v7).
export const configOf = (modelId) => ((modelId || "").match(/^[a-z][a-z0-9]*_[1-9][0-9]*p/) || [""])[0];
export const isModelId = (name) => /^[a-z][a-z0-9]*_[1-9][0-9]*p(_[a-z][a-z0-9-]{0,31})?_v[0-9]+$/.test(name || "");
