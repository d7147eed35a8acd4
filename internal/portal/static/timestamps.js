// RFC 3161 timestamps of a receipt's signature, checked in the browser as
// internal/tsa does with sigstore's verifier: the response was granted,
// its token is CMS SignedData over a TSTInfo whose message imprint is the
// SHA-2 hash of the signature, signed by a certificate that chains to a
// trusted anchor at the token's time, that is no CA, and whose one,
// critical key purpose is time stamping (intermediates allow it too); the
// policy OID when one is required, and the ETSI EN 319 422 qualified
// statement when that is. pkijs (CMS and X.509 on WebCrypto) parses and
// verifies; it is loaded the first time a timestamp is checked.

import { VerifyError } from "./verify.js";

const fail = (msg) => { throw new VerifyError(msg); };
let lib;
const pkijs = () => (lib ??= import("./vendor/pkijs.js"));

const OID = {
  signedData: "1.2.840.113549.1.7.2",
  tstInfo: "1.2.840.113549.1.9.16.1.4",
  timeStamping: "1.3.6.1.5.5.7.3.8",
  anyPurpose: "2.5.29.37.0",
  extKeyUsage: "2.5.29.37",
  basicConstraints: "2.5.29.19",
  qcStatements: "1.3.6.1.5.5.7.1.3",
  qualifiedTimestamp: "0.4.0.19422.1.1",
};
// Certificate signatures with SHA-1 or MD5, which Go's x509 refuses.
const WEAK_SIGNATURES = new Set(["1.2.840.10045.4.1", "1.2.840.113549.1.1.5", "1.2.840.10040.4.3", "1.3.14.3.2.29", "1.2.840.113549.1.1.4", "1.2.840.113549.1.1.2"]);
// SHA-1 is refused, as sigstore's verifier refuses it.
const HASHES = { "2.16.840.1.101.3.4.2.1": "SHA-256", "2.16.840.1.101.3.4.2.2": "SHA-384", "2.16.840.1.101.3.4.2.3": "SHA-512" };

// der parses one whole DER value: bytes after it are refused.
async function der(bytes, what) {
  const { fromBER } = await pkijs();
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const asn = fromBER(buf);
  if (asn.offset === -1 || asn.offset !== buf.byteLength) fail(`${what} is not one DER value`);
  return asn.result;
}

// header reads the header of the DER element at i of b as Go's
// encoding/asn1 does: a definite length in the fewest bytes (BER's other
// forms are refused). It returns where the element's content starts and
// ends.
function header(b, i, what) {
  if (i + 2 > b.length) fail(`${what} is truncated`);
  let n = b[i + 1], at = i + 2;
  if (n === 0x80) fail(`${what} has an indefinite length (BER, not DER)`);
  if (n & 0x80) {
    const k = n & 0x7f;
    if (k > 4 || at + k > b.length) fail(`${what} has a malformed length`);
    n = 0;
    for (let j = 0; j < k; j++) n = n * 256 + b[at + j];
    if (b[at] === 0 || n < 0x80) fail(`${what}'s length is not in the fewest bytes (BER, not DER)`);
    at += k;
  }
  if (at + n > b.length) fail(`${what} is truncated`);
  return { tag: b[i], start: at, end: at + n };
}

// elements reads the headers of the elements from i to end of b, and of
// all they hold when deep.
function elements(b, i, end, what, deep) {
  const out = [];
  while (i < end) {
    const e = header(b, i, what);
    if (e.end > end) fail(`${what} is truncated`);
    if (deep && e.tag & 0x20) elements(b, e.start, e.end, what, deep);
    out.push(e);
    i = e.end;
  }
  return out;
}

// checkDER holds a TimeStampResp to the DER Go's encoding/asn1 reads it
// with: its own header, its status (all of it) and its token's header.
// Within the token, BER is taken by both (digitorus/pkcs7 converts it).
function checkDER(tsr) {
  const resp = header(tsr, 0, "the timestamp response");
  if (resp.end !== tsr.length) fail("the timestamp response is not one DER value");
  const [status] = elements(tsr, resp.start, resp.end, "the timestamp response", false);
  if (!status) fail("the timestamp response has no status");
  const [code] = elements(tsr, status.start, status.end, "the timestamp response's status", true);
  // Granted, 0, is the one status a token is taken with (RFC 3161 §2.4.2;
  // digitorus refuses grantedWithMods too), minimally encoded.
  if (!code || code.tag !== 0x02 || code.end - code.start !== 1 || tsr[code.start] !== 0) {
    fail(`the authority did not grant the timestamp (status ${code && code.tag === 0x02 ? hexOf(tsr.subarray(code.start, code.end)) : "unreadable"})`);
  }
}
const hexOf = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

// nanos reads an RFC 3339 time as nanoseconds since 1970: Go compares
// times to the nanosecond, Date to the millisecond.
function nanos(s) {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(String(s));
  const ms = m ? Date.parse(m[1] + m[3]) : NaN;
  if (Number.isNaN(ms)) fail(`${s} is not an RFC 3339 time`);
  return BigInt(ms) * 1_000_000n + BigInt((m[2] || "").padEnd(9, "0"));
}

// genTimeNanos reads a token's genTime, a UTC GeneralizedTime with any
// fraction of a second, as nanoseconds since 1970.
function genTimeNanos(asn) {
  const g = asn.valueBlock?.value?.[4];
  const text = g ? String.fromCharCode(...new Uint8Array(g.valueBlock.valueHexView ?? [])) || g.valueBlock.value : "";
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/.exec(text ?? "");
  if (!m) fail(`the token's genTime ${JSON.stringify(text)} is not a UTC GeneralizedTime`);
  return nanos(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ? "." + m[7] : ""}Z`);
}

// parseCertificates reads PEM certificates (trust anchors or
// intermediates).
export async function parseCertificates(pems) {
  const { Certificate } = await pkijs();
  const out = [];
  for (const pem of pems) {
    const blocks = [...String(pem).matchAll(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g)];
    if (blocks.length === 0) fail("no PEM certificate where trust anchors were expected");
    for (const [, body] of blocks) {
      const bytes = Uint8Array.from(atob(body.replace(/\s/g, "")), (c) => c.charCodeAt(0));
      try {
        out.push(new Certificate({ schema: await der(bytes, "a certificate") }));
      } catch (e) {
        fail("a trust anchor is not an X.509 certificate: " + e.message);
      }
    }
  }
  return out;
}

const extension = (cert, id) => (cert.extensions || []).find((e) => e.extnID === id);
const purposes = (cert) => extension(cert, OID.extKeyUsage)?.parsedValue?.keyPurposes ?? null;

// subjectOf names a certificate as Go's pkix.Name.String does for the
// usual attributes (most specific first).
function subjectOf(cert) {
  const short = { "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.5": "SERIALNUMBER" };
  return cert.subject.typesAndValues.slice().reverse()
    .map((tv) => `${short[tv.type] || tv.type}=${tv.value.valueBlock.value}`).join(",");
}

// qualified reports whether the TSTInfo's extensions carry ETSI EN 319
// 422's esi4-qtstStatement-1 among its qcStatements.
async function qualified(tst) {
  const ext = (tst.extensions || []).find((e) => e.extnID === OID.qcStatements);
  if (!ext) return false;
  const seq = await der(ext.extnValue.valueBlock.valueHexView, "the token's qcStatements");
  const statements = seq.valueBlock?.value;
  if (!Array.isArray(statements)) fail("malformed qcStatements extension in the token");
  return statements.some((st) => st.valueBlock?.value?.[0]?.valueBlock?.toString?.() === OID.qualifiedTimestamp);
}

// verifyToken checks tsr, a DER TimeStampResp, over message under trust
// ({roots, intermediates: parsed certificates, policy, qualified}) and
// returns what it says: {time, accuracyMs, qualified, authority}.
export async function verifyToken(tsr, message, trust) {
  const { Certificate, SignedData, TimeStampResp, TSTInfo } = await pkijs();
  if (!trust.roots.length) fail("no trust anchors for timestamps");
  checkDER(tsr);
  let resp, sd, tst, genTime;
  try {
    resp = new TimeStampResp({ schema: await der(tsr, "the timestamp response") });
  } catch (e) {
    fail("the timestamp response is malformed: " + e.message);
  }
  if (!resp.timeStampToken || resp.timeStampToken.contentType !== OID.signedData) fail("the response carries no signed token");
  try {
    sd = new SignedData({ schema: resp.timeStampToken.content });
    if (sd.encapContentInfo.eContentType !== OID.tstInfo || !sd.encapContentInfo.eContent) fail("the token holds no TSTInfo");
    const content = sd.encapContentInfo.eContent.getValue();
    tst = TSTInfo.fromBER(content);
    genTime = genTimeNanos(await der(new Uint8Array(content), "the token's TSTInfo"));
  } catch (e) {
    fail("the token is malformed: " + e.message);
  }
  // Every certificate the token carries must be one (Go parses them all
  // with x509 and refuses the token otherwise).
  if ((sd.certificates || []).some((c) => !(c instanceof Certificate))) fail("the token is malformed: it carries something that is not an X.509 certificate");
  if (sd.signerInfos.length !== 1) fail(`the token has ${sd.signerInfos.length} signers, want exactly one`);
  const hash = HASHES[tst.messageImprint.hashAlgorithm.algorithmId];
  if (!hash) fail(`the token's message imprint uses hash ${tst.messageImprint.hashAlgorithm.algorithmId}, not SHA-256, SHA-384 or SHA-512`);
  const imprint = new Uint8Array(await crypto.subtle.digest(hash, message));
  const got = tst.messageImprint.hashedMessage.valueBlock.valueHexView;
  if (got.length !== imprint.length || !got.every((x, i) => x === imprint[i])) fail("the token is over other bytes than the receipt's signature");
  // The CMS signature, its signed attributes' message digest, and the
  // signer's chain to a trusted anchor at the token's own time.
  const intermediates = trust.intermediates || [];
  sd.certificates = [...(sd.certificates || []), ...intermediates];
  // Revocation is not checked, as Go's verifier does not: lists the
  // token carries must neither fail nor pass it.
  sd.crls = undefined;
  sd.ocsps = undefined;
  let res;
  try {
    res = await sd.verify({ signer: 0, data: message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength), trustedCerts: trust.roots, checkChain: true, extendedMode: true });
  } catch (e) {
    fail("the token's signature or its signer's certificate does not verify: " + (e.message || e));
  }
  if (!res.signatureVerified) fail("the token's signature does not verify");
  const leaf = res.signerCertificate;
  if (extension(leaf, OID.basicConstraints)?.parsedValue?.cA) fail("the token is signed by a CA certificate, not an authority's end-entity certificate");
  const eku = extension(leaf, OID.extKeyUsage);
  if (!eku || !eku.critical) fail("the signer's certificate must mark its key purpose critical");
  const own = purposes(leaf) || [];
  if (own.length !== 1 || own[0] !== OID.timeStamping) fail("the signer's certificate's one key purpose must be time stamping");
  // As Go's x509 verification: every certificate above the signer, the
  // anchor too, that names key purposes allows time stamping; and every
  // certificate's signature by its issuer (an anchor's own signature is
  // not checked) uses no broken hash.
  const path = res.certificatePath || [leaf];
  for (const c of path.slice(1)) {
    const p = purposes(c);
    if (p && !p.includes(OID.timeStamping) && !p.includes(OID.anyPurpose)) fail(`certificate ${subjectOf(c)} above the signer does not allow time stamping`);
  }
  for (const c of path.slice(0, -1)) {
    if (WEAK_SIGNATURES.has(c.signatureAlgorithm.algorithmId)) fail(`certificate ${subjectOf(c)} is signed with SHA-1 or MD5, which are refused`);
  }
  if (trust.policy && tst.policy !== trust.policy) fail(`the token's policy is ${tst.policy}, not ${trust.policy}`);
  const q = await qualified(tst);
  if (trust.qualified && !q) fail("not a qualified electronic timestamp (no ETSI EN 319 422 esi4-qtstStatement-1 in the token)");
  const a = tst.accuracy;
  const accuracy = a ? BigInt(a.seconds || 0) * 1_000_000_000n + BigInt(a.millis || 0) * 1_000_000n + BigInt(a.micros || 0) * 1000n : 0n;
  return { time: tst.genTime, ns: genTime, accuracy, qualified: q, authority: subjectOf(leaf) };
}

// stampSkew is vault's: how far the vault's clock may run ahead of the
// authority's before a receipt's sealedAt contradicts its timestamp.
const STAMP_SKEW = 60_000_000_000n;

// checkStamps mirrors vault's checkStamps: each of the receipt's
// timestamps is over its one signature, by a trusted authority, and none
// says the signature existed before the vault claims to have sealed it.
// It returns {passed, detail, stamp} (the earliest stamp).
export async function checkStamps(r, trust) {
  if (trust.error) return { passed: false, detail: trust.error };
  const tokens = r.timestamps || [];
  if (tokens.length === 0) {
    if (trust.require) return { passed: false, detail: "the receipt carries no RFC 3161 timestamp, and one is required" };
    return { passed: true, detail: "pending: no RFC 3161 timestamp yet (the authority was not reached when it was sealed); its time is the vault's clock until one is added" };
  }
  if (r.sigs.length !== 1) return { passed: false, detail: `a timestamped receipt carries exactly one signature; this one has ${r.sigs.length}` };
  const sealed = nanos(r.predicate.sealedAt);
  let first = null;
  for (const [i, tsr] of tokens.entries()) {
    let st;
    try {
      st = await verifyToken(tsr, r.sigs[0].sig, trust);
    } catch (e) {
      if (!(e instanceof VerifyError)) throw e;
      return { passed: false, detail: `timestamp ${i + 1}: ${e.message}` };
    }
    if (sealed > st.ns + st.accuracy + STAMP_SKEW) {
      return { passed: false, detail: `timestamp ${i + 1} says the signature existed at ${st.time.toISOString()}, before the receipt's sealedAt ${r.predicate.sealedAt}` };
    }
    if (!first || st.ns < first.ns) first = st;
  }
  const kind = first.qualified ? "a qualified electronic timestamp" : "a timestamp";
  return { passed: true, stamp: first, detail: `${kind} by ${first.authority} at ${first.time.toISOString()}, ${(Number(first.ns - sealed) / 1e9).toFixed(3)} s after sealing` };
}
