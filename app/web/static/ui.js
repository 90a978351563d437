// Pieces every view is built of: toasts, the confirmation dialog and `act` (confirm, send, report), sections
// that re-render only when their data changed, cards, tiles, tables and page heads.

import { $, h } from "./dom.js";
import { ApiError } from "./api.js";
import { needToken, poller } from "./live.js";

const MAX_TOASTS = 4;

export function toast(title, text, kind = "ok") {
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
export async function act(confirmSpec, request, success) {
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

// Re-renders only when the data changed.
export class Section {
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

export function card(title, hint, ...body) {
  const head = h("div", { class: "card-head" }, h("h2", {}, title), hint ? h("span", { class: "hint" }, hint) : null);
  return h("section", { class: "card" }, head, ...body);
}

// A table with one header row; a header is a label, or [label, class].
export function table(attrs, headers, body) {
  const th = (x) => (Array.isArray(x) ? h("th", { class: x[1] }, x[0]) : h("th", {}, x));
  return h("table", attrs, h("thead", {}, h("tr", {}, headers.map(th))), body);
}

// A figure with its label and an optional note under it.
export const tile = (label, value, note) =>
  h(
    "div",
    { class: "tile" },
    h("div", { class: "label" }, label),
    h("div", { class: "value" }, value),
    note ? h("div", { class: "note" }, note) : null,
  );

// The head of a page: breadcrumbs, its title (`mono` for ids), a line under it and its buttons.
export function pageHead({ crumbs = null, title, mono = false, sub, actions = null }) {
  return h(
    "div",
    { class: "page-head" },
    h(
      "div",
      {},
      crumbs ? h("div", { class: "crumbs" }, crumbs) : null,
      h("h1", mono ? { class: "mono" } : {}, title),
      h("div", { class: "sub" }, sub),
    ),
    actions ? h("div", { class: "actions" }, actions) : null,
  );
}
