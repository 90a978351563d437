// The node's JSON API: `api(path, {method, body})` sends the tab's token and throws `ApiError` (status 0 when
// the node did not answer); `q` builds a query string; `shared` holds what the last poll read for every page.

const REQUEST_TIMEOUT_MS = 15000;
export const TOKEN_KEY = "zeroloop.token";

export class ApiError extends Error {
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

export async function api(path, { method = "GET", body } = {}) {
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

export const q = (params) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") p.set(k, v);
  const text = p.toString();
  return text ? "?" + text : "";
};

// The config keys of the installation as the last poll read them (the nav and the overview show them).
export const shared = { configs: [] };
