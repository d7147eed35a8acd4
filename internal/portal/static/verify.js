// Verification in the browser, the checks evault makes (client and
// internal/vault), named alike: format, key_known, signature,
// log_inclusion, file_digest, requested_version, log_consistent, and,
// under the policy this browser keeps (policy.js), timestamp
// (timestamps.js) and witnessed (witnesses.js). Trust
// starts from a key pinned in this browser (localStorage), never from
// what the vault lists: the log's signed key history leads from it to
// the keys that sign each span of the log, and every checkpoint seen must
// extend the one kept. WebCrypto does the ECDSA P-256 and the hashing of
// small things; file bytes are hashed by hash.worker.js as they stream.

import { checkStamps } from "./timestamps.js";
import { checkWitnessed } from "./witnesses.js";
import { verificationPolicy } from "./policy.js";

const PAYLOAD_TYPE = "application/vnd.in-toto+json";
const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
const RECEIPT_TYPE = "https://evidencevault.dev/receipt/v1";
const KEY_EVENT_TYPE = "https://evidencevault.dev/key/v1";
const MAX_PROOF = 63;

export class VerifyError extends Error {}
const fail = (msg) => { throw new VerifyError(msg); };

const utf8 = new TextEncoder();
export const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");

// atobGo is atob under Go's base64.StdEncoding rules: padded, the unused
// bits before the padding ignored (atob alone also takes it unpadded).
function atobGo(s) {
  if (typeof s !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) fail("not base64");
  try {
    return atob(s);
  } catch {
    fail("not base64");
  }
}
const bytesOf = (bin) => Uint8Array.from(bin, (c) => c.charCodeAt(0));

// b64Lenient decodes standard base64 as Go's base64.StdEncoding does
// (not Strict). Go reads note signature lines and a bundle's timestamps
// so.
export const b64Lenient = (s) => bytesOf(atobGo(s));

// b64 decodes standard base64 strictly: a string that is not the
// canonical encoding of its bytes is refused, as Go's Strict decoder does.
export function b64(s) {
  const bin = atobGo(s);
  if (btoa(bin) !== s) fail("not canonical base64");
  return bytesOf(bin);
}

// SPACE is what Go's unicode.IsSpace calls a space, which x/mod's note
// refuses in names (JavaScript's \s differs: it holds U+FEFF, not U+0085).
export const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

// validName is x/mod note's isValidName: not empty, well-formed, no
// space, no "+".
export const validName = (name) => name !== "" && name.isWellFormed() && !SPACE.test(name) && !name.includes("+");

const sha256 = async (b) => new Uint8Array(await crypto.subtle.digest("SHA-256", b));
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) { out.set(p, i); i += p.length; }
  return out;
};

// strictJSON parses text as JSON, refusing what Go's strict decoding
// refuses and JSON.parse accepts: a key given twice in one object (which
// value was signed would be ambiguous) and invalid UTF-16 (lone
// surrogates), so that what is shown is what was signed.
export function strictJSON(text) {
  const value = JSON.parse(text); // syntax first: the scan below assumes it
  // Every number the vault writes is a whole number, and Go reads each
  // into an integer, refusing 1.0 and 1e0, which JSON.parse takes for 1.
  if (!wholeNumbersOnly(text)) fail("a number is not written as a whole number");
  const stack = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{") stack.push(new Set());
    else if (c === "[") stack.push(null);
    else if (c === "}" || c === "]") stack.pop();
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const s = JSON.parse(text.slice(i, j + 1));
      if (!s.isWellFormed()) fail("a string is not valid Unicode");
      i = j;
      let k = j + 1;
      while (" \t\r\n".includes(text[k])) k++;
      const keys = stack[stack.length - 1];
      if (text[k] === ":" && keys) {
        if (keys.has(s)) fail(`the key "${s}" appears twice in one object`);
        keys.add(s);
      }
    }
  }
  return value;
}

const MAX_ENVELOPE = 256 << 10; // receipt.MaxEnvelopeSize

// skipValue returns where the JSON value at i of valid JSON text ends.
function skipValue(t, i) {
  while (" \t\r\n".includes(t[i])) i++;
  const str = (j) => { for (j++; t[j] !== '"'; j += t[j] === "\\" ? 2 : 1); return j; };
  if (t[i] === '"') return str(i) + 1;
  if (t[i] === "{" || t[i] === "[") {
    for (let d = 0; ; i++) {
      if (t[i] === '"') i = str(i);
      else if (t[i] === "{" || t[i] === "[") d++;
      else if ((t[i] === "}" || t[i] === "]") && --d === 0) return i + 1;
    }
  }
  while (i < t.length && !",}] \t\r\n".includes(t[i])) i++;
  return i;
}

// memberText returns the text of the value of member name of the JSON
// object text (valid JSON), or null.
function memberText(t, name) {
  for (let i = t.indexOf("{") + 1; ;) {
    while (" \t\r\n,".includes(t[i])) i++;
    if (t[i] !== '"') return null;
    const end = skipValue(t, i), key = JSON.parse(t.slice(i, end));
    i = t.indexOf(":", end) + 1;
    while (" \t\r\n".includes(t[i])) i++;
    const vEnd = skipValue(t, i);
    if (key === name) return t.slice(i, vEnd);
    i = vEnd;
  }
}

// readReceipt reads a receipt file's bytes as Go's OpenReceipt reads
// them: UTF-8 without a byte-order mark (Blob.text would drop one, and
// replace invalid bytes), strict JSON, an envelope of at most 256 KiB as
// written.
export function readReceipt(bytes) {
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    fail("the receipt file is not UTF-8");
  }
  let value;
  try {
    value = strictJSON(text);
  } catch (e) {
    fail("the receipt file is not strict JSON: " + e.message);
  }
  const env = value && typeof value === "object" && !Array.isArray(value) && "envelope" in value ? memberText(text, "envelope") : text.trim();
  if (env !== null && utf8.encode(env).length > MAX_ENVELOPE) fail(`the receipt's envelope is larger than ${MAX_ENVELOPE} bytes`);
  return value;
}

// exactKeys refuses objects with fields the schema does not define.
function exactKeys(obj, allowed, what) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) fail(`${what} is not an object`);
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) fail(`${what} has an unknown field "${k}"`);
}

// --- keys ------------------------------------------------------------

// parseKey reads a PEM ECDSA P-256 public key. Its id is the SHA-256 of
// its DER SubjectPublicKeyInfo as WebCrypto re-encodes it, as Go's
// x509.MarshalPKIXPublicKey does: one key has one id.
export async function parseKey(pem) {
  const m = /^-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END PUBLIC KEY-----\r?\n?$/.exec(String(pem).trim() + "\n");
  if (!m) fail("not a PEM public key");
  let key;
  try {
    key = await crypto.subtle.importKey("spki", b64(m[1].replace(/\s/g, "")), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
  } catch {
    fail("not an ECDSA P-256 public key");
  }
  const der = new Uint8Array(await crypto.subtle.exportKey("spki", key));
  return { id: hex(await sha256(der)), pem: String(pem), key, der };
}

// pemOf is the PEM the vault writes for a key (Go's pem.EncodeToMemory):
// a key event must name its key in exactly these bytes.
function pemOf(der) {
  const lines = btoa(String.fromCharCode(...der)).match(/.{1,64}/g);
  return "-----BEGIN PUBLIC KEY-----\n" + lines.join("\n") + "\n-----END PUBLIC KEY-----\n";
}

// derToRaw converts an ASN.1 DER ECDSA signature (what KMS and Go give)
// into the 64 bytes r||s WebCrypto verifies, refusing any encoding that
// is not minimal DER, as Go's ecdsa.VerifyASN1 does.
export function derToRaw(der) {
  let i = 0;
  const byte = () => { if (i >= der.length) fail("signature: truncated"); return der[i++]; };
  if (byte() !== 0x30) fail("signature: not a DER sequence");
  let len = byte();
  if (len === 0x81) { len = byte(); if (len < 0x80) fail("signature: non-minimal length"); } else if (len & 0x80) fail("signature: bad length");
  if (i + len !== der.length) fail("signature: trailing or missing bytes");
  const raw = new Uint8Array(64);
  for (const at of [0, 32]) {
    if (byte() !== 0x02) fail("signature: not an integer");
    const n = byte();
    if (n < 1 || n > 33 || i + n > der.length) fail("signature: bad integer length");
    let int = der.subarray(i, i + n);
    i += n;
    if (int[0] & 0x80) fail("signature: negative integer");
    if (n > 1 && int[0] === 0 && !(int[1] & 0x80)) fail("signature: non-minimal integer");
    if (int[0] === 0) int = int.subarray(1);
    if (int.length > 32) fail("signature: integer too large");
    raw.set(int, at + 32 - int.length);
  }
  if (i !== der.length) fail("signature: trailing bytes");
  return raw;
}

async function ecdsaVerify(key, der, msg) {
  let raw;
  try { raw = derToRaw(der); } catch { return false; }
  return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key.key, raw, msg);
}

// --- DSSE and in-toto ------------------------------------------------------

const pae = (type, body) => concat(utf8.encode(`DSSEv1 ${utf8.encode(type).length} ${type} ${body.length} `), body);

// openEnvelope reads a DSSE envelope and its in-toto statement without
// checking any signature.
export function openEnvelope(env) {
  exactKeys(env, ["payloadType", "payload", "signatures"], "the envelope");
  if (env.payloadType !== PAYLOAD_TYPE) fail(`payload type ${JSON.stringify(env.payloadType)}, want ${PAYLOAD_TYPE}`);
  if (!Array.isArray(env.signatures) || env.signatures.length === 0) fail("the envelope carries no signature");
  const payload = b64(env.payload);
  let st, text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(payload);
    st = strictJSON(text);
  } catch (e) {
    fail("the statement is not strict JSON: " + e.message);
  }
  exactKeys(st, ["_type", "subject", "predicateType", "predicate"], "the statement");
  if (st._type !== STATEMENT_TYPE) fail(`statement type ${JSON.stringify(st._type)}, want ${STATEMENT_TYPE}`);
  if (!Array.isArray(st.subject) || st.subject.length === 0) fail("the statement names no subject");
  const sigs = env.signatures.map((s) => {
    exactKeys(s, ["keyid", "sig"], "a signature");
    return { keyid: s.keyid ?? "", sig: b64(s.sig) };
  });
  return { payload, text, statement: st, sigs, type: env.payloadType };
}

// signedBy mirrors receipt.signedBy: the first signature whose key id
// is one of keys decides; it holds, or the receipt is badly signed. A
// signature naming no key id names no key.
async function signedBy(opened, keys) {
  const msg = pae(opened.type, opened.payload);
  for (const s of opened.sigs) {
    const k = keys.find((k) => s.keyid === k.id);
    if (k) return { key: (await ecdsaVerify(k, s.sig, msg)) ? k : null, known: k };
  }
  return { key: null, known: null };
}

// --- checkpoints (C2SP signed notes) and proofs ----------------------------

// signatureLine reads a note's signature line as x/mod's note.Open does:
// "— ", a valid name, one space, standard base64 (leniently) of at least
// five bytes (a key hash and a signature).
export function signatureLine(line) {
  if (!line.startsWith("\u2014 ")) fail("the checkpoint has a malformed signature line");
  const rest = line.slice(2);
  const sp = rest.indexOf(" ");
  const name = sp < 0 ? rest : rest.slice(0, sp), enc = sp < 0 ? "" : rest.slice(sp + 1);
  let blob;
  try { blob = b64Lenient(enc); } catch { fail("the checkpoint has a malformed signature line"); }
  if (!validName(name) || enc === "" || blob.length < 5) fail("the checkpoint has a malformed signature line");
  return { name, blob };
}

// openCheckpoint verifies a signed checkpoint of log origin with one of
// keys (the note key hash is the first four bytes of a key's id) and
// returns its body.
export async function openCheckpoint(signed, origin, keys) {
  if (typeof signed !== "string") fail("the checkpoint is not a signed note");
  const at = signed.lastIndexOf("\n\n"); // as x/mod's note.Open: the signatures follow the last blank line
  if (at < 0 || !signed.endsWith("\n")) fail("the checkpoint is not a signed note");
  // As note.Open: no control characters but newlines, at most 100
  // signatures, names without spaces or "+".
  if (/[\u0000-\u0009\u000b-\u001f]/.test(signed) || !signed.isWellFormed()) fail("the checkpoint is not a well-formed note");
  const text = signed.slice(0, at + 1);
  let verified = false;
  const seen = new Set();
  const lines = signed.slice(at + 2, -1).split("\n");
  if (lines.length > 100) fail("the checkpoint has more than 100 signatures");
  for (const line of lines) {
    const { name, blob } = signatureLine(line);
    if (name !== origin) continue;
    const hash = hex(blob.subarray(0, 4));
    // As note.Open: a name and key hash seen before is a repeat, dropped
    // unread.
    if (seen.has(hash)) continue;
    seen.add(hash);
    for (const k of keys) {
      if (k.id.slice(0, 8) !== hash) continue;
      if (!(await ecdsaVerify(k, blob.subarray(4), utf8.encode(text)))) fail(`the checkpoint's signature by ${origin} does not hold`);
      verified = true;
    }
  }
  if (!verified) fail(`the checkpoint carries no signature by a known key for ${origin}`);
  const body = text.slice(0, -1).split("\n");
  if (body.length < 3) fail("the checkpoint has fewer than 3 lines");
  if (body.slice(3).some((l) => l === "")) fail("the checkpoint has an empty extension line");
  const [o, size, root] = body;
  if (o !== origin) fail(`the checkpoint is for log ${o}, not ${origin}`);
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) fail(`checkpoint size ${size}`);
  const hash = b64(root);
  if (hash.length !== 32) fail("the checkpoint's root hash is not 32 bytes");
  return { origin, size: Number(size), hash, signed };
}

const leafHash = (leaf) => sha256(concat(Uint8Array.of(0), leaf));
const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));
const lsb = (n) => n % 2 === 1;
const half = (n) => Math.floor(n / 2);

// verifyInclusion checks an RFC 9162 inclusion proof of leaf at index in
// the tree of checkpoint cp.
export async function verifyInclusion(cp, index, leaf, proof) {
  if (!Number.isSafeInteger(index) || index < 0 || index >= cp.size) fail(`index ${index} is outside a tree of ${cp.size} entries`);
  if (!Array.isArray(proof) || proof.length > MAX_PROOF) fail("malformed inclusion proof");
  let fn = index, sn = cp.size - 1, r = await leafHash(leaf);
  for (const p of proof.map(b64)) {
    if (sn === 0) fail(`entry ${index} is not in the tree of size ${cp.size}`);
    if (lsb(fn) || fn === sn) {
      r = await nodeHash(p, r);
      if (!lsb(fn)) while (!lsb(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn); sn = half(sn);
  }
  if (sn !== 0 || !equal(r, cp.hash)) fail(`entry ${index} is not in the tree of size ${cp.size}`);
}

// verifyConsistency checks an RFC 9162 consistency proof that the tree
// of newer extends the tree of older.
export async function verifyConsistency(older, newer, proof) {
  if (older.origin !== newer.origin) fail("checkpoints of two logs");
  if (older.size > newer.size) fail(`size ${newer.size} is not after size ${older.size}: the log was rolled back`);
  if (!Array.isArray(proof) || proof.length > MAX_PROOF) fail("malformed consistency proof");
  const bad = () => fail(`the tree of size ${newer.size} does not extend the tree of size ${older.size}`);
  if (older.size === 0) return;
  if (older.size === newer.size) { if (proof.length !== 0 || !equal(older.hash, newer.hash)) bad(); return; }
  let path = proof.map(b64);
  if (Number.isInteger(Math.log2(older.size))) path = [older.hash, ...path]; // a power of two: its root is a node of newer
  if (path.length === 0) bad();
  let fn = older.size - 1, sn = newer.size - 1;
  while (lsb(fn)) { fn = half(fn); sn = half(sn); }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) bad();
    if (lsb(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (!lsb(fn)) while (!lsb(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn); sn = half(sn);
  }
  if (sn !== 0 || !equal(fr, older.hash) || !equal(sr, newer.hash)) bad();
}

// --- trust: keys for spans of the log --------------------------------------

// allows mirrors vault.Trust.Allows: a key signs the entries of its span;
// a receipt without a place in the log only a current key.
export function allows(trust, keyID, index) {
  return trust.keys.some((k) => k.key.id === keyID &&
    (index < 0 ? k.until < 0 : index >= k.from && (k.until < 0 || index < k.until)));
}
const signersAt = (trust, size) => trust.keys.filter((k) => size >= 1 && allows(trust, k.key.id, size - 1)).map((k) => k.key);

// keySteps verifies each key event on its own: of log origin, signed by
// its key (and a rotation by the key it retires too), in checkpoint cp
// when given.
async function keySteps(origin, events, cp) {
  const steps = [];
  for (const rec of events) {
    exactKeys(rec, ["envelope", "log"], "a key event");
    const o = openEnvelope(rec.envelope);
    if (o.statement.predicateType !== KEY_EVENT_TYPE) fail("an entry of the key history is not a key event");
    const ev = o.statement.predicate;
    exactKeys(ev, ["event", "log", "key", "previous", "at"], "a key event");
    exactKeys(ev.key, ["keyId", "algorithm", "publicKey"], "a key event's key");
    if (ev.previous) exactKeys(ev.previous, ["keyId", "algorithm", "publicKey"], "a key event's previous key");
    const key = await parseKey(ev.key?.publicKey);
    if (ev.key.publicKey !== pemOf(key.der) || key.id !== ev.key.keyId || o.statement.subject.length !== 1 || o.statement.subject[0].digest?.sha256 !== key.id) fail(`the ${ev.event} event of key ${ev.key.keyId} names its key inconsistently`);
    if (ev.log !== origin) fail(`a key event of log ${ev.log}, not ${origin}`);
    const signers = [key];
    let previous = null;
    if (ev.event === "rotation") {
      if (!ev.previous) fail(`the rotation to key ${key.id} names no previous key`);
      previous = await parseKey(ev.previous.publicKey);
      if (ev.previous.publicKey !== pemOf(previous.der) || previous.id !== ev.previous.keyId) fail(`the rotation to key ${key.id} names its previous key inconsistently`);
      signers.push(previous);
    } else if (ev.event !== "genesis") {
      fail(`unknown key event ${ev.event}`);
    }
    for (const k of signers) {
      // receipt.VerifyAll: each key signed it.
      if (!(await signedBy(o, [k])).key) fail(`the ${ev.event} event of key ${key.id} is not signed by key ${k.id}`);
    }
    if (!rec.log || rec.log.origin !== origin) fail(`the ${ev.event} event of key ${key.id} has no place in log ${origin}`);
    if (cp) await verifyInclusion(cp, rec.log.index, o.payload, rec.log.inclusionProof);
    steps.push({ index: rec.log.index, event: ev.event, key, previous });
  }
  return steps.sort((a, b) => a.index - b.index);
}

// linkKeys mirrors vault.linkKeys: a genesis, then rotations, each from
// the key before; each key trusted for its span.
function linkKeys(steps) {
  const keys = [];
  steps.forEach((st, i) => {
    const last = keys[keys.length - 1];
    if (i === 0) {
      if (st.event !== "genesis") fail(`the first key event is a ${st.event}, not a genesis`);
      keys.push({ key: st.key, from: 0, until: -1 });
    } else if (st.event === "genesis" && st.key.id === last.key.id) {
      // the same genesis again: two processes raced at the log's start
    } else if (st.event !== "rotation") {
      fail(`a second genesis, of key ${st.key.id}, at ${st.index}: keys change only by signed rotations`);
    } else if (st.previous.id !== last.key.id) {
      fail(`the rotation at ${st.index} retires key ${st.previous.id}, but the log's key is ${last.key.id}`);
    } else {
      last.until = st.index;
      keys.push({ key: st.key, from: st.index, until: -1 });
    }
  });
  return keys;
}

export class UntrustedKeyError extends VerifyError {}

// trustLog mirrors vault.TrustLog: the keys of the log from the pinned
// key (or, with none pinned, from its genesis), the checkpoint opened
// with the key allowed at its size, every key event in it.
export async function trustLog(origin, signed, events, pinned) {
  let trust;
  if (events.length === 0) {
    if (!pinned) fail(`log ${origin} records no key and none is pinned: nothing to trust`);
    trust = { keys: [{ key: pinned, from: 0, until: -1 }], basis: `the key ${pinned.id} pinned in this browser (the log records no key history)` };
  } else {
    const keys = linkKeys(await keySteps(origin, events, null));
    if (!pinned) {
      trust = { keys, basis: `the log's own key history, from its genesis key ${keys[0].key.id} (pinned in this browser now, on first use)` };
    } else if (keys.some((k) => k.key.id === pinned.id)) {
      trust = { keys, basis: `the key pinned in this browser, ${pinned.id}` + (keys.length > 1 ? `, and the ${keys.length - 1} keys its log's signed rotations lead to` : "") };
    } else {
      throw new UntrustedKeyError(`log ${origin} is signed by key ${keys[keys.length - 1].key.id}, which is no signed rotation from key ${pinned.id} pinned in this browser`);
    }
  }
  const cp = await openTrusted(origin, signed, trust);
  if (events.length > 0) await keySteps(origin, events, cp);
  return { trust, latest: cp };
}

async function openTrusted(origin, signed, trust) {
  const cp = await openCheckpoint(signed, origin, trust.keys.map((k) => k.key));
  try {
    await openCheckpoint(signed, origin, signersAt(trust, cp.size));
  } catch (e) {
    fail(`the checkpoint of ${origin} at size ${cp.size} is not signed by the key of its last entry: ${e.message}`);
  }
  return cp;
}

// --- receipts --------------------------------------------------------

// The receipt predicate's schema (vault.ReceiptPredicate), as Go's
// strict decoding reads it: S a string, I a whole number, T an RFC 3339
// time, [S] strings, objects their fields and no others. null, or a field
// left out, is Go's zero value and passes, as it does there.
const S = "s", I = "i", T = "t";
const PREDICATE = {
  receiptId: S, tenant: S, version: I, uploadId: S, receivedAt: T, sealedAt: T,
  dossier: { id: S, name: S, basicUdiDi: S, regulation: S, riskClass: S, notifiedBody: S },
  document: { path: S, title: S, kind: S, section: S, revision: S, language: S, effectiveDate: S, standards: [S], author: S,
    file: { name: S, size: I, sha256: S, contentType: S } },
  storage: { bucket: S, key: S, versionId: S, size: I, contentType: S },
  uploader: { tenant: S, subject: S, role: S },
  retention: { mode: S, retainUntil: T },
  supersedes: { version: I, receiptId: S, sha256: S, versionId: S },
};
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;

// rfc3339 reports whether s is a time Go's time.Parse(time.RFC3339) takes:
// the form, and each field in its range (no February 30th, no second 60).
export function rfc3339(s) {
  const m = typeof s === "string" && RFC3339.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number);
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return mo >= 1 && mo <= 12 && d >= 1 && d <= days && h <= 23 && mi <= 59 && se <= 59 && (m[8] === "Z" || (Number(m[9]) <= 23 && Number(m[10]) <= 59));
}

function checkSchema(v, schema, what) {
  if (v === null || v === undefined) return;
  if (Array.isArray(schema)) {
    if (!Array.isArray(v)) fail(`${what} is not a list`);
    v.forEach((x, i) => checkSchema(x, schema[0], `${what}[${i}]`));
  } else if (typeof schema === "object") {
    exactKeys(v, Object.keys(schema), what);
    for (const [k, sub] of Object.entries(schema)) checkSchema(v[k], sub, `${what}.${k}`);
  } else if (schema === S && typeof v !== "string") fail(`${what} is not a string`);
  else if (schema === I && !Number.isSafeInteger(v)) fail(`${what} is not a whole number`);
  else if (schema === T && !rfc3339(v)) fail(`${what} is not an RFC 3339 time`);
}

// checkPredicate refuses what Go's strict decoding of the predicate
// refuses (its numbers' text strictJSON has checked).
function checkPredicate(p) {
  checkSchema(p, PREDICATE, "predicate");
}

// wholeNumbersOnly reports whether every number of JSON text, outside its
// strings, is written without a fraction or an exponent.
function wholeNumbersOnly(text) {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; text[i] !== '"'; i += text[i] === "\\" ? 2 : 1);
    } else if (c === "." || c === "e" || c === "E") {
      // Outside strings these occur only in numbers (true, false and null
      // hold an e: skip words).
      if (c !== "." && /[a-z]/.test(text[i - 1] || "")) continue;
      return false;
    }
  }
  return true;
}

// openLogProof reads a bundle's log proof as Go's strict decoding of
// ledger.Proof does: an object (or null, no proof) of the four fields,
// each of its type or null (its zero value), the proof's hashes strict
// base64 SHA-256.
function openLogProof(log) {
  if (log === null || log === undefined) return null;
  exactKeys(log, ["origin", "index", "checkpoint", "inclusionProof"], "the receipt's log proof");
  const { origin = null, index = null, checkpoint = null, inclusionProof = null } = log;
  if (origin !== null && typeof origin !== "string") fail("the receipt's log origin is not a string");
  if (checkpoint !== null && typeof checkpoint !== "string") fail("the receipt's checkpoint is not a string");
  if (index !== null && !Number.isSafeInteger(index)) fail("the receipt's log index is not a whole number");
  if (inclusionProof !== null && !Array.isArray(inclusionProof)) fail("the receipt's inclusion proof is not a list");
  const proof = (inclusionProof || []).map((h, i) => {
    let b;
    try { b = b64(h); } catch { fail(`proof hash ${i} is not a base64 SHA-256`); }
    if (b.length !== 32) fail(`proof hash ${i} is not a base64 SHA-256`);
    return h;
  });
  return { origin: origin ?? "", index: index ?? 0, checkpoint: checkpoint ?? "", inclusionProof: proof };
}

// openReceipt reads a receipt bundle ({envelope, log, timestamps}) or a
// bare envelope.
export function openReceipt(bundle) {
  let env = bundle, log = null, timestamps = [];
  if (bundle && typeof bundle === "object" && "envelope" in bundle) {
    exactKeys(bundle, ["envelope", "log", "timestamps"], "the receipt bundle");
    env = bundle.envelope;
    log = openLogProof(bundle.log);
    // RFC 3161 timestamps of the signature (DER TimeStampResp, base64,
    // read as Go reads []byte: leniently, null as no bytes), checked
    // under the policy's authorities (timestamps.js).
    const ts = bundle.timestamps ?? [];
    if (!Array.isArray(ts)) fail("the receipt's timestamps are not a list of base64 tokens");
    try {
      timestamps = ts.map((t) => (t === null ? new Uint8Array() : b64Lenient(t)));
    } catch {
      fail("the receipt's timestamps are not a list of base64 tokens");
    }
  }
  // The bound readReceipt holds a file in hand to, for a receipt the API
  // served too (compact JSON: at most the bytes Go measures).
  if (env !== null && typeof env === "object" && utf8.encode(JSON.stringify(env)).length > MAX_ENVELOPE) fail(`the receipt's envelope is larger than ${MAX_ENVELOPE} bytes`);
  const o = openEnvelope(env);
  if (o.statement.predicateType !== RECEIPT_TYPE) fail(`predicate type ${JSON.stringify(o.statement.predicateType)}, want ${RECEIPT_TYPE}`);
  if (o.statement.subject.length !== 1 || !o.statement.subject[0].digest?.sha256) fail("want exactly one subject with a sha256 digest");
  const p = o.statement.predicate;
  if (p === null || typeof p !== "object" || Array.isArray(p)) fail("the statement's predicate is not an object");
  checkPredicate(p);
  return { ...o, subject: o.statement.subject[0], predicate: p, log, timestamps };
}

// verifyReceipt mirrors vault.VerifyOffline: the checks that need no
// storage, and file_digest when the file's sha256 (hex) is given.
export async function verifyReceipt(bundle, trust, sha256hex, size) {
  const checks = [];
  const add = (name, passed, detail) => checks.push({ name, passed, detail });
  let r;
  try {
    r = openReceipt(bundle);
  } catch (e) {
    add("format", false, e.message);
    return { valid: false, checks, receipt: null };
  }
  add("format", true, "DSSE envelope holding an in-toto Statement v1 with a " + RECEIPT_TYPE + " predicate");
  const index = r.log ? r.log.index : -1;
  const { key, known } = await signedBy(r, trust.keys.map((k) => k.key));
  if (!known) {
    add("key_known", false, "no signature is by a key you trust: " + trust.basis);
  } else if (key && !allows(trust, key.id, index)) {
    add("key_known", false, `signed by key ${key.id}, which the log's key history does not allow at entry ${index}: it had been rotated away, or was not yet in use`);
  } else if (!key) {
    add("key_known", true, "signed by key " + known.id);
    add("signature", false, "the signature does not match the receipt's content: it was altered or forged");
  } else {
    add("key_known", true, "signed by key " + key.id);
    add("signature", true, "ECDSA P-256 SHA-256 signature over the DSSE envelope holds");
  }
  const policy = trust.policy || {};
  if (policy.stamps) {
    // Whatever goes wrong is this check's failure: a token or a kept
    // policy that cannot be read says so here, not by stopping the page.
    try {
      const st = await checkStamps(r, policy.stamps);
      r.stamp = st.stamp || null;
      add("timestamp", st.passed, st.detail);
    } catch (e) {
      add("timestamp", false, e.message || String(e));
    }
  }
  if (r.log) {
    try {
      if (r.log.origin !== trust.origin && trust.origin) fail(`the receipt is of log ${r.log.origin}, not ${trust.origin}`);
      const cp = await openCheckpoint(r.log.checkpoint, r.log.origin, trust.keys.map((k) => k.key));
      await verifyInclusion(cp, r.log.index, r.payload, r.log.inclusionProof);
      try {
        await openCheckpoint(r.log.checkpoint, r.log.origin, signersAt(trust, cp.size));
      } catch (e) {
        fail(`the checkpoint of size ${cp.size} is not signed by the key the log's history gives its last entry: ${e.message}`);
      }
      r.checkpoint = cp;
      add("log_inclusion", true, `entry ${r.log.index} of log ${cp.origin}, in its signed checkpoint of size ${cp.size}`);
    } catch (e) {
      add("log_inclusion", false, e.message);
    }
  }
  if (policy.witnesses) {
    if (!r.log) {
      add("witnessed", false, "a bare envelope carries no checkpoint for witnesses to have cosigned: verify the receipt bundle");
    } else {
      try {
        r.witnessedBy = await checkWitnessed(r.log.checkpoint, policy.witnesses);
        add("witnessed", true, "its checkpoint is cosigned by " + r.witnessedBy.join(", "));
      } catch (e) {
        add("witnessed", false, e.message || String(e));
      }
    }
  }
  const digest = r.subject.digest.sha256;
  if (sha256hex !== undefined) {
    if (sha256hex !== digest) add("file_digest", false, `the file's SHA-256 ${sha256hex} differs from the receipt's ${digest}`);
    else if (size !== r.predicate.storage?.size) add("file_digest", false, `the file is ${size} bytes; the receipt says ${r.predicate.storage?.size}`);
    else add("file_digest", true, "the file's SHA-256 is the one the receipt names");
  }
  return { valid: checks.every((c) => c.passed), checks, receipt: r };
}

// --- the log as this browser trusts it -----------------------------------

const PINS = "evidencevault.pins";
const pins = () => JSON.parse(localStorage.getItem(PINS) || "{}");
export const pinOf = (origin) => pins()[origin] || null;
export function keepPin(pin) {
  const all = pins();
  all[pin.origin] = pin;
  localStorage.setItem(PINS, JSON.stringify(all));
}
export function forgetPin(origin) {
  const all = pins();
  delete all[origin];
  localStorage.setItem(PINS, JSON.stringify(all));
}

// A log's origin is evidencevault.dev/ledger/{bucket}/{tenant}
// (vault.LogOrigin), in ASCII, so that no look-alike name passes.
const LOG_ORIGIN = /^evidencevault\.dev\/ledger\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/([a-z0-9][a-z0-9-]{0,62})$/;

// logOf reads a log's origin and refuses one that is not the log of the
// tenant being read (when known), or not in the bucket of the logs this
// browser pinned for this vault: a log under a new name would otherwise
// be pinned on first use, its key trusted, without a word. (localStorage
// is the portal's origin's: every pin here is of this vault.)
export function logOf(origin, tenant, own) {
  const m = LOG_ORIGIN.exec(origin);
  if (!m) fail(`the vault's log is named ${JSON.stringify(origin)}, not evidencevault.dev/ledger/BUCKET/TENANT`);
  const [, bucket, named] = m;
  if (tenant && named !== tenant) fail(`the vault answers with the log of tenant ${named} (${origin}) for tenant ${tenant}`);
  for (const p of Object.values(pins())) {
    const other = LOG_ORIGIN.exec(p.origin);
    if (other && other[1] !== bucket) fail(`this browser pinned the logs of this vault in bucket ${other[1]} (${p.origin}); it now names bucket ${bucket} (${origin}): refusing a log under a new name. If the vault's operator told you the vault moved, forget the old pins in the trust panel`);
    // The member's own tenant is the vault's word (/v1/me): held to the
    // one this browser met first.
    if (other && own && p.home && other[2] !== named) fail(`your own tenant's log in this browser was ${other[2]}'s (${p.origin}); the vault now answers with tenant ${named}'s (${origin}): refusing it. If your account moved to tenant ${named}, forget the pin of ${p.origin} in the trust panel`);
  }
  return { bucket, tenant: named };
}

// openLog mirrors client.Open: the log's key history and latest
// checkpoint, trusted from the pinned key (pinned now if none is), and
// consistent with the checkpoint kept on the last visit. get(path) calls
// the API for the log of the tenant being read.
export async function openLog(get, tenant, own = false) {
  const kl = await get("/v1/log/keys");
  const named = logOf(kl.origin, tenant, own);
  let pin = pinOf(kl.origin);
  let pinned = pin ? await parseKey(pin.key) : null;
  let firstUse = false;
  if (!pinned && kl.events.length === 0) {
    const listed = await get("/v1/keys");
    if (listed.keys.length === 0) fail("the vault lists no key and its log records none: nothing to pin");
    pinned = await parseKey(listed.keys[0].publicKey);
    firstUse = true;
  }
  const { trust, latest } = await trustLog(kl.origin, kl.checkpoint, kl.events, pinned);
  trust.origin = kl.origin;
  const policy = await verificationPolicy(get);
  trust.policy = policy.compiled;
  const view = { origin: kl.origin, tenant: named.tenant, trust, latest, get, policy, firstUse: firstUse || !pin, kept: 0 };
  if (pin && pin.checkpoint) {
    const kept = await extendsCheckpoint(view, pin.checkpoint, false).catch((e) => fail(`the checkpoint this browser kept is not part of the log as the vault shows it now: ${e.message}`));
    view.kept = kept.size;
  }
  const current = trust.keys[trust.keys.length - 1].key;
  // A log whose checkpoint the witness policy refuses changes nothing kept,
  // as evault keeps nothing: no key is pinned on first use (it may be an
  // impostor's), and the next visit is held to the last checkpoint
  // witnesses cosigned.
  const witnessed = !trust.policy?.witnesses || (await checkWitnessed(latest.signed, trust.policy.witnesses).then(() => true, () => false));
  if (witnessed) keepPin({ origin: kl.origin, home: own || !!pin?.home, key: (pinned || current).pem, keyId: (pinned || current).id, checkpoint: latest.signed, pinnedAt: pin?.pinnedAt || new Date().toISOString(), checkedAt: new Date().toISOString() });
  return view;
}

// extendsCheckpoint proves that the view's latest checkpoint extends an
// earlier signed one of its log (signed, when bySpan, by the key of its
// last entry).
export async function extendsCheckpoint(view, signed, bySpan = true) {
  const cp = await openCheckpoint(signed, view.origin, view.trust.keys.map((k) => k.key));
  if (bySpan) await openCheckpoint(signed, view.origin, signersAt(view.trust, cp.size)).catch(() => fail(`its checkpoint of size ${cp.size} is not signed by the key of its last entry`));
  if (cp.size > view.latest.size) fail(`it has ${cp.size} entries; the vault's latest checkpoint has ${view.latest.size}: the log was rolled back`);
  if (cp.size === view.latest.size) {
    if (!equal(cp.hash, view.latest.hash)) fail(`two trees of ${cp.size} entries differ: the log was forked`);
    return cp;
  }
  const p = await view.get(`/v1/log/proofs/consistency?from=${cp.size}&to=${view.latest.size}`);
  await verifyConsistency(cp, view.latest, p.proof);
  return cp;
}

// checkDownload adds to a receipt's verification the checks of a
// download: the receipt is for the version asked, and its checkpoint is
// part of the log this browser verified.
export async function checkDownload(view, ver, want) {
  const r = ver.receipt;
  if (!r) return ver;
  const p = r.predicate;
  // The version asked for (if one was), and the one the vault said it
  // answered with.
  const ok = p.dossier?.id === want.dossier && p.document?.path === want.path && p.version === want.version && p.storage?.versionId === want.versionId &&
    (!want.asked || p.version === want.asked) && p.tenant === view.tenant;
  ver.checks.push({ name: "requested_version", passed: ok, detail: `the receipt is for ${p.document?.path} of dossier ${p.dossier?.id} of tenant ${p.tenant}, version ${p.version}` });
  if (!r.log) {
    ver.checks.push({ name: "log_consistent", passed: false, detail: "the receipt carries no log proof" });
  } else {
    try {
      await extendsCheckpoint(view, r.log.checkpoint);
      ver.checks.push({ name: "log_consistent", passed: true, detail: `the receipt's checkpoint is part of the log at ${view.latest.size} entries, as verified` });
    } catch (e) {
      ver.checks.push({ name: "log_consistent", passed: false, detail: e.message });
    }
  }
  ver.valid = ver.checks.every((c) => c.passed);
  return ver;
}

// verifyEntry checks a log entry's envelope as vault.OpenLifecycle does,
// and its place: signed by a key trust allows at index, and held at index
// in checkpoint cp (proof from the vault).
export async function verifyEntry(envelope, index, trust, cp, proof) {
  const o = openEnvelope(envelope);
  // The vault signs each record once (receipt.VerifySingle): an entry
  // with a second signature is not one Go's verifiers read.
  if (o.sigs.length !== 1) throw new VerifyError(`entry ${index} carries ${o.sigs.length} signatures; the vault signs once`);
  const { key } = await signedBy(o, trust.keys.map((k) => k.key));
  if (!key || !allows(trust, key.id, index)) throw new VerifyError(`entry ${index} is not signed by the key the log's history gives it`);
  await verifyInclusion(cp, index, o.payload, proof);
  return o;
}
