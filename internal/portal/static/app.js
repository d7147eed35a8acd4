// The portal's page: sign-in, then what the signed-in user may read and,
// for a tenant's members, upload. Routes live in the fragment:
//   #/                              home: tenants (auditors) or dossiers
//   #/t/{tenant}/d/{dossier}        a dossier's documents by Annex section
//   #/t/{tenant}/d/{dossier}/v/{path}  one document's versions
//   #/t/{tenant}/d/{dossier}/completeness  which Annex sections have approved evidence
//   #/t/{tenant}/access             the access trail
//   #/t/{tenant}/verify             check a file in hand against its receipt
// {tenant} is "-" for a member's own tenant.

import { call, el, button, link, table, problemNode, when, day, bytes, signIn, callback, token, base } from "./api.js";
import { download, receiptCard, checkList, receiptOf, verifyInHand, FailedChecks, save, logView, setHome } from "./download.js";
import { dossierForm, documentForm } from "./upload.js";
import { forgetPin, parseKey, keepPin } from "./verify.js";
import { exportDossier } from "./export.js";
import { keptPolicy, keepPolicy, pemBlocks } from "./policy.js";
import { stateSummary, signoffList, statePanel, completenessPage, signoffForm } from "./lifecycle.js";

const app = document.getElementById("app");
const who = document.getElementById("who");
let me = null;
let sections = null;

const show = (...nodes) => { app.replaceChildren(...nodes); app.querySelector("h2")?.focus(); };
const heading = (text) => el("h2", text, { tabindex: "-1" });
// tenantHeader is what an auditor sends as Vault-Tenant; members act in
// their own tenant and send none.
const tenantHeader = (t) => (t === "-" ? undefined : t);
const enc = encodeURIComponent;

async function home() {
  const id = me.identity;
  if (id.role !== "auditor") return dossiers("-");
  const tenants = [...new Set(me.grants.map((g) => g.tenant))].sort();
  if (tenants.length === 0) {
    show(heading("Granted to you"), el("p", "No tenant has granted you access yet. Ask the manufacturer's team to grant you their dossiers."));
    return;
  }
  const list = el("ul");
  for (const t of tenants) {
    const g = me.grants.filter((x) => x.tenant === t);
    list.append(el("li", undefined, {}, link(`Open the dossiers of ${t}`, `/t/${enc(t)}`), el("span", ` (granted until ${g.map((x) => day(x.until)).sort().pop()})`)));
  }
  show(heading("Granted to you"), el("nav", undefined, { "aria-label": "Tenants that granted you access" }, list));
}

async function dossiers(tenant) {
  const t = tenantHeader(tenant);
  const list = [];
  for (let cursor = ""; ;) {
    const page = await call("/v1/dossiers" + (cursor ? `?cursor=${enc(cursor)}` : ""), { tenant: t });
    list.push(...page.dossiers);
    if (!page.next) break;
    cursor = page.next;
  }
  const name = tenant === "-" ? me.identity.home : tenant;
  const nodes = [heading("Dossiers of " + name)];
  if (list.length === 0) nodes.push(el("p", "No dossier here yet."));
  else nodes.push(table(`Dossiers you may read in ${name}`, ["Dossier", "Basic UDI-DI", "Regulation", "Class", "Notified body"],
    list.map((d) => [link(d.name, `/t/${enc(tenant)}/d/${enc(d.id)}`), d.basicUdiDi, d.regulation + (d.highRiskAi ? " + AI Act" : ""), d.riskClass, d.notifiedBody || ""])));
  nodes.push(el("p", undefined, {}, link("Access trail", `/t/${enc(tenant)}/access`)), el("p", undefined, {}, link("Verify a file you have against its receipt", `/t/${enc(tenant)}/verify`)));
  if (me.identity.role !== "auditor") nodes.push(dossierForm((d) => { location.hash = `/t/-/d/${enc(d.id)}`; }));
  show(...nodes);
}

async function documentsOf(t, dossier) {
  const docs = [];
  for (let cursor = ""; ;) {
    const page = await call(`/v1/dossiers/${enc(dossier)}/documents` + (cursor ? `?cursor=${enc(cursor)}` : ""), { tenant: t });
    docs.push(...page.documents);
    if (!page.next) break;
    cursor = page.next;
  }
  return docs;
}

// status is the live region a long action reports to.
const statusLine = () => el("p", undefined, { role: "status", "aria-live": "polite", class: "status" });

// verifiedDownload wires a button to a verified download and shows the
// outcome in out.
function verifiedDownload(label, t, dossier, path, version, out) {
  return button(label, async (e) => {
    const b = e.currentTarget;
    b.disabled = true;
    const line = statusLine();
    out.replaceChildren(line);
    try {
      const got = await download(t, dossier, path, version, (s) => { line.textContent = s; });
      out.append(await noticeFor(t), receiptCard(got.ver.receipt, got.ver.checks),
        button(`Save ${got.fileName} again`, () => save(got.file, got.fileName)),
        button("Save the receipt", () => save(new Blob([JSON.stringify(got.bundle, null, 2)], { type: "application/json" }), `${got.fileName}.receipt.json`)));
    } catch (err) {
      line.textContent = "";
      out.append(problemNode(err));
      if (err instanceof FailedChecks) out.append(checkList(err.checks));
      out.append(await noticeFor(t));
    } finally {
      b.disabled = false;
    }
  });
}

// dossier shows one dossier; notice (the outcome of an upload) goes
// above its upload form.
async function dossier(tenant, id, notice) {
  const t = tenantHeader(tenant);
  sections = sections || (await call("/v1/sections"));
  const [d, docs] = await Promise.all([call(`/v1/dossiers/${enc(id)}`, { tenant: t }), documentsOf(t, id)]);
  const regs = new Set([d.regulation, ...(d.highRiskAi ? ["AIA"] : [])]);
  const out = el("div", undefined, { "aria-live": "polite" });
  const facts = el("dl");
  for (const [k, v] of [["Basic UDI-DI", d.basicUdiDi], ["Regulation and class", `${d.regulation} class ${d.riskClass}` + (d.highRiskAi ? ", high-risk AI (AI Act)" : "")],
    ["Notified body", d.notifiedBody || "none"], ["Kept for", `${d.retentionYears} years` + (d.implantable ? " (implantable)" : "")]]) facts.append(el("dt", k), el("dd", v));
  const nodes = [el("p", undefined, {}, link("All dossiers", tenant === "-" ? "/" : `/t/${enc(tenant)}`)), heading(d.name), facts,
    await statePanel(t, id), el("p", undefined, {}, link("Completeness by Annex section", `/t/${enc(tenant)}/d/${enc(id)}/completeness`))];
  const exportOut = el("div", undefined, { "aria-live": "polite" });
  nodes.push(button("Export the dossier as a verified bundle (ZIP)", async (e) => {
    const b = e.currentTarget; // null once the handler awaits
    const line = statusLine();
    exportOut.replaceChildren(line);
    b.disabled = true;
    try {
      const m = await exportDossier(t, d, (s) => { line.textContent = s; });
      line.textContent = `Exported ${m.documents.length} documents at checkpoint ${m.log.size}; every one verified before it was written.`;
    } catch (err) {
      line.textContent = "";
      exportOut.append(problemNode(err));
      if (err instanceof FailedChecks) exportOut.append(checkList(err.checks));
    } finally {
      b.disabled = false;
    }
  }), exportOut);

  const bySection = new Map();
  for (const v of docs) {
    const s = v.document.section || "";
    if (!bySection.has(s)) bySection.set(s, []);
    bySection.get(s).push(v);
  }
  const groups = sections.sections.filter((s) => regs.has(s.regulation)).map((s) => [s.id, `${s.id} ${s.title}`]);
  groups.push(["", "Not filed under a section"]);
  const toc = el("ul");
  const parts = [];
  const empty = [];
  for (const [sid, title] of groups) {
    const list = bySection.get(sid) || [];
    if (list.length === 0) {
      if (sid) empty.push(sid);
      continue;
    }
    const hid = "s-" + (sid || "none");
    toc.append(el("li", undefined, {}, el("a", `${title} (${list.length})`, { href: `#${location.hash.slice(1)}`, "data-target": hid })));
    parts.push(el("section", undefined, { "aria-labelledby": hid }, el("h3", title, { id: hid }),
      table(`Documents in ${title}`, ["Title", "Path", "Kind", "Latest", "Sealed", "Status", ""],
        list.map((v) => [v.document.title, link(v.document.path, `/t/${enc(tenant)}/d/${enc(id)}/v/${enc(v.document.path)}`, { "aria-label": `Versions of ${v.document.path}` }),
          v.document.kind, `version ${v.version}`, when(v.sealedAt), stateSummary(v), verifiedDownload(`Download ${v.document.path} verified`, t, id, v.document.path, v.version, out)]))));
  }
  toc.addEventListener("click", (e) => { const a = e.target.closest("a[data-target]"); if (a) { e.preventDefault(); document.getElementById(a.dataset.target).scrollIntoView(); } });
  const nav = el("nav", undefined, { "aria-label": "Annex sections" }, el("h3", "Sections with evidence"), docs.length ? toc : el("p", "None yet."));
  if (empty.length) nav.append(el("p", `No evidence yet in ${empty.length} sections: ${empty.join(", ")}.`, { class: "empty" }));
  nodes.push(out, nav, ...parts);
  if (me.identity.role !== "auditor") {
    const done = el("div", undefined, { "aria-live": "polite" });
    if (notice) done.append(notice);
    nodes.push(done, documentForm(d, sections, (r) => {
      const p = r.ver.receipt?.predicate;
      const said = !r.ver.valid ? "The vault answered with a receipt that failed verification: see the failed checks below." :
        r.unchanged ? `Nothing new was sealed: version ${p.version} of ${p.document.path} already has these bytes.` : `Sealed version ${p.version} of ${p.document.path}.`;
      const outcome = el("div", undefined, {}, el("p", said, { class: r.ver.valid ? "sealed" : "problem", role: r.ver.valid ? "status" : "alert" }), r.card || "");
      dossier(tenant, id, outcome).catch((err) => show(problemNode(err)));
    }));
  }
  show(...nodes);
}

async function versions(tenant, id, path) {
  const t = tenantHeader(tenant);
  const list = [];
  for (let cursor = ""; ;) {
    const page = await call(`/v1/dossiers/${enc(id)}/versions?path=${enc(path)}` + (cursor ? `&cursor=${enc(cursor)}` : ""), { tenant: t });
    list.push(...page.versions);
    if (!page.next) break;
    cursor = page.next;
  }
  const out = el("div", undefined, { "aria-live": "polite" });
  const next = new Map(list.filter((v) => v.supersedes).map((v) => [v.supersedes.version, v.version]));
  const rows = list.map((v) => [`version ${v.version}`, v.document.revision, when(v.sealedAt), `${v.uploader.subject} (${v.uploader.role})`, bytes(v.size),
    el("code", v.sha256.slice(0, 16) + "…", { title: v.sha256 }),
    v.supersedes ? `supersedes version ${v.supersedes.version}` : "the first",
    next.has(v.version) ? `superseded by version ${next.get(v.version)}` : "current",
    stateSummary(v), signoffList(v), v.state ? day(v.state.retainedUntil) : "",
    el("span", undefined, {}, verifiedDownload(`Download version ${v.version} verified`, t, id, path, v.version, out),
      button(`Receipt of version ${v.version}`, async () => {
        try {
          const { ver } = await receiptOf(t, v.receiptId);
          out.replaceChildren(await noticeFor(t), ver.receipt ? receiptCard(ver.receipt, ver.checks) : checkList(ver.checks));
        } catch (err) { out.replaceChildren(problemNode(err)); }
      }),
      me.identity.role !== "auditor" ? signoffForm(t, id, v, () => versions(tenant, id, path).catch((err) => show(problemNode(err)))) : "")]);
  show(el("p", undefined, {}, link("Back to the dossier", `/t/${enc(tenant)}/d/${enc(id)}`)), heading(`Versions of ${path}`),
    table(`Every sealed version of ${path}, oldest first`, ["Version", "Revision", "Sealed", "By", "Size", "SHA-256", "Supersedes", "Superseded", "Status", "Sign-offs", "Kept until", ""], rows), out);
}

async function completeness(tenant, id) {
  const nodes = await completenessPage(tenantHeader(tenant), id);
  show(el("p", undefined, {}, link("Back to the dossier", `/t/${enc(tenant)}/d/${enc(id)}`)), heading("Completeness by Annex section"), ...nodes);
}

async function access(tenant) {
  const t = tenantHeader(tenant);
  const events = [];
  for (let cursor = ""; ;) {
    const page = await call("/v1/access" + (cursor ? `?cursor=${enc(cursor)}` : ""), { tenant: t });
    events.push(...page.events);
    if (!page.next) break;
    cursor = page.next;
  }
  const scope = me.identity.role === "admin" ? "every download handed out in your tenant" : "the downloads handed out to you";
  show(el("p", undefined, {}, link("Back", tenant === "-" ? "/" : `/t/${enc(tenant)}`)), heading("Access trail"),
    el("p", `The last 30 days: ${scope}, oldest first. Each is a signed record the vault wrote before it handed out the download.`),
    events.length === 0 ? el("p", "No download in this period.") :
      table("Access trail", ["When", "Who", "Dossier", "Document", "Version", "SHA-256"],
        events.map((e) => [when(e.at), `${e.email || e.who.subject} (${e.who.role})`, e.dossier, e.path, `version ${e.version}`, el("code", e.sha256.slice(0, 16) + "…", { title: e.sha256 })])));
}

// verifyPage checks a file the user has (one received years ago, say)
// against its receipt file, as evault verify does.
function verifyPage(tenant) {
  const t = tenantHeader(tenant);
  const file = el("input", undefined, { type: "file", id: "verify-file" });
  const rcpt = el("input", undefined, { type: "file", id: "verify-receipt", accept: ".json,application/json" });
  const out = el("div", undefined, { "aria-live": "polite" });
  const line = statusLine();
  const form = el("form", undefined, { "aria-label": "Verify a file" },
    el("div", undefined, { class: "field" }, el("label", "The file", { for: "verify-file" }), file),
    el("div", undefined, { class: "field" }, el("label", "Its receipt (.receipt.json)", { for: "verify-receipt" }), rcpt),
    el("button", "Verify", { type: "submit" }), line);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    out.replaceChildren();
    if (!file.files[0] || !rcpt.files[0]) { line.textContent = "Choose the file and its receipt."; return; }
    const t0 = performance.now();
    try {
      const ver = await verifyInHand(t, file.files[0], rcpt.files[0], (s) => { line.textContent = s; });
      const ms = performance.now() - t0;
      line.textContent = ver.valid ? `VALID: ${file.files[0].name} is the file the receipt names (checked in ${(ms / 1000).toFixed(1)} s).` : `NOT VALID: ${file.files[0].name} failed verification.`;
      out.append(await noticeFor(t), ver.receipt ? receiptCard(ver.receipt, ver.checks) : checkList(ver.checks));
    } catch (err) {
      line.textContent = "";
      out.append(problemNode(err), await noticeFor(t));
    }
  });
  show(el("p", undefined, {}, link("Back", tenant === "-" ? "/" : `/t/${enc(tenant)}`)), heading("Verify a file you have"),
    el("p", "Nothing leaves this browser but the log's proofs: the file is hashed here, and the receipt is checked against the key this browser pinned."), form, out);
}

// trustPanel shows the key this browser pinned for the log being read,
// and lets the user pin one obtained from the vault's operator instead.
function trustPanel() {
  const panel = el("details", undefined, { class: "trust" }, el("summary", "Keys this browser trusts"));
  const pins = JSON.parse(localStorage.getItem("evidencevault.pins") || "{}");
  const ul = el("ul");
  for (const p of Object.values(pins)) ul.append(el("li", `${p.origin}: key ${p.keyId}, pinned ${day(p.pinnedAt)}, log checked at ${day(p.checkedAt)} `, {},
    button(`Forget the key of ${p.origin}`, () => { forgetPin(p.origin); location.reload(); })));
  if (!ul.childElementCount) ul.append(el("li", "None yet: the first log you open is pinned on first use."));
  const area = el("textarea", undefined, { id: "pin-pem", rows: 4, cols: 64, spellcheck: "false" });
  const origin = el("input", undefined, { id: "pin-origin", type: "text", size: 40 });
  const msg = el("p", undefined, { role: "status" });
  panel.append(ul, el("p", "To trust a log from a key you obtained from the vault's operator (rather than on first use), give the log's origin and the key:"),
    el("label", "Log origin", { for: "pin-origin" }), origin, el("label", "Public key (PEM)", { for: "pin-pem" }), area,
    button("Pin this key", async () => {
      try {
        const k = await parseKey(area.value);
        const o = origin.value.trim();
        // The checkpoint kept for the log stays: a new pin must not undo
        // the protection against a rolled-back log.
        keepPin({ origin: o, home: !!pins[o]?.home, key: k.pem, keyId: k.id, checkpoint: pins[o]?.checkpoint || "", pinnedAt: new Date().toISOString(), checkedAt: "" });
        msg.textContent = `Pinned key ${k.id} for ${origin.value.trim()}.`;
      } catch (err) { msg.textContent = err.message; }
    }), msg);
  return panel;
}

// policyPanel shows the timestamp authorities and witnesses this browser
// requires of receipts (policy.js), says how the vault's differ when view
// (a log this browser opened) shows they do, and lets the user set their
// own.
function policyPanel(view) {
  const panel = el("details", undefined, { class: "trust", id: "policy-panel" }, el("summary", "Timestamps and witnesses this browser requires"));
  const p = keptPolicy();
  const ul = el("ul", undefined, { "aria-label": "Kept verification policy" });
  if (!p) ul.append(el("li", "None yet: the vault's is kept when the first log is opened."));
  else if (p.broken) ul.append(el("li", `The policy this browser kept cannot be read (${p.broken}): receipts fail their timestamp and witness checks until you keep one below.`));
  else {
    ul.append(el("li", `Kept from ${p.source}` + (p.keptAt ? `, ${day(p.keptAt)}.` : ".")));
    const t = p.timestamps, w = p.witnesses;
    ul.append(el("li", t ? `RFC 3161 timestamps: ${t.roots.length} trust anchor(s)` + (t.intermediates.length ? `, ${t.intermediates.length} intermediate(s)` : "") +
      (t.policy ? `, policy ${t.policy}` : "") + (t.qualified ? ", qualified only" : "") + (p.require ? ", required on every receipt" : ", pending ones accepted") : "RFC 3161 timestamps: not checked"));
    ul.append(el("li", w ? `Witnesses: ${w.quorum} of ${w.keys.map((k) => k.split("+")[0]).join(", ")}` : "Witnesses: not required"));
  }
  const notice = view && policyNotice(view);
  const area = (id, value, rows) => {
    const a = el("textarea", undefined, { id, rows, cols: 64, spellcheck: "false" });
    a.value = value;
    return a;
  };
  const ok = p && !p.broken ? p : null;
  const roots = area("policy-roots", (ok?.timestamps?.roots || []).join(""), 4);
  const inter = area("policy-intermediates", (ok?.timestamps?.intermediates || []).join(""), 2);
  const oid = el("input", undefined, { id: "policy-oid", type: "text", size: 32, spellcheck: "false", value: ok?.timestamps?.policy || "" });
  const keys = area("policy-witnesses", (ok?.witnesses?.keys || []).join("\n"), 2);
  const quorum = el("input", undefined, { id: "policy-quorum", type: "number", min: "0", step: "1", value: String(ok?.witnesses?.quorum || 0) });
  const require = el("input", undefined, { id: "policy-require", type: "checkbox", checked: !!ok?.require });
  const qualified = el("input", undefined, { id: "policy-qualified", type: "checkbox", checked: !!ok?.timestamps?.qualified });
  const msg = el("p", undefined, { role: "status" });
  panel.append(ul, notice || "", el("p", "To require the authorities and witnesses you obtained yourself (an authority's root from its trust list, the witnesses' published keys), give them here. Leave a box empty to check nothing of that kind."),
    el("label", "Trust anchors of timestamp authorities (PEM certificates)", { for: "policy-roots" }), roots,
    el("label", "Their intermediate certificates, if the tokens do not carry them (PEM)", { for: "policy-intermediates" }), inter,
    el("label", "Timestamp policy the authority must name (an object identifier; empty: any)", { for: "policy-oid" }), oid,
    el("label", undefined, { for: "policy-require" }, require, " Refuse receipts with no timestamp yet"),
    el("label", undefined, { for: "policy-qualified" }, qualified, " Accept qualified electronic timestamps only (ETSI EN 319 422)"),
    el("label", "Witness keys (note vkeys, one per line)", { for: "policy-witnesses" }), keys,
    el("label", "How many of them must have cosigned (0: all)", { for: "policy-quorum" }), quorum,
    button("Keep this policy", async () => {
      const pems = (a, what) => {
        const b = pemBlocks(a.value);
        if (a.value.trim() && b.length === 0) throw new Error(`no PEM certificate among the ${what}`);
        return b;
      };
      try {
        const ks = keys.value.split(/\s+/).filter(Boolean);
        await keepPolicy({
          timestamps: { roots: pems(roots, "trust anchors"), intermediates: pems(inter, "intermediates"), policy: oid.value.trim(), qualified: qualified.checked },
          witnesses: { keys: ks, quorum: quorum.value === "" ? 0 : Number(quorum.value) },
          require: require.checked, source: "you",
        });
        location.reload();
      } catch (err) { msg.textContent = "Not kept: " + err.message; }
    }), msg);
  return panel;
}

// showPolicy renders the policy panel, with what view shows; a panel that
// cannot be drawn says so instead of stopping the page.
function showPolicy(view) {
  let node;
  try {
    node = policyPanel(view);
  } catch (err) {
    node = el("p", "The verification policy cannot be shown: " + err.message, { id: "policy-panel" });
  }
  const old = document.getElementById("policy-panel");
  if (old) {
    if (old.open) node.open = true;
    old.replaceWith(node);
  } else document.getElementById("trust").append(node);
}

// policyNotice tells the user when the vault names other authorities or
// witnesses than the ones this browser kept, and what differs, and lets
// them take the vault's.
function policyNotice(view) {
  if (!view?.policy?.changed) return null;
  const msg = el("span");
  return el("div", undefined, { class: "notice", role: "status" },
    el("p", "The vault now names other timestamp authorities or witnesses than the ones this browser kept; receipts are checked against the kept ones. What differs:"),
    el("ul", undefined, {}, ...view.policy.changes.map((c) => el("li", c))),
    button("Take the vault's", async () => {
      try {
        await keepPolicy({ ...view.policy.offered, require: !!view.policy.kept?.require, source: "the vault, taken by you" });
        location.reload();
      } catch (err) { msg.textContent = "Not kept: " + err.message; }
    }), msg);
}

// noticeFor opens (or reuses) the log of tenant t and returns the policy
// notice to show beside a receipt, refreshing the panel; a log that
// cannot be opened gives none (the download says why).
async function noticeFor(t) {
  const view = await logView(t).catch(() => null);
  if (!view) return "";
  showPolicy(view);
  return el("div", undefined, {}, firstUseNotice(view) || "", policyNotice(view) || "");
}

// firstUseNotice says, as evault does, that this browser met the log for
// the first time and pinned its key now: compare it with the operator's.
function firstUseNotice(view) {
  if (!view.firstUse) return null;
  const k = view.trust.keys[view.trust.keys.length - 1].key;
  return el("div", undefined, { class: "notice", role: "status" },
    el("p", `First use of log ${view.origin}: this browser pinned its key ${k.id} now. Compare it with the key the vault's operator published (GET /v1/keys, or the trust panel); from now on only keys the log's signed history leads to from it are trusted.`));
}

async function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "t" && parts[2] === "d" && parts[4] === "v") return await versions(parts[1], parts[3], parts.slice(5).join("/"));
    if (parts[0] === "t" && parts[2] === "d" && parts[4] === "completeness") return await completeness(parts[1], parts[3]);
    if (parts[0] === "t" && parts[2] === "d") return await dossier(parts[1], parts[3]);
    if (parts[0] === "t" && parts[2] === "access") return await access(parts[1]);
    if (parts[0] === "t" && parts[2] === "verify") return verifyPage(parts[1]);
    if (parts[0] === "t" && parts[1]) return await dossiers(parts[1]);
    return await home();
  } catch (err) {
    if (err.status === 401) { sessionStorage.removeItem("idToken"); return main(); }
    show(heading("Something went wrong"), problemNode(err));
  }
}

// The skip link focuses the content; the fragment is the router's.
document.querySelector("a.skip")?.addEventListener("click", (e) => { e.preventDefault(); app.focus(); });

async function main() {
  try {
    const params = new URLSearchParams(location.search);
    if (location.pathname.endsWith("/callback") && params.has("state")) await callback(params);
    if (!token()) {
      who.textContent = "";
      show(heading("Sign in"), el("p", "Sign in with your organisation's account to see the dossiers you may read."),
        button("Sign in", () => signIn().catch((e) => show(problemNode(e)))));
      return;
    }
    me = await call("/v1/me");
    const id = me.identity;
    if (id.role !== "auditor") setHome(id.home || id.tenant);
    who.replaceChildren(el("span", `Signed in as ${id.email || id.subject}, ${id.role}` + (id.home ? ` of ${id.home}` : "")), " ",
      button("Sign out", () => { sessionStorage.clear(); location.assign(base.href); }));
    document.getElementById("trust").replaceChildren(trustPanel());
    showPolicy(null);
    addEventListener("hashchange", route);
    await route();
  } catch (e) {
    if (e.status === 401) sessionStorage.removeItem("idToken");
    show(problemNode(e), button("Sign in again", () => signIn().catch((x) => show(problemNode(x)))));
  }
}

main();
