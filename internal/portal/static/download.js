// Downloads of exact versions, verified in the browser before they are
// saved: the receipt first (format, key, signature, inclusion in a
// checkpoint this browser trusts), then the bytes, streamed through the
// worker's SHA-256 into the origin-private file system. Only a version
// whose every check passes is offered for saving; the bytes of one that
// fails are removed, and the page names the checks that failed.

import { call, el, bytes, when, day } from "./api.js";
import { openLog, verifyReceipt, checkDownload, extendsCheckpoint, readReceipt } from "./verify.js";

const views = new Map();
let home = null;

// setHome names the signed-in member's own tenant, whose log logView(null)
// opens: the log must be that tenant's.
export function setHome(tenant) { home = tenant || null; }

// logView is the log of tenant as this browser verified it, opened once
// per page load (and again after a failure, or when fresh: the export
// needs a checkpoint that holds the snapshot it just logged).
export async function logView(tenant, fresh = false) {
  if (fresh) views.delete(tenant);
  if (!views.has(tenant)) {
    const get = (path) => call(path, { tenant });
    views.set(tenant, openLog(get, tenant ?? home, tenant == null).catch((e) => { views.delete(tenant); throw e; }));
  }
  return views.get(tenant);
}

// work runs one job in a worker of its own: jobs may overlap (a
// download while a file is hashed for upload), and each job's messages
// are its own.
function work(msg, transfer, onProgress) {
  const worker = new Worker(new URL("hash.worker.js", import.meta.url));
  return new Promise((resolve, reject) => {
    worker.onmessage = (e) => {
      if (e.data.progress !== undefined) return onProgress?.(e.data.progress);
      worker.terminate();
      if (e.data.error) reject(new Error(e.data.error));
      else resolve(e.data.done);
    };
    worker.onerror = (e) => { worker.terminate(); reject(new Error(`the hashing worker failed: ${e.message}`)); };
    worker.postMessage(msg, transfer);
  });
}

// hashFile hashes a dropped file, whole and per part of partSize, in the
// worker.
export function hashFile(file, partSize, onProgress) {
  return work({ op: "hash", file, partSize }, [], onProgress);
}

// IN_MEMORY is the largest download held whole in memory; larger ones
// are written to the origin-private file system (hash.worker.js).
const IN_MEMORY = 1 << 30;

// streamFile writes a stream (an export's ZIP) into a new file of the
// origin-private file system.
export async function streamFile(stream, progress) {
  const dir = await scratch();
  const name = `download-${crypto.randomUUID()}`;
  kept.add(name);
  const got = await work({ op: "download", stream, name, inMemory: false }, [stream], progress);
  return { name, file: await (await dir.getFileHandle(name)).getFile(), ...got };
}

// Files of the origin-private file system that are still wanted: the
// last verified download (so that its saving can finish) and the parts
// of an export being written. Others are removed at the next download.
const kept = new Set();
async function scratch() {
  const dir = await navigator.storage.getDirectory();
  for await (const name of dir.keys()) if (name.startsWith("download-") && !kept.has(name)) await dir.removeEntry(name).catch(() => {});
  return dir;
}

// discard removes a file fetchVerified kept.
export async function discard(name) {
  kept.delete(name);
  await (await navigator.storage.getDirectory()).removeEntry(name).catch(() => {});
}

export class FailedChecks extends Error {
  constructor(checks, item = "The version") {
    super(`${item} failed verification and was not saved: ` + checks.filter((c) => !c.passed).map((c) => c.name).join(", "));
    this.checks = checks;
  }
}

// streamTo streams a presigned GET of total bytes through the worker's
// SHA-256: into memory, or, for large ones, into a new file of the
// origin-private file system.
async function streamTo(pre, total, progress) {
  const name = `download-${crypto.randomUUID()}`;
  kept.add(name);
  try {
    // Fetched by the worker itself: a response body handed from the page
    // to the worker crosses threads chunk by chunk, at a third of the
    // speed here (make bench).
    const get = { url: pre.url, method: pre.method, headers: pre.headers || {} };
    const got = await work({ op: "download", get, name, expected: total, inMemory: total <= IN_MEMORY }, [], (n) => progress(`Downloading and hashing: ${bytes(n)} of ${bytes(total)}`));
    if (got.bytes) kept.delete(name);
    return { name, ...got };
  } catch (e) {
    await discard(name);
    throw e;
  }
}

// fetchVerified fetches one version (the latest if version is 0) into
// the origin-private file system and verifies it: the receipt before the
// bytes are fetched, the bytes against it after. A version that fails is
// removed and the error is a FailedChecks naming the checks.
export async function fetchVerified(tenant, dossier, path, version, progress) {
  const q = new URLSearchParams({ path });
  if (version) q.set("version", version);
  progress("Asking the vault for the version and its receipt…");
  const d = await call(`/v1/dossiers/${encodeURIComponent(dossier)}/download?${q}`, { tenant });
  progress("Checking the receipt against the log this browser trusts…");
  const view = await logView(tenant);
  const want = { dossier, path, version: d.version.version, versionId: d.version.versionId, asked: version || 0 };
  const first = await checkDownload(view, await verifyReceipt(d.receipt, view.trust), want);
  if (!first.valid) throw new FailedChecks(first.checks);
  const dir = await scratch();
  const got = await streamTo(d.download, d.version.size, progress);
  progress("Comparing the bytes with the receipt…");
  // The receipt's own checks again, now with the bytes; the log's (which
  // cost a proof from the vault) stand as the first pass found them.
  const ver = await verifyReceipt(d.receipt, view.trust, got.sha256, got.size);
  ver.checks.push(...first.checks.filter((c) => c.name === "requested_version" || c.name === "log_consistent"));
  ver.valid = ver.checks.every((c) => c.passed);
  if (!ver.valid) {
    await discard(got.name);
    throw new FailedChecks(ver.checks);
  }
  const file = got.bytes ? new Blob([got.bytes]) : await (await dir.getFileHandle(got.name)).getFile();
  return { ver, bundle: d.receipt, fileName: ver.receipt.predicate.document.file.name, file, name: got.name };
}

let last = null;

// download fetches and verifies one version, then saves it under its
// file name.
export async function download(tenant, dossier, path, version, progress) {
  const got = await fetchVerified(tenant, dossier, path, version, progress);
  if (last) kept.delete(last);
  last = got.name;
  save(got.file, got.fileName);
  progress(`Verified and saved as ${got.fileName}.`);
  return got;
}

export function save(blob, fileName) {
  const url = URL.createObjectURL(blob);
  const a = el("a", undefined, { href: url, download: fileName, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// receiptCard shows a receipt for people: what, which version, when, by
// whom, kept until when, and where the log holds it.
export function receiptCard(r, checks) {
  const p = r.predicate;
  const doc = p.document;
  const rows = [
    ["Document", `${doc.title} (${doc.path})`],
    ["Kind and section", doc.kind + (doc.section ? `, ${doc.section}` : "")],
    ["Revision", `${doc.revision}, effective ${doc.effectiveDate}, by ${doc.author}`],
    ["Version", `${p.version}` + (p.supersedes ? `, superseding version ${p.supersedes.version}` : ", the first")],
    ["File", `${doc.file.name}, ${bytes(p.storage.size)} (${p.storage.size} bytes), ${p.storage.contentType}`],
    ["SHA-256", r.subject.digest.sha256],
    ["Dossier", `${p.dossier.name}, Basic UDI-DI ${p.dossier.basicUdiDi}, ${p.dossier.regulation} class ${p.dossier.riskClass}` + (p.dossier.notifiedBody ? `, notified body ${p.dossier.notifiedBody}` : "")],
    ["Uploaded by", `${p.uploader.subject} (${p.uploader.role} of ${p.uploader.tenant})`],
    ["Received", when(p.receivedAt)],
    ["Sealed", when(p.sealedAt)],
    ["Retained until", `${day(p.retention.retainUntil)} (Object Lock, ${p.retention.mode} mode)`],
    ["Receipt", p.receiptId],
  ];
  if (r.stamp) rows.push(["Timestamp", `${r.stamp.qualified ? "a qualified electronic timestamp" : "an RFC 3161 timestamp"} by ${r.stamp.authority}, ${when(r.stamp.time.toISOString())}`]);
  else if (r.timestamps && !r.timestamps.length) rows.push(["Timestamp", "none yet (the vault's clock only, until its authority stamps it)"]);
  if (r.witnessedBy) rows.push(["Witnessed by", r.witnessedBy.join(", ")]);
  if (r.log) rows.push(["Log entry", `${r.log.index} of ${r.log.origin}` + (r.checkpoint ? `, in its checkpoint of ${r.checkpoint.size} entries` : "")]);
  const dl = el("dl");
  for (const [k, v] of rows) dl.append(el("dt", k), el("dd", v));
  const card = el("section", undefined, { class: "receipt", "aria-label": "Receipt " + p.receiptId }, el("h3", `Receipt for version ${p.version} of ${doc.path}`), dl);
  if (checks) card.append(checkList(checks));
  return card;
}

export function checkList(checks) {
  const ul = el("ul", undefined, { class: "checks", "aria-label": "Verification checks" });
  for (const c of checks) ul.append(el("li", `${c.passed ? "✔ passed" : "✘ FAILED"} ${c.name}: ${c.detail}`, { class: c.passed ? "pass" : "fail" }));
  return ul;
}

// verifyInHand checks a file the user has against a receipt file they
// have, as evault verify does: the receipt against the log this browser
// trusts, the file's SHA-256 and size against the receipt.
export async function verifyInHand(tenant, file, receiptFile, progress) {
  let bundle;
  try {
    bundle = readReceipt(new Uint8Array(await receiptFile.arrayBuffer()));
  } catch (e) {
    return { valid: false, checks: [{ name: "format", passed: false, detail: e.message }] };
  }
  progress("Checking the receipt against the log this browser trusts…");
  const view = await logView(tenant);
  progress(`Hashing ${file.name}…`);
  const h = await hashFile(file, 0, (n) => progress(`Hashing ${file.name}: ${bytes(n)} of ${bytes(file.size)}`));
  return logConsistent(view, await verifyReceipt(bundle, view.trust, h.sha256, h.size));
}

// logConsistent adds the check evault verify adds online: the receipt's
// checkpoint is part of the log this browser verified. A receipt without
// a log proof fails it.
export async function logConsistent(view, ver) {
  if (!ver.receipt) return ver;
  if (!ver.receipt.log) {
    ver.checks.push({ name: "log_consistent", passed: false, detail: "the receipt carries no log proof" });
  } else {
    try {
      await extendsCheckpoint(view, ver.receipt.log.checkpoint);
      ver.checks.push({ name: "log_consistent", passed: true, detail: `the receipt's checkpoint is part of the log at ${view.latest.size} entries, as verified` });
    } catch (e) {
      ver.checks.push({ name: "log_consistent", passed: false, detail: e.message });
    }
  }
  ver.valid = ver.checks.every((c) => c.passed);
  return ver;
}

// receiptOf verifies a stored receipt bundle (without the file) for
// showing it: GET /v1/receipts/{id}.
export async function receiptOf(tenant, id) {
  const view = await logView(tenant);
  const bundle = await call(`/v1/receipts/${encodeURIComponent(id)}`, { tenant });
  const ver = await logConsistent(view, await verifyReceipt(bundle, view.trust));
  return { ver, bundle };
}

