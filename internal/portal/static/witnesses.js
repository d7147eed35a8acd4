// Witness cosignatures of a checkpoint, checked in the browser as
// internal/witnessing's Policy.Check does with x/mod's note and
// transparency-dev's cosignature/v1 verifier: each witness is an Ed25519
// key (C2SP tlog-cosignature), its signature line names it and its key
// hash, and it signs "cosignature/v1\ntime T\n" and the checkpoint's text.
// A policy wants cosignatures of at least quorum of its witnesses; a line
// by one of them that does not verify fails the checkpoint.

import { VerifyError, b64Lenient, hex, signatureLine, validName } from "./verify.js";

const fail = (msg) => { throw new VerifyError(msg); };
const utf8 = new TextEncoder();
const ALG_ED25519 = 0x01, ALG_COSIGNATURE_V1 = 0x04;

// parseWitness reads a witness's public key in note vkey form
// (name+hash+base64 of a type byte and the key), as
// witnessing.ParseVerifier: Ed25519, as a standard (0x01) or a
// cosignature/v1 (0x04) key, which are one key.
export async function parseWitness(vkey) {
  const s = String(vkey).trim();
  const a = s.indexOf("+"), b = a < 0 ? -1 : s.indexOf("+", a + 1);
  if (b < 0) fail(`witness key ${JSON.stringify(s)}: want name+hash+key`);
  const name = s.slice(0, a), hash16 = s.slice(a + 1, b);
  let key;
  try { key = b64Lenient(s.slice(b + 1)); } catch { fail(`witness key ${JSON.stringify(s)}: the key is not base64`); }
  if (!validName(name) || hash16.length !== 8 || key.length === 0) fail(`witness key ${JSON.stringify(s)}: malformed`);
  // Go also takes ML-DSA-44 witnesses (type 0x06); WebCrypto cannot
  // verify them, so the vault publishes none (assembly refuses them).
  if (key[0] !== ALG_ED25519 && key[0] !== ALG_COSIGNATURE_V1) fail(`witness ${name}: not an Ed25519 key, the only kind this browser can check`);
  if (key.length !== 33) fail(`witness key ${JSON.stringify(s)}: malformed`);
  const raw = key.slice(1);
  const typed = new Uint8Array(33);
  typed[0] = ALG_COSIGNATURE_V1;
  typed.set(raw, 1);
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array([...utf8.encode(name + "\n"), ...typed])));
  let verifier;
  try {
    verifier = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  } catch {
    fail(`witness key ${JSON.stringify(s)}: not an Ed25519 public key`);
  }
  return { vkey: s, name, hash: hex(h.subarray(0, 4)), key: hex(raw), verifier };
}

// verifyCosignature checks one cosignature/v1 signature (timestamp and
// Ed25519 signature, past the key hash) over the note's text.
async function verifyCosignature(w, text, sig) {
  if (sig.length !== 8 + 64) return false;
  let t = 0n;
  for (const x of sig.subarray(0, 8)) t = (t << 8n) | BigInt(x);
  const msg = utf8.encode(`cosignature/v1\ntime ${t}\n${text}`);
  return crypto.subtle.verify({ name: "Ed25519" }, w.verifier, sig.subarray(8), msg);
}

// checkWitnessed returns the names of the policy's witnesses that
// cosigned the signed note checkpoint, or fails, as Policy.Check: fewer
// than quorum of them cosigned, or a line by one of them does not verify.
// The log's own signature is checked by verify.js.
export async function checkWitnessed(checkpoint, policy) {
  if (policy.error) fail(policy.error);
  const { witnesses, quorum } = policy;
  if (!(quorum > 0 && quorum <= witnesses.length)) fail(`the policy wants ${quorum} cosignatures from ${witnesses.length} witnesses`);
  const byKey = new Map();
  for (const w of witnesses) {
    if (byKey.has(w.key)) fail(`witnesses ${byKey.get(w.key).name} and ${w.name} are one key: they count as one witness`);
    byKey.set(w.key, w);
  }
  const names = witnesses.map((w) => w.name).join(", ");
  if (typeof checkpoint !== "string") fail("the checkpoint is not a signed note");
  const at = checkpoint.lastIndexOf("\n\n");
  if (at < 0 || !checkpoint.endsWith("\n") || /[\u0000-\u0009\u000b-\u001f]/.test(checkpoint) || !checkpoint.isWellFormed()) fail("the checkpoint is not a well-formed note");
  const text = checkpoint.slice(0, at + 1);
  const lines = checkpoint.slice(at + 2, -1).split("\n");
  if (lines.length > 100) fail("the checkpoint has more than 100 signatures");
  const seen = new Set();
  const got = [];
  for (const line of lines) {
    const { name, blob } = signatureLine(line);
    const hash = hex(blob.subarray(0, 4));
    const w = witnesses.find((w) => w.name === name && w.hash === hash);
    if (!w || seen.has(name + "+" + hash)) continue; // not a policy witness, or a repeat (x/mod's note ignores it)
    seen.add(name + "+" + hash);
    if (!(await verifyCosignature(w, text, blob.subarray(4)))) fail(`the cosignature of ${w.name} does not verify`);
    if (!got.some((g) => g.key === w.key)) got.push(w);
  }
  if (got.length === 0) fail(`cosigned by none of the ${quorum} required witnesses (${names})`);
  if (got.length < quorum) fail(`cosigned by ${got.length} of the ${quorum} required witnesses (${names}): ${got.map((w) => w.name).join(", ")}`);
  return got.map((w) => w.name);
}
