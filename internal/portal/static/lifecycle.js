// A dossier's regulatory life as the vault's signed lifecycle events say
// it (docs/lifecycle.md): market status and retention, legal holds, the
// approval policy, submissions, each version's status and sign-offs, and
// the completeness of the dossier by Annex section.

import { call, el, button, table, problemNode, when, day, signIn } from "./api.js";

const enc = encodeURIComponent;

// stateSummary is a version's status for a table cell: status, approval,
// legal hold.
export function stateSummary(v) {
  const s = v.state;
  if (!s) return "";
  const parts = [s.status + (s.statusReason ? ` (${s.statusReason})` : "")];
  if (s.approved) parts.push("approved");
  else if (s.signoffs.length) parts.push(`${s.signoffs.length} sign-off(s), not approved`);
  else parts.push("not approved");
  if (s.legalHolds?.length) parts.push("LEGAL HOLD: " + s.legalHolds.map((h) => h.reason).join("; "));
  return parts.join(", ");
}

// signoffList names each sign-off: who (printed name), meaning, when.
export function signoffList(v) {
  const s = v.state;
  if (!s || !s.signoffs.length) return "none";
  const ul = el("ul", undefined, { class: "signoffs" });
  for (const so of s.signoffs) ul.append(el("li", `${so.meaning} by ${so.name} (${so.by.subject}) at ${when(so.signedAt)}`));
  return ul;
}

// statePanel shows the dossier's market status, retention, holds, policy
// and submissions.
export async function statePanel(t, dossierId, onChanges) {
  const st = await call(`/v1/dossiers/${enc(dossierId)}/lifecycle`, { tenant: t });
  const m = st.market;
  const market = m.firstPlacedOnMarket && !m.lastPlacedOnMarket ? `on the market since ${m.firstPlacedOnMarket}` :
    m.lastPlacedOnMarket ? `placed on the market ${m.firstPlacedOnMarket} to ${m.lastPlacedOnMarket}` : "not placed on the market yet";
  const facts = el("dl");
  const rows = [["Market", market],
    ["Every version kept until at least", st.retainUntil ? day(st.retainUntil) + " (extended ahead while on the market)" : "its receipt's date"],
    ["Approval policy", `${st.approvalPolicy.approvals} approval(s)` + (st.approvalPolicy.excludeAuthors ? " by people other than the author" : "")],
    ["Legal holds", st.legalHolds.length ? st.legalHolds.map((h) => `${h.path || "the whole dossier"}: ${h.reason} (since ${day(h.at)}, by ${h.by.subject})`).join("; ") : "none"]];
  for (const [k, v] of rows) facts.append(el("dt", k), el("dd", v));
  const section = el("section", undefined, { "aria-labelledby": "regulatory" }, el("h3", "Regulatory status", { id: "regulatory" }), facts);
  if (st.submissions.length) {
    const out = el("div", undefined, { "aria-live": "polite" });
    section.append(table("Submissions to notified bodies", ["Date", "Notified body", "Documents", "Submission", ""],
      st.submissions.map((s) => [s.date, s.notifiedBody, String(s.documents.length), s.id,
        button(`Changes since ${s.date}`, async () => {
          try { out.replaceChildren(changesNode(await call(`/v1/dossiers/${enc(dossierId)}/submissions/${enc(s.id)}/changes`, { tenant: t }), s)); }
          catch (err) { out.replaceChildren(problemNode(err)); }
        })])), out);
  }
  return section;
}

function changesNode(ch, s) {
  const ul = el("ul");
  for (const f of ch.added) ul.append(el("li", `added: ${f.path} version ${f.version}`));
  for (const f of ch.removed) ul.append(el("li", `no longer current: ${f.path} (was version ${f.version})`));
  for (const c of ch.changed) ul.append(el("li", `changed: ${c.path} version ${c.from.version} → ${c.to.version}`));
  return el("div", undefined, {}, el("p", `Since the submission of ${s.date} to notified body ${s.notifiedBody}: ${ch.added.length} added, ${ch.removed.length} removed, ${ch.changed.length} changed, ${ch.unchanged} unchanged.`, { role: "status" }), ul);
}

// completenessPage shows each applicable section with its evidence.
export async function completenessPage(t, dossierId) {
  const c = await call(`/v1/dossiers/${enc(dossierId)}/completeness`, { tenant: t });
  const summary = c.complete ? "Every applicable section has current, approved evidence." :
    `${c.missing} section(s) missing, ${c.unapproved} with evidence not yet approved.`;
  return [el("p", summary, { class: c.complete ? "sealed" : "problem" }),
    table(`Completeness of ${c.dossier.name} on ${when(c.at)}`, ["Section", "Title", "Status", "Current evidence"],
      c.sections.map((s) => [s.id, s.title, s.status,
        s.evidence.length ? s.evidence.map((e) => `${e.path} v${e.version}${e.approved ? " (approved)" : " (not approved)"}`).join("; ") : "—"])),
    el("p", "Print this page for a paper copy; the API also serves it as a printable report (GET …/completeness?format=html).")];
}

// signoffForm lets a member sign the version: the vault wants a sign-in of
// the last five minutes (21 CFR 11.200), and says so when it is older.
export function signoffForm(t, dossierId, v, done) {
  const id = `meaning-${v.version}`;
  const select = el("select", undefined, { id }, ...["approved", "reviewed", "authored"].map((m) => el("option", m, { value: m })));
  const out = el("div", undefined, { "aria-live": "polite" });
  const form = el("form", undefined, { "aria-label": `Sign version ${v.version}` },
    el("label", `Sign version ${v.version} as `, { for: id }), select,
    el("button", "Sign", { type: "submit" }), out);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const got = await call(`/v1/dossiers/${enc(dossierId)}/signoffs`, { tenant: t, method: "POST",
        body: { path: v.document.path, version: v.version, sha256: v.sha256, meaning: select.value } });
      done(got);
    } catch (err) {
      out.replaceChildren(problemNode(err));
      if (err.type?.endsWith("/reauthentication-required")) {
        out.append(button("Sign in again, then sign", () => signIn().catch((x) => out.replaceChildren(problemNode(x)))));
      }
    }
  });
  return form;
}

// --- the state a bundle's manifest claims, as vault.Fold computes it -----

export const LIFECYCLE_TYPE = "https://evidencevault.dev/lifecycle/v1";

// foldLifecycle mirrors vault.Fold for what a bundle's manifest says of
// each document: holds, the approval policy, statuses and sign-offs.
// events are predicates with their logIndex, in log order.
export function foldLifecycle(events) {
  const st = { holds: [], policy: { approvals: 1, excludeAuthors: true }, statuses: new Map(), signoffs: [] };
  for (const e of events) {
    if (e.event === "legal-hold" && e.hold) st.holds.push({ id: e.id, path: e.hold.path || "" });
    else if (e.event === "legal-hold-released" && e.hold) st.holds = st.holds.filter((h) => h.id !== e.hold.holdId);
    else if (e.event === "approval-policy" && e.policy) st.policy = e.policy;
    else if (e.event === "document-status" && e.status) st.statuses.set(e.status.path, e.status);
    else if (e.event === "signoff" && e.signoff) st.signoffs.push({ ...e.signoff, id: e.id, by: e.by, signedAt: e.at, logIndex: e.logIndex });
  }
  return st;
}

// stateOf mirrors DossierState.StateOfReceipt: the status, approval,
// sign-offs and hold of the version a receipt predicate seals.
export function stateOf(st, p, sha256, latest) {
  const path = p.document.path;
  let status = "current";
  const mark = st.statuses.get(path);
  if (p.version < latest) status = "superseded";
  else if (mark && mark.version === p.version && mark.status !== "current") status = mark.status;
  const signoffs = st.signoffs.filter((s) => s.receiptId === p.receiptId && s.sha256 === sha256);
  const authors = [p.uploader.subject, ...signoffs.filter((s) => s.meaning === "authored").map((s) => s.by.subject)];
  const approvers = new Set(signoffs.filter((s) => s.meaning === "approved" && !(st.policy.excludeAuthors && authors.includes(s.by.subject))).map((s) => s.by.subject));
  return { status, signoffs, approved: approvers.size >= st.policy.approvals, legalHold: st.holds.some((h) => h.path === "" || h.path === path) };
}
