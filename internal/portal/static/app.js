// The portal's page: sign-in (authorization code with PKCE, RFC 7636) and
// the dossiers the signed-in user may read. Everything is rendered with
// textContent: nothing the API or the provider sends is taken as markup.

const base = new URL(".", location.href); // the portal's own path
const api = location.origin;
const app = document.getElementById("app");
const who = document.getElementById("who");

function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function show(...nodes) {
  app.replaceChildren(...nodes);
}

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function json(url, opts = {}) {
  const r = await fetch(url, opts);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw Object.assign(new Error(body.detail || body.error_description || r.statusText), { status: r.status });
  return body;
}

async function provider() {
  const cfg = await json(api + "/v1/auth/config");
  const disc = await json(cfg.issuer.replace(/\/$/, "") + "/.well-known/openid-configuration");
  return { cfg, disc };
}

const redirect = new URL("callback", base).href;

async function signIn() {
  const { cfg, disc } = await provider();
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem("pkce", JSON.stringify({ verifier, state }));
  const u = new URL(disc.authorization_endpoint);
  u.search = new URLSearchParams({
    response_type: "code", client_id: cfg.clientId, redirect_uri: redirect, scope: cfg.scopes.join(" "),
    state, code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(u.href);
}

async function callback(params) {
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
  sessionStorage.setItem("idToken", tok.id_token);
  history.replaceState(null, "", base.href);
}

function call(path, tenant) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem("idToken") };
  if (tenant) headers["Vault-Tenant"] = tenant;
  return json(api + path, { headers });
}

async function dossiers(tenant) {
  const list = await call("/v1/dossiers", tenant);
  const h = el("h2", "Dossiers of " + tenant);
  if (list.dossiers.length === 0) return [h, el("p", "No dossier here yet.")];
  const t = el("table");
  const head = el("tr");
  for (const c of ["Dossier", "Basic UDI-DI", "Regulation", "Class"]) head.append(el("th", c, { scope: "col" }));
  t.append(el("caption", "Dossiers you may read in " + tenant), head);
  for (const d of list.dossiers) {
    const row = el("tr");
    for (const c of [d.name, d.basicUdiDi, d.regulation, d.riskClass]) row.append(el("td", c));
    t.append(row);
  }
  return [h, t];
}

async function home() {
  const me = await call("/v1/me");
  const id = me.identity;
  who.textContent = `Signed in as ${id.subject}, ${id.role}` + (id.home ? ` of ${id.home}` : "");
  const out = el("button", "Sign out", { type: "button" });
  out.addEventListener("click", () => { sessionStorage.clear(); location.assign(base.href); });
  if (id.role !== "auditor") {
    show(...(await dossiers(id.home)), out);
    return;
  }
  const tenants = [...new Set(me.grants.map((g) => g.tenant))].sort();
  if (tenants.length === 0) {
    show(el("p", "No tenant has granted you access yet. Ask the manufacturer's team to grant you their dossiers."), out);
    return;
  }
  const nav = el("nav", undefined, { "aria-label": "Tenants that granted you access" });
  const list = el("ul");
  const panel = el("section", undefined, { "aria-live": "polite" });
  for (const t of tenants) {
    const b = el("button", "Open " + t, { type: "button" });
    b.addEventListener("click", async () => panel.replaceChildren(...(await dossiers(t).catch(problem))));
    const li = el("li");
    li.append(b);
    list.append(li);
  }
  nav.append(el("h2", "Granted to you"), list);
  show(nav, panel, out);
}

function problem(err) {
  return [el("p", err.message, { class: "problem", role: "alert" })];
}

async function main() {
  try {
    const params = new URLSearchParams(location.search);
    if (location.pathname.endsWith("/callback") && params.has("state")) await callback(params);
    if (!sessionStorage.getItem("idToken")) {
      const b = el("button", "Sign in", { type: "button" });
      b.addEventListener("click", () => signIn().catch((e) => show(...problem(e))));
      show(el("p", "Sign in with your organisation's account to see the dossiers you may read."), b);
      return;
    }
    await home();
  } catch (e) {
    if (e.status === 401) sessionStorage.removeItem("idToken");
    show(...problem(e));
  }
}

main();
