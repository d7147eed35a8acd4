// Calls to the vault's API and its sign-in provider, and the page's
// small DOM helpers. Everything is rendered with textContent: nothing the
// API or the provider sends is taken as markup.

import { strictJSON } from "./verify.js";

export const base = new URL(".", location.href); // the portal's own path
const origin = location.origin;

// Problem is an RFC 9457 answer; errors lists its bad fields by JSON
// pointer (/document/title), as the API names them.
export class Problem extends Error {
  constructor(status, body) {
    super(body.detail || body.title || body.error_description || `the vault answered ${status}`);
    this.status = status;
    this.type = body.type || "";
    this.errors = body.errors || [];
  }
}

export async function json(url, opts = {}) {
  const r = await fetch(url, opts);
  // Decoded as Go would read it: invalid UTF-8 or a byte-order mark is
  // refused, not replaced or dropped as Response.text does.
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(await r.arrayBuffer());
  } catch {
    throw new Problem(r.status, { detail: "the answer is not UTF-8" });
  }
  let body = {};
  try { body = text ? strictJSON(text) : {}; } catch (e) { if (r.ok) throw new Problem(r.status, { detail: "the answer is not strict JSON: " + e.message }); }
  if (!r.ok) throw new Problem(r.status, body);
  return body;
}

export const token = () => sessionStorage.getItem("idToken");

// call sends a request to the API as the signed-in user; tenant names the
// granting tenant an auditor reads in (Vault-Tenant). An ID token refused
// (it expired: an hour on Cognito) is renewed once with the refresh
// token and the request sent again, so that an audit or a long upload
// outlives it. Refused means any 401 but a sign-off's
// reauthentication-required, which a renewal cannot meet: the deployed
// API's gateway answers an expired token before the vault does, with no
// problem type. A request refused for its token is refused before
// anything is stored, so sending it again is safe.
export async function call(path, { tenant, method = "GET", body, headers = {} } = {}) {
  const send = (tok) => {
    const h = { Authorization: "Bearer " + tok, ...headers };
    if (tenant) h["Vault-Tenant"] = tenant;
    if (body !== undefined) h["Content-Type"] = "application/json";
    return json(origin + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  };
  const sent = token();
  try {
    return await send(sent);
  } catch (e) {
    if (!(e instanceof Problem) || e.status !== 401 || e.type.endsWith("/reauthentication-required")) throw e;
    if (!(await renew(sent))) throw e;
    return send(token());
  }
}

// --- sign-in: authorization code with PKCE (RFC 7636) ---------------------

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const redirect = new URL("callback", base).href;

async function provider() {
  const cfg = await json(origin + "/v1/auth/config");
  const disc = await json(cfg.issuer.replace(/\/$/, "") + "/.well-known/openid-configuration");
  return { cfg, disc };
}

export async function signIn() {
  const { cfg, disc } = await provider();
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem("pkce", JSON.stringify({ verifier, state, back: location.hash }));
  const u = new URL(disc.authorization_endpoint);
  u.search = new URLSearchParams({
    response_type: "code", client_id: cfg.clientId, redirect_uri: redirect, scope: cfg.scopes.join(" "),
    state, code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(u.href);
}

export async function callback(params) {
  const saved = JSON.parse(sessionStorage.getItem("pkce") || "{}");
  sessionStorage.removeItem("pkce");
  if (!saved.state || params.get("state") !== saved.state) throw new Error("the sign-in answer is not this page's; sign in again");
  if (params.get("error")) throw new Error("the provider refused the sign-in: " + params.get("error"));
  const { cfg, disc } = await provider();
  const tok = await json(disc.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: params.get("code"), redirect_uri: redirect, client_id: cfg.clientId, code_verifier: saved.verifier }),
  });
  keep(tok);
  history.replaceState(null, "", base.href + (saved.back || ""));
}

// keep stores a token answer for this tab only. Cognito answers a refresh
// without a new refresh token (the old one stays good); providers that
// rotate them (the dev provider) send the next one.
function keep(tok) {
  if (typeof tok?.id_token !== "string" || !tok.id_token) throw new Error("the provider's answer holds no ID token");
  sessionStorage.setItem("idToken", tok.id_token);
  if (typeof tok.refresh_token === "string" && tok.refresh_token) sessionStorage.setItem("refreshToken", tok.refresh_token);
}

// Tabs opened from this one share its sign-in (the browser copies
// sessionStorage into them), so they share a refresh token that a
// rotating provider takes once: the tab that renews tells the others,
// and renewals take turns across tabs (Web Locks).
const signIns = new BroadcastChannel("evidence-vault-sign-in");
signIns.onmessage = ({ data }) => {
  if (data?.was && data.was === sessionStorage.getItem("refreshToken")) {
    try { keep(data.tok); } catch { /* not a token answer: ignored */ }
  }
};

const unreachable = (e) => {
  throw new Error("the sign-in could not be renewed (the provider did not answer); try again: " + e.message);
};

// renew trades the refresh token for a new ID token in place of refused,
// once for all the calls refused together. False when there is no
// refresh token or the provider refuses it (an OAuth error): the user
// signs in again. When the provider cannot be reached it throws and
// keeps the refresh token, which is still good.
let renewing = null;
function renew(refused) {
  renewing ??= navigator.locks.request("evidence-vault-renew", async () => {
    if (token() !== refused) return true; // another tab renewed it meanwhile
    const rt = sessionStorage.getItem("refreshToken");
    if (!rt) return false;
    const { cfg, disc } = await provider().catch(unreachable);
    let tok;
    try {
      tok = await json(disc.token_endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: rt, client_id: cfg.clientId }),
      });
    } catch (e) {
      if (!(e instanceof Problem) || e.status >= 500) unreachable(e);
      if (sessionStorage.getItem("refreshToken") !== rt) return true; // rotated by another tab
      sessionStorage.removeItem("refreshToken");
      return false;
    }
    keep(tok);
    signIns.postMessage({ was: rt, tok });
    return true;
  }).finally(() => { renewing = null; });
  return renewing;
}

// --- DOM ---------------------------------------------------------------

export function el(tag, text, attrs = {}, ...children) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== false) e.setAttribute(k, v === true ? "" : v);
  e.append(...children);
  return e;
}

export function button(text, onClick, attrs = {}) {
  const b = el("button", text, { type: "button", ...attrs });
  b.addEventListener("click", onClick);
  return b;
}

export const link = (text, hash, attrs = {}) => el("a", text, { href: "#" + hash, ...attrs });

export function problemNode(err) {
  const p = el("div", undefined, { class: "problem", role: "alert" }, el("p", err.message));
  if (err.errors && err.errors.length) {
    const ul = el("ul");
    for (const f of err.errors) ul.append(el("li", `${f.pointer}: ${f.detail}`));
    p.append(ul);
  }
  return p;
}

export const when = (t) => (t ? new Date(t).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC") : "");
export const day = (t) => (t ? String(t).slice(0, 10) : "");
export function bytes(n) {
  const u = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + " " + u[i];
}

// table builds a table with a caption, column headers and rows of cells
// (strings or nodes).
export function table(caption, heads, rows) {
  const t = el("table", undefined, {}, el("caption", caption));
  const head = el("tr");
  for (const h of heads) head.append(el("th", h, { scope: "col" }));
  t.append(el("thead", undefined, {}, head));
  const body = el("tbody");
  for (const r of rows) {
    const tr = el("tr");
    for (const c of r) tr.append(typeof c === "object" && c !== null ? el("td", undefined, {}, c) : el("td", c ?? ""));
    body.append(tr);
  }
  t.append(body);
  return t;
}
