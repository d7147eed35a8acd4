// Uploads for a tenant's members: a dossier form and a document form
// with a drop zone, each showing the vault's problems beside the field
// they name. Files above MULTIPART_FROM go in parts, each bound to its
// SHA-256; an interrupted one resumes after a reload from the parts
// storage holds (GET /v1/uploads/{id}), once the same file is chosen
// again.

import { call, el, bytes, problemNode, Problem } from "./api.js";
import { hashFile, receiptCard, logView, logConsistent } from "./download.js";
import { verifyReceipt } from "./verify.js";

const MULTIPART_FROM = 64 << 20;
const PART_SIZE = 16 << 20;
const MAX_PARTS = 10000;
const PARTS_PER_CALL = 100;

// field is a labelled control whose problems show beside it.
function field(form, name, label, control, hint) {
  const id = "f-" + name.replace(/\//g, "-");
  control.id = id;
  control.name = name;
  const msg = el("span", undefined, { id: id + "-problem", class: "field-problem", "aria-live": "polite" });
  control.setAttribute("aria-describedby", msg.id);
  const wrap = el("div", undefined, { class: "field" }, el("label", label, { for: id }), control);
  if (hint) wrap.append(el("small", hint));
  wrap.append(msg);
  form.fields.set(name, { control, msg });
  form.append(wrap);
  return control;
}

const input = (attrs = {}) => el("input", undefined, { type: "text", ...attrs });
function select(options, attrs = {}) {
  const s = el("select", undefined, attrs);
  for (const [v, t] of options) s.append(el("option", t, { value: v }));
  return s;
}

function newForm(label) {
  const form = el("form", undefined, { "aria-label": label, novalidate: true });
  form.fields = new Map();
  form.summary = el("div", undefined, { "aria-live": "assertive" });
  return form;
}

// showProblems puts each of the problem's fields beside its control (by
// JSON pointer) and the rest in the summary.
function showProblems(form, err) {
  for (const { control, msg } of form.fields.values()) { msg.textContent = ""; control.removeAttribute("aria-invalid"); }
  form.summary.replaceChildren();
  if (!err) return;
  const rest = [];
  for (const f of err.errors || []) {
    const hit = form.fields.get(f.pointer.replace(/^\//, "")) || form.fields.get(f.pointer.replace(/^\/([^/]+).*$/, "$1"));
    if (hit) {
      hit.msg.textContent = (hit.msg.textContent ? hit.msg.textContent + "; " : "") + f.detail;
      hit.control.setAttribute("aria-invalid", "true");
    } else rest.push(f);
  }
  form.summary.append(problemNode(Object.assign(new Error(err.message), { errors: rest })));
  const first = [...form.fields.values()].find((f) => f.control.getAttribute("aria-invalid"));
  first?.control.focus();
}

// dossierForm creates a dossier; done gets the new dossier.
export function dossierForm(done) {
  const form = newForm("New dossier");
  form.append(el("h3", "New dossier"));
  field(form, "name", "Device name", input({ autocomplete: "off" }));
  field(form, "basicUdiDi", "Basic UDI-DI", input({ autocomplete: "off", spellcheck: "false" }), "as registered in EUDAMED, with its check characters");
  field(form, "regulation", "Regulation", select([["MDR", "MDR (EU) 2017/745"], ["IVDR", "IVDR (EU) 2017/746"]]));
  field(form, "riskClass", "Risk class", input({ autocomplete: "off" }), "MDR: I, Is, Im, Ir, IIa, IIb, III; IVDR: A, As, B, C, D");
  field(form, "notifiedBody", "Notified body number", input({ inputmode: "numeric" }), "four digits, such as 0197");
  const implantable = field(form, "implantable", "Implantable device", el("input", undefined, { type: "checkbox" }));
  const ai = field(form, "highRiskAi", "High-risk AI system (AI Act Annex IV applies)", el("input", undefined, { type: "checkbox" }));
  form.append(el("button", "Create dossier", { type: "submit" }), form.summary);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = (n) => form.fields.get(n).control.value;
    const body = { name: v("name"), basicUdiDi: v("basicUdiDi"), regulation: v("regulation"), riskClass: v("riskClass"), implantable: implantable.checked, highRiskAi: ai.checked };
    if (v("notifiedBody")) body.notifiedBody = v("notifiedBody");
    try {
      const d = await call("/v1/dossiers", { method: "POST", body, headers: { "Idempotency-Key": crypto.randomUUID() } });
      showProblems(form, null);
      done(d);
    } catch (err) {
      showProblems(form, err);
    }
  });
  return form;
}

const resumeKey = (dossier, f) => `evidencevault.upload:${dossier}:${f.name}:${f.size}:${f.lastModified}`;

// documentForm uploads one document to dossier d; sections is GET
// /v1/sections. done gets the verified receipt.
export function documentForm(d, sections, done) {
  const form = newForm("Upload a document");
  let file = null;
  const status = el("p", undefined, { role: "status", "aria-live": "polite" });
  const bar = el("progress", undefined, { max: 1, value: 0, "aria-label": "Upload progress" });
  const chosen = el("p", "No file chosen yet.");
  const fileInput = el("input", undefined, { type: "file" });
  const zone = el("div", undefined, { class: "drop", tabindex: "-1" }, el("p", "Drop a file here, or choose one:"));
  form.append(el("h3", "Upload a document"), zone);
  field(form, "file", "File", fileInput);
  zone.append(chosen);

  const regs = new Set([d.regulation, ...(d.highRiskAi ? ["AIA"] : [])]);
  const kind = select([["", "Choose the kind of evidence"], ...sections.kinds.map((k) => [k.kind, k.kind])]);
  field(form, "path", "Path in the dossier", input({ spellcheck: "false" }), "such as clinical/cer.pdf; its extension is the file's");
  field(form, "title", "Title", input());
  field(form, "kind", "Kind", kind);
  const section = field(form, "section", "Annex section", select([]));
  field(form, "revision", "Revision", input({ value: "1" }));
  field(form, "language", "Language (ISO 639-1)", input({ value: "en", size: 3 }));
  field(form, "effectiveDate", "Effective date", el("input", undefined, { type: "date" }));
  field(form, "author", "Author", input());
  field(form, "standards", "Standards applied", input(), "comma-separated, such as ISO 14971:2019");
  const fillSections = () => {
    const opts = [["", "No section"]];
    for (const s of sections.sections) if (regs.has(s.regulation) && (!kind.value || s.kinds.includes(kind.value))) opts.push([s.id, `${s.id} ${s.title}`]);
    section.replaceChildren(...opts.map(([v, t]) => el("option", t, { value: v })));
  };
  kind.addEventListener("change", fillSections);
  fillSections();

  const pick = (f) => {
    file = f;
    chosen.textContent = `Chosen: ${f.name}, ${bytes(f.size)}`;
    const saved = JSON.parse(localStorage.getItem(resumeKey(d.id, f)) || "null");
    const path = form.fields.get("path").control;
    if (saved) {
      for (const [k, v] of Object.entries(saved.meta)) if (form.fields.has(k) && k !== "file") form.fields.get(k).control.value = Array.isArray(v) ? v.join(", ") : v;
      fillSections();
      form.fields.get("section").control.value = saved.meta.section || "";
      status.textContent = `An upload of this file was interrupted; uploading it again resumes it.`;
    } else if (!path.value) path.value = f.name;
  };
  fileInput.addEventListener("change", () => fileInput.files[0] && pick(fileInput.files[0]));
  for (const t of [zone, form]) {
    t.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    t.addEventListener("dragleave", () => zone.classList.remove("over"));
    t.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); if (e.dataTransfer.files[0]) pick(e.dataTransfer.files[0]); });
  }
  form.append(el("button", "Upload and seal", { type: "submit" }), bar, status, form.summary);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    showProblems(form, null);
    if (!file) { showProblems(form, new Problem(422, { detail: "Choose a file first.", errors: [{ pointer: "/file", detail: "is required" }] })); return; }
    const v = (n) => form.fields.get(n).control.value.trim();
    const meta = { path: v("path"), title: v("title"), kind: v("kind"), revision: v("revision"), language: v("language"), effectiveDate: v("effectiveDate"), author: v("author") };
    if (v("section")) meta.section = v("section");
    if (v("standards")) meta.standards = v("standards").split(",").map((s) => s.trim()).filter(Boolean);
    try {
      const out = await upload(d, meta, file, (text, frac) => { status.textContent = text; if (frac !== undefined) bar.value = frac; });
      bar.value = 1;
      done(out);
    } catch (err) {
      status.textContent = "";
      showProblems(form, err);
    }
  });
  return form;
}

function put(p, body, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open(p.method, p.url);
    for (const [k, v] of Object.entries(p.headers || {})) x.setRequestHeader(k, v);
    x.upload.onprogress = (e) => onProgress(e.loaded);
    x.onload = () => (x.status >= 200 && x.status < 300 ? resolve() : reject(new Error(`storage refused the bytes (${x.status}): ${x.responseText.slice(0, 300)}`)));
    x.onerror = () => reject(new Error("the upload to storage was interrupted; upload the same file again to resume"));
    x.send(body);
  });
}

// upload hashes file, starts (or resumes) its upload, sends the bytes and
// completes it; the receipt is verified like a download's.
// sealedAsSent is the check that a receipt is of the document sent (meta),
// in the dossier and tenant it was sent to: a receipt of the same bytes
// elsewhere proves nothing of this upload.
export function sealedAsSent(p, dossier, tenant, meta) {
  const doc = p.document || {};
  const differ = ["path", "title", "kind", "section", "revision", "language", "effectiveDate", "author"].filter((f) => String(doc[f] ?? "") !== String(meta[f] ?? ""));
  if (JSON.stringify(doc.standards ?? []) !== JSON.stringify(meta.standards ?? [])) differ.push("standards");
  for (const f of ["name", "size", "sha256", "contentType"]) if (String(doc.file?.[f] ?? "") !== String(meta.file?.[f] ?? "")) differ.push("file." + f);
  if (p.dossier?.id !== dossier) differ.push("dossier");
  if (p.tenant !== tenant) differ.push("tenant");
  return { name: "sealed_as_sent", passed: differ.length === 0,
    detail: differ.length === 0 ? `the receipt is for ${doc.path} of dossier ${p.dossier?.id}, as sent` :
      `the receipt's ${differ.join(", ")} differ from what was sent (it is for ${doc.path} of dossier ${p.dossier?.id} of tenant ${p.tenant})` };
}

async function upload(d, meta, file, progress) {
  const multipart = file.size > MULTIPART_FROM;
  const partSize = multipart ? Math.ceil(Math.max(PART_SIZE, Math.ceil(file.size / MAX_PARTS)) / (1 << 20)) * (1 << 20) : 0;
  progress("Computing the file's SHA-256…", 0);
  const h = await hashFile(file, partSize, (n) => progress(`Computing the file's SHA-256: ${bytes(n)} of ${bytes(file.size)}`, 0));
  meta.file = { name: file.name, size: file.size, sha256: h.sha256, contentType: file.type || "application/octet-stream" };
  const key = resumeKey(d.id, file);
  let saved = JSON.parse(localStorage.getItem(key) || "null");
  if (saved && saved.sha256 !== h.sha256) saved = null; // the file changed
  if (saved && JSON.stringify({ ...saved.meta, file: meta.file }) !== JSON.stringify(meta)) {
    // The form was changed since: the interrupted upload was started with
    // other metadata, which its receipt would carry. Start afresh.
    await call(`/v1/uploads/${encodeURIComponent(saved.uploadId)}`, { method: "DELETE" }).catch(() => {});
    localStorage.removeItem(key);
    saved = null;
  }
  let held = new Map();
  let uploadId;
  if (saved) {
    const st = await call(`/v1/uploads/${encodeURIComponent(saved.uploadId)}`).catch(() => null);
    if (st && st.state === "open") {
      uploadId = saved.uploadId;
      for (const p of st.parts || []) held.set(p.partNumber, p.sha256);
    } else if (st && st.state === "completed") {
      uploadId = saved.uploadId;
      held = null;
    }
  }
  if (!uploadId) {
    const q = multipart ? `?multipart=true&partSize=${partSize}` : "";
    const start = await call(`/v1/dossiers/${encodeURIComponent(d.id)}/uploads${q}`, { method: "POST", body: meta, headers: { "Idempotency-Key": crypto.randomUUID() } });
    if (start.state === "unchanged") {
      progress(`Unchanged: version ${start.version.version} of ${meta.path} already has these bytes; nothing new was sealed.`, 1);
      return verified(d, meta, start.receipt, h, true);
    }
    uploadId = start.uploadId;
    if (multipart) localStorage.setItem(key, JSON.stringify({ uploadId, sha256: h.sha256, meta }));
    else await put(start.upload, file, (n) => progress(`Uploading: ${bytes(n)} of ${bytes(file.size)}`, n / file.size));
  }
  if (multipart && held) {
    const parts = h.parts.map((sha256, i) => ({ partNumber: i + 1, sha256 })).filter((p) => held.get(p.partNumber) !== p.sha256);
    let sent = (h.parts.length - parts.length) * partSize;
    if (held.size) progress(`Resuming: storage holds ${held.size} of ${h.parts.length} parts.`, sent / file.size);
    for (let i = 0; i < parts.length; i += PARTS_PER_CALL) {
      const { parts: urls } = await call(`/v1/uploads/${encodeURIComponent(uploadId)}/parts`, { method: "POST", body: { parts: parts.slice(i, i + PARTS_PER_CALL) } });
      for (const u of urls) {
        const from = (u.partNumber - 1) * partSize;
        await put(u, file.slice(from, Math.min(from + partSize, file.size)), (n) => progress(`Uploading part ${u.partNumber} of ${h.parts.length}: ${bytes(sent + n)} of ${bytes(file.size)}`, (sent + n) / file.size));
        sent += Math.min(partSize, file.size - from);
        progress(`Uploaded part ${u.partNumber} of ${h.parts.length}.`, sent / file.size);
      }
    }
  }
  progress("Sealing: the vault reads the stored bytes back and signs the receipt…");
  const r = await call(`/v1/uploads/${encodeURIComponent(uploadId)}/complete`, { method: "POST" });
  localStorage.removeItem(key);
  return verified(d, meta, { envelope: r.envelope, log: r.log, ...(r.timestamps ? { timestamps: r.timestamps } : {}) }, h, false);
}

// verified checks the receipt an upload got: the vault's, in the log this
// browser trusts, of the file's bytes, and sealedAsSent.
async function verified(d, meta, bundle, h, unchanged) {
  const view = await logView(null); // members upload to their own tenant
  const ver = await logConsistent(view, await verifyReceipt(bundle, view.trust, h.sha256, h.size));
  if (ver.receipt) {
    ver.checks.push(sealedAsSent(ver.receipt.predicate, d.id, view.tenant, meta));
    ver.valid = ver.checks.every((c) => c.passed);
  }
  return { ver, bundle, unchanged, card: ver.receipt ? receiptCard(ver.receipt, ver.checks) : null };
}


