// The export bundle of a dossier, made in the browser as evault export
// makes it (client/export.go; layout in internal/bundle): each document
// at the latest version the log holds at the checkpoint this browser
// verified — read from the log's entries, whose tree must be that
// checkpoint's, not from a listing — with its receipt proven against that
// checkpoint, the key history, the keys, MANIFEST.json, SHA256SUMS and
// VERIFY.md, in one ZIP (client-zip). Every byte is verified before it is
// written; evault verify-bundle checks the result offline.

import { call, bytes } from "./api.js";
import { logView, fetchVerified, discard, streamFile, save, FailedChecks } from "./download.js";
import { verifyReceipt, openEnvelope, trustLog, parseKey, pinOf, b64, hex, VerifyError, verifyEntry } from "./verify.js";
import { LIFECYCLE_TYPE, foldLifecycle, stateOf } from "./lifecycle.js";
import { downloadZip } from "./vendor/client-zip.js";

const utf8 = new TextEncoder();
const sha = async (b) => new Uint8Array(await crypto.subtle.digest("SHA-256", b));
const concat = (a, b, c) => { const o = new Uint8Array(a.length + b.length + (c ? c.length : 0)); o.set(a); o.set(b, a.length); if (c) o.set(c, a.length + b.length); return o; };
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// treeHash is the RFC 6962 root of leaf hashes: complete subtrees kept on
// a stack, folded right to left at the end.
async function treeHash(hashes) {
  const stack = [];
  for (let i = 0; i < hashes.length; i++) {
    let h = hashes[i];
    for (let n = i + 1; n % 2 === 0; n /= 2) h = await sha(concat(Uint8Array.of(1), stack.pop(), h));
    stack.push(h);
  }
  let r = stack.pop();
  while (stack.length) r = await sha(concat(Uint8Array.of(1), stack.pop(), r));
  return r;
}

// dossierLog reads the whole log up to the checkpoint, proves that its
// entries are the checkpoint's tree, and returns the dossier's receipts
// and lifecycle events in it with their indexes.
async function dossierLog(t, view, dossier, progress) {
  const cp = view.latest;
  const hashes = [];
  const out = [];
  const events = [];
  while (hashes.length < cp.size) {
    progress(`Reading the log: ${hashes.length} of ${cp.size} entries`);
    const page = await call(`/v1/log/entries?start=${hashes.length}&end=${cp.size}&dossier=${encodeURIComponent(dossier)}`, { tenant: t });
    if (page.entries.length === 0) throw new VerifyError(`the vault gave no entries from ${hashes.length} of a log of ${cp.size}`);
    for (const e of page.entries) {
      const h = b64(e.hash);
      if (e.index !== hashes.length || h.length !== 32) throw new VerifyError(`the vault gave entry ${e.index} where entry ${hashes.length} belongs`);
      if (e.envelope) {
        const o = openEnvelope(e.envelope);
        if (!equal(await sha(concat(Uint8Array.of(0), o.payload)), h)) throw new VerifyError(`entry ${e.index} is not the leaf it is given as`);
        const p = o.statement.predicate;
        if (o.statement.predicateType === "https://evidencevault.dev/receipt/v1" && p?.dossier?.id === dossier) out.push({ index: e.index, envelope: e.envelope, predicate: p, payload: o.payload });
        if (o.statement.predicateType === LIFECYCLE_TYPE && p?.dossier === dossier) events.push({ index: e.index, envelope: e.envelope, event: { ...p, logIndex: e.index } });
      }
      hashes.push(h);
    }
  }
  if (!equal(await treeHash(hashes), cp.hash)) throw new VerifyError(`the ${cp.size} entries the vault gave are not the tree of its checkpoint`);
  return { receipts: out, events };
}

// matchListing compares the log's latest versions with the vault's
// listing of the dossier: a document or version the listing names whose
// receipt is in the log before the checkpoint, but which the log's
// entries did not give in full, was withheld from the export. (A vault
// that withholds a version from both the listing and the log's entries
// is not caught here: docs/portal.md.)
async function matchListing(t, view, dossier, entries) {
  const inLog = new Map(entries.map((e) => [e.predicate.document.path, e.predicate.version]));
  const listed = [];
  for (let cursor = ""; ;) {
    // A listing the vault cannot give (tampered with in the bucket) names
    // nothing: the log alone decides.
    const page = await call(`/v1/dossiers/${encodeURIComponent(dossier)}/documents` + (cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""), { tenant: t })
      .catch((e) => { if (e.status) return null; throw e; });
    if (!page) return;
    listed.push(...page.documents);
    if (!page.next) break;
    cursor = page.next;
  }
  for (const v of listed) {
    if ((inLog.get(v.document.path) || 0) >= v.version) continue;
    // A listed version without a receipt the vault can give (one planted
    // in its listing) proves nothing was withheld.
    const bundle = await call(`/v1/receipts/${encodeURIComponent(v.receiptId)}`, { tenant: t }).catch((e) => { if (e.status) return null; throw e; });
    if (!bundle) continue;
    const r = await verifyReceipt(bundle, view.trust);
    if (r.valid && r.receipt.log.index < view.latest.size) {
      throw new VerifyError(`the log's entries the vault gave leave out version ${v.version} of ${v.document.path}, which its listing names at entry ${r.receipt.log.index}: the export would hide it`);
    }
  }
}

function latestVersions(entries) {
  const latest = new Map();
  for (const e of entries) {
    const have = latest.get(e.predicate.document.path);
    if (!have || e.predicate.version > have.predicate.version) latest.set(e.predicate.document.path, e);
  }
  return [...latest.values()].sort((a, b) => (a.predicate.document.path < b.predicate.document.path ? -1 : 1));
}

const text = (s) => new Blob([s]);
const json = (v) => JSON.stringify(v, null, 2) + "\n";

// exportDossier makes the bundle of dossier d (the API's record) and
// saves it as {dossier}.zip. t is the Vault-Tenant of an auditor.
export async function exportDossier(t, d, progress) {
  // The snapshot first, so that the checkpoint holds it: the bundle then
  // proves it holds the whole dossier (docs/lifecycle.md).
  const snapshot = await call(`/v1/dossiers/${encodeURIComponent(d.id)}/exports`, { tenant: t, method: "POST", headers: { "Idempotency-Key": crypto.randomUUID() } });
  const view = await logView(t, true);
  const cp = view.latest;
  const kl = await call(`/v1/log/keys?size=${cp.size}`, { tenant: t });
  if (kl.checkpoint !== cp.signed) throw new VerifyError(`the key history at ${cp.size} entries is not proven against the checkpoint this browser verified`);
  // The history written into the bundle is the one this browser trusts,
  // every event proven in the checkpoint (as evault export checks).
  const pinned = pinOf(view.origin);
  await trustLog(view.origin, kl.checkpoint, kl.events, pinned ? await parseKey(pinned.key) : null);
  const logged = await dossierLog(t, view, d.id, progress);
  await matchListing(t, view, d.id, latestVersions(logged.receipts));
  // Each lifecycle event signed by the key of its place and proven in the
  // checkpoint, before anything the manifest says rests on it.
  const lifecycle = [];
  for (const e of logged.events) {
    const proof = await call(`/v1/log/proofs/inclusion?index=${e.index}&size=${cp.size}`, { tenant: t });
    await verifyEntry(e.envelope, e.index, view.trust, cp, proof.proof);
    lifecycle.push({ index: e.index, envelope: e.envelope, inclusion: proof.proof });
  }
  const snap = logged.events.find((e) => e.event.id === snapshot.id && e.event.event === "export")?.event.export;
  if (!snap) throw new VerifyError(`the checkpoint of ${cp.size} entries does not hold the export snapshot ${snapshot.id}`);
  const latest = new Map(snap.documents.map((f) => [f.path, f.version]));
  const entries = snap.documents.map((f) => {
    const e = logged.receipts.find((r) => r.predicate.receiptId === f.receiptId && r.predicate.version === f.version);
    if (!e) throw new VerifyError(`the export snapshot names ${f.path} version ${f.version} (${f.receiptId}), which the log does not hold`);
    return e;
  });
  const st = foldLifecycle(logged.events.map((e) => e.event));
  const files = [];
  const sums = new Map();
  const add = async (name, blob, digest) => {
    sums.set(name, digest || hex(await sha(new Uint8Array(await blob.arrayBuffer()))));
    files.push({ name, input: blob });
  };
  const docs = [];
  const scratch = [];
  try {
    for (const e of entries) {
      const p = e.predicate;
      const path = p.document.path;
      const got = await fetchVerified(t, d.id, path, p.version, (s) => progress(`${path}: ${s}`));
      scratch.push(got.name);
      const served = openEnvelope(got.bundle.envelope);
      if (!equal(served.payload, e.payload)) throw new FailedChecks([{ name: "log_inclusion", passed: false, detail: `the vault served another receipt for version ${p.version} than the log's entry ${e.index} (${p.receiptId})` }], path);
      const proof = await call(`/v1/log/proofs/inclusion?index=${e.index}&size=${cp.size}`, { tenant: t });
      // The receipt as served, with its timestamps: its statement is the
      // log's entry (checked above), and its signature the one the
      // timestamps cover, which a signature's twin written over the
      // log's record is not (the check below holds it), as evault export
      // keeps.
      const stamps = got.bundle.timestamps?.length ? { timestamps: got.bundle.timestamps } : {};
      const rc = { envelope: got.bundle.envelope, log: { origin: cp.origin, index: e.index, checkpoint: cp.signed, inclusionProof: proof.proof }, ...stamps };
      const ver = await verifyReceipt(rc, view.trust, p.document.file.sha256, p.document.file.size);
      if (!ver.valid) throw new FailedChecks(ver.checks, path);
      await add("files/" + path, got.file, p.document.file.sha256);
      await add("receipts/" + path + ".receipt.json", text(json(rc)));
      const s = stateOf(st, p, p.document.file.sha256, latest.get(path));
      docs.push({ path, version: p.version, receiptId: p.receiptId, logIndex: e.index, sha256: p.document.file.sha256, size: p.document.file.size, file: "files/" + path, receipt: "receipts/" + path + ".receipt.json",
        status: s.status, approved: s.approved, signoffs: s.signoffs, legalHold: s.legalHold });
    }
    await add("checkpoint.txt", text(cp.signed));
    await add("key-history.json", text(json(kl)));
    await add("lifecycle.json", text(json(lifecycle)));
    const keys = [];
    for (const k of view.trust.keys) {
      await add(`keys/${k.key.id}.pem`, text(k.key.pem.endsWith("\n") ? k.key.pem : k.key.pem + "\n"));
      keys.push(`keys/${k.key.id}.pem`);
    }
    const m = { format: "https://evidencevault.dev/bundle/v1", createdAt: new Date().toISOString(), dossier: d, log: { origin: cp.origin, size: cp.size, checkpoint: "checkpoint.txt" }, keys, keyHistory: "key-history.json", documents: docs, lifecycle: "lifecycle.json", snapshot: snapshot.id };
    await add("VERIFY.md", text(verifyDoc(m)));
    await add("MANIFEST.json", text(json(m)));
    const names = [...sums.keys()].sort();
    files.push({ name: "SHA256SUMS", input: text(names.map((n) => `${sums.get(n)}  ${n}\n`).join("")) });
    progress("Writing the ZIP…");
    const zip = await streamFile(downloadZip(files).body, (n) => progress(`Writing the ZIP: ${bytes(n)}`));
    scratch.push(zip.name);
    save(zip.file, `${d.id}.zip`);
    return m;
  } finally {
    // Give the browser time to copy the saved ZIP before its scratch
    // files go.
    setTimeout(() => scratch.forEach(discard), 120_000);
  }
}

function verifyDoc(m) {
  const rows = m.documents.map((x) => `| \`${x.path}\` | ${x.version} | \`${x.sha256}\` | ${x.size} |`).join("\n");
  return `# Verifying this evidence bundle

Dossier **${m.dossier.name}** (\`${m.dossier.id}\`, Basic UDI-DI \`${m.dossier.basicUdiDi}\`,
${m.dossier.regulation} class ${m.dossier.riskClass}), exported ${m.createdAt} from the
Evidence Vault web portal, at checkpoint ${m.log.size} of log \`${m.log.origin}\`.
It holds ${m.documents.length} document(s), each at the exact version the vault sealed:

| Document | Version | SHA-256 | Bytes |
| --- | --- | --- | --- |
${rows}

The layout, and how each part is checked, are those of \`evault export\`:
\`files/\` the documents, \`receipts/\` their signed receipts proven against
\`checkpoint.txt\`, \`key-history.json\` the log's key events, \`keys/\` the keys,
\`MANIFEST.json\` and \`SHA256SUMS\`.

Check everything offline, from the vault's key obtained from its operator by a
second channel:

    evault verify-bundle THIS.zip --key VAULT-KEY.pem

Or the files alone, with standard tools:

    sha256sum -c SHA256SUMS
`;
}
