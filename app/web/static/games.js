// Stored games (#/games): a list, and a viewer (#/game/ID) that steps through one game move by move with the
// model's view.

import { h } from "./dom.js";
import { api, q } from "./api.js";
import { Section, card } from "./ui.js";
import { gameList } from "./widgets.js";

export class GamesView {
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

export class GameView {
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
