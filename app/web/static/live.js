// The token banner and the poll loop: one loop refreshes the open page (every 2 s, backing off on errors,
// slower in a hidden tab); a 401 stops it until a token is given.

import { $ } from "./dom.js";
import { ApiError, TOKEN_KEY } from "./api.js";

const POLL_MS = 2000;
const MAX_BACKOFF_MS = 60000;
const HIDDEN_POLL_MS = 15000;

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

export function needToken(message) {
  poller.blocked = true;
  $("main").classList.add("stale");
  setLive("token", "token required");
  showTokenBanner("Token required (401).", message);
}

export function setupToken() {
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

export const poller = {
  refresh: async () => {}, // the open page's refresh, set by main.js
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
      await this.refresh();
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
