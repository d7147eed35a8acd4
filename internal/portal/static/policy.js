// The verification policy this browser keeps: the timestamp authorities
// and witnesses a receipt must satisfy beyond the vault's key, as
// evault's --tsa-roots and --witness flags give them. It is taken on
// first use from the vault (GET /v1/verification-policy), as the key is
// pinned, and kept in localStorage: a later change by whoever runs the
// vault is shown beside the kept policy, never followed by itself. The
// user may replace it with what they obtained elsewhere (the authority's
// root from its trust list, the witnesses' published keys).
//
// A policy is {timestamps: {roots, intermediates, policy, qualified} |
// null, witnesses: {keys, quorum} | null, require, source, keptAt}: roots
// and intermediates PEM certificates, one per string; keys note vkeys;
// quorum how many of them must cosign (0: all).

import { parseWitness } from "./witnesses.js";
import { parseCertificates } from "./timestamps.js";

const KEY = "evidencevault.policy";
const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;
const PEM = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g;

// pemBlocks splits PEM text into its certificates, each in one form
// (LF line ends, no surrounding space), so that one root is one string.
export const pemBlocks = (text) => [...String(text).matchAll(PEM)].map(([b]) => b.replace(/\r\n?/g, "\n").trim() + "\n");

const strings = (v, what) => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw new Error(`${what} are not a list of strings`);
  return v;
};

// normalPolicy checks p's shape and writes it in one form: what two
// policies that say the same thing have in common, whatever the order of
// their members or lists. A policy of the wrong shape throws.
export function normalPolicy(p) {
  if (p === null || typeof p !== "object" || Array.isArray(p)) throw new Error("the policy is not an object");
  const out = { timestamps: null, witnesses: null, require: p.require === true };
  const t = p.timestamps;
  if (t !== undefined && t !== null) {
    if (typeof t !== "object" || Array.isArray(t)) throw new Error("its timestamps are not an object");
    const oid = t.policy ?? "";
    if (typeof oid !== "string" || (oid !== "" && !OID.test(oid))) {
      throw new Error(`its timestamp policy ${JSON.stringify(t.policy)} is not an object identifier`);
    }
    const certs = (v, what) => strings(v, what).flatMap((pem, i) => {
      const b = pemBlocks(pem);
      if (b.length === 0) throw new Error(`${what}: entry ${i + 1} holds no PEM certificate`);
      return b;
    }).sort();
    const roots = certs(t.roots, "its trust anchors");
    const intermediates = certs(t.intermediates, "its intermediates");
    if (roots.length) out.timestamps = { roots, intermediates, policy: oid, qualified: t.qualified === true };
  }
  const w = p.witnesses;
  if (w !== undefined && w !== null) {
    if (typeof w !== "object" || Array.isArray(w)) throw new Error("its witnesses are not an object");
    const keys = strings(w.keys, "its witness keys").map((k) => k.trim()).filter(Boolean).sort();
    const quorum = w.quorum ?? 0;
    if (!Number.isSafeInteger(quorum) || quorum < 0) throw new Error(`its quorum ${JSON.stringify(w.quorum)} is not a whole number`);
    if (quorum > keys.length) throw new Error(`it wants ${quorum} cosignatures of ${keys.length} witnesses`);
    if (keys.length) out.witnesses = { keys, quorum: quorum || keys.length };
  }
  return out;
}

// keptPolicy returns the kept policy, normalized, or null when none is
// kept. One that cannot be read (storage altered by hand, or by another
// script) is returned as {broken: why}: its checks fail until the user
// keeps another; it is never replaced by the vault's unasked.
export function keptPolicy() {
  const text = localStorage.getItem(KEY);
  if (text === null) return null;
  try {
    const p = JSON.parse(text);
    return { ...normalPolicy(p), source: String(p.source ?? "this browser"), keptAt: String(p.keptAt ?? "") };
  } catch (e) {
    return { broken: e.message };
  }
}

// keepPolicy stores p, which must be well formed and usable here.
export async function keepPolicy(p) {
  const n = normalPolicy(p);
  const compiled = await compilePolicy(n);
  const bad = [compiled.stamps, compiled.witnesses].find((c) => c?.error);
  if (bad) throw new Error(bad.error);
  localStorage.setItem(KEY, JSON.stringify({ ...n, source: p.source, keptAt: new Date().toISOString() }));
}

const sameParts = (a, b) => JSON.stringify([a.timestamps, a.witnesses]) === JSON.stringify([b.timestamps, b.witnesses]);

// changes says, for people, how the vault's policy differs from the kept
// one.
export function changes(kept, offered) {
  const out = [];
  const count = (a, b, what) => {
    const added = b.filter((x) => !a.includes(x)).length, dropped = a.filter((x) => !b.includes(x)).length;
    if (added || dropped) out.push(`${what}: ${added} added, ${dropped} dropped`);
  };
  const kt = kept.timestamps, ot = offered.timestamps;
  if (!kt !== !ot) out.push(ot ? "the vault now names timestamp authorities; none are kept" : "the vault names no timestamp authority now");
  else if (kt) {
    count(kt.roots, ot.roots, "timestamp trust anchors");
    count(kt.intermediates, ot.intermediates, "timestamp intermediates");
    if (kt.policy !== ot.policy) out.push(`timestamp policy: kept ${kt.policy || "any"}, the vault names ${ot.policy || "any"}`);
    if (kt.qualified !== ot.qualified) out.push(ot.qualified ? "the vault now wants qualified timestamps" : "the vault no longer wants qualified timestamps");
  }
  const kw = kept.witnesses, ow = offered.witnesses;
  const names = (w) => w.keys.map((k) => k.split("+")[0]).join(", ");
  if (!kw !== !ow) out.push(ow ? `the vault now names witnesses (${names(ow)}); none are kept` : "the vault names no witness now");
  else if (kw) {
    count(kw.keys, ow.keys, "witness keys");
    if (kw.quorum !== ow.quorum) out.push(`quorum: kept ${kw.quorum}, the vault names ${ow.quorum}`);
  }
  return out;
}

// verificationPolicy returns the kept policy (taking the vault's on first
// use, when this browser can use it), what the vault names now, how the
// two differ, and the kept one parsed for verify.js. Nothing here throws:
// a part that cannot be used fails its check, saying why.
export async function verificationPolicy(get) {
  let offered = null, offerError = "";
  try {
    offered = normalPolicy(await get("/v1/verification-policy"));
  } catch (e) {
    // A vault that names no policy (404) names none: a change to show
    // when one was kept. One that cannot be reached, or names it
    // malformed: the kept policy, or none, stands.
    if (e.status === 404) offered = normalPolicy({});
    else offerError = e.message;
  }
  let kept = keptPolicy();
  if (!kept && offered) {
    try {
      await keepPolicy({ ...offered, source: "the vault, on first use" });
      kept = keptPolicy();
    } catch (e) {
      // Not kept: the next visit asks again. Meanwhile its checks fail.
      return { kept: null, offered, changed: false, changes: [], compiled: unusable(offered, `the vault's verification policy cannot be used in this browser: ${e.message}`) };
    }
  }
  if (kept?.broken) return { kept, offered, changed: false, changes: [], compiled: unusable({ timestamps: true, witnesses: true }, `the verification policy this browser kept cannot be read (${kept.broken}): keep one again under "Timestamps and witnesses this browser requires"`) };
  const diff = kept && offered && !sameParts(kept, offered) ? changes(kept, offered) : [];
  return { kept, offered, offerError, changed: diff.length > 0, changes: diff, compiled: await compilePolicy(kept) };
}

// unusable is a compiled policy whose parts fail with why.
const unusable = (p, why) => ({ stamps: p.timestamps ? { error: why } : null, witnesses: p.witnesses ? { error: why } : null });

// compilePolicy parses a normalized policy into what verify.js checks
// with: {stamps: {roots, intermediates, policy, qualified, require} |
// {error} | null, witnesses: {witnesses, quorum} | {error} | null}.
export async function compilePolicy(p) {
  const out = { stamps: null, witnesses: null };
  if (!p) return out;
  if (p.timestamps) {
    try {
      out.stamps = {
        roots: await parseCertificates(p.timestamps.roots),
        intermediates: await parseCertificates(p.timestamps.intermediates),
        policy: p.timestamps.policy, qualified: p.timestamps.qualified, require: p.require,
      };
    } catch (e) {
      out.stamps = { error: `the timestamp authorities of the policy cannot be read: ${e.message}` };
    }
  }
  if (p.witnesses) {
    try {
      const witnesses = [];
      for (const k of p.witnesses.keys) witnesses.push(await parseWitness(k));
      out.witnesses = { witnesses, quorum: p.witnesses.quorum };
    } catch (e) {
      out.witnesses = { error: `the witnesses of the policy cannot be read: ${e.message}` };
    }
  }
  return out;
}
