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
import { checkProfile, checkTrusted, qcStatementIDs } from "./profile.js";

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
  keyUsage: "2.5.29.15",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35",
  subjectAltName: "2.5.29.17",
  qcStatements: "1.3.6.1.5.5.7.1.3",
  qualifiedTimestamp: "0.4.0.19422.1.1",
  signingTime: "1.2.840.113549.1.9.5",
};
// Certificate signatures with SHA-1 or MD5, which Go's x509 refuses.
const WEAK_SIGNATURES = new Set(["1.2.840.10045.4.1", "1.2.840.113549.1.1.5", "1.2.840.10040.4.3", "1.3.14.3.2.29", "1.2.840.113549.1.1.4", "1.2.840.113549.1.1.2"]);
// The extensions Go's x509 handles when critical (crypto/x509's
// processExtensions); a certificate with another critical one is refused.
// (authorityKeyIdentifier it refuses to parse when critical; a
// subjectAltName only when it holds a name it reads: e-mail, DNS, IP,
// URIs the profile refuses. Name constraints the profile refuses.)
const GO_HANDLED = new Set(["2.5.29.15", "2.5.29.19", "2.5.29.31", "2.5.29.36", "2.5.29.37", "2.5.29.32", "2.5.29.33", "2.5.29.54"]);
function handledCritical(c, e) {
  if (e.extnID === "2.5.29.17") return goOf(c).sanHandled;
  return GO_HANDLED.has(e.extnID);
}
// esi4-qtstStatement-1 (0.4.0.19422.1.1), as DER content.
const QUALIFIED_HEX = "040081975e0101";
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

// nanos reads an RFC 3339 time as nanoseconds since 1970: Go compares
// times to the nanosecond, Date to the millisecond.
function nanos(s) {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(String(s));
  const ms = m ? Date.parse(m[1] + m[3]) : NaN;
  if (Number.isNaN(ms)) fail(`${s} is not an RFC 3339 time`);
  // Go keeps nine digits of a fraction and drops the rest.
  return BigInt(ms) * 1_000_000n + BigInt((m[2] || "").slice(0, 9).padEnd(9, "0"));
}

// ZERO is Go's zero time, 0001-01-01T00:00:00Z, which a receipt without a
// sealedAt is sealed at to Go: before any timestamp.
const ZERO = nanos("0001-01-01T00:00:00Z");

// genTimeNanos reads a genTime the profile has checked
// (YYYYMMDDhhmmss[.s]Z) as nanoseconds since 1970.
function genTimeNanos(g) {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(g);
  return nanos(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] || ""}Z`);
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
        const c = new Certificate({ schema: await der(bytes, "a certificate") });
        const go = checkTrusted(bytes); // as Go's x509 parses it, or refused here as there
        DER.set(c, { der: bytes, go });
        out.push(c);
      } catch (e) {
        fail("a trust anchor is not an X.509 certificate: " + e.message);
      }
    }
  }
  return out;
}

const raw = (name) => new Uint8Array(name.valueBeforeDecode);
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const at = (d) => BigInt(d.getTime()) * 1_000_000n;
// DER holds each certificate's own encoding, what Go's x509 compares
// certificates by (pkijs would re-encode what it parsed).
const DER = new WeakMap();
const derOf = (c) => DER.get(c).der;
// goOf is what Go's x509 reads of c (profile.js): its basic constraints,
// key identifiers, whether its subjectAltName holds a name Go reads, and
// its subject's string.
const goOf = (c) => DER.get(c).go;
const spkiOf = (c) => new Uint8Array(c.subjectPublicKeyInfo.toSchema().toBER());
const extension = (cert, id) => (cert.extensions || []).find((e) => e.extnID === id);
const purposes = (cert) => extension(cert, OID.extKeyUsage)?.parsedValue?.keyPurposes ?? null;

// subjectOf names a certificate as Go's pkix.Name.String does
// (profile.js reads it as Go's x509 parses the subject).
const subjectOf = (cert) => goOf(cert).subject;

// qualified reports whether the TSTInfo's extensions carry ETSI EN 319
// 422's esi4-qtstStatement-1 among its qcStatements.
async function qualified(tst) {
  // As tsa.qualified: every qcStatements extension, in order, read as
  // encoding/asn1 reads a SEQUENCE OF {OID, optional info}.
  for (const ext of (tst.extensions || []).filter((e) => e.extnID === OID.qcStatements)) {
    let ids;
    try {
      ids = qcStatementIDs(new Uint8Array(ext.extnValue.valueBlock.valueHexView));
    } catch {
      fail("malformed qcStatements extension in the token");
    }
    if (ids.includes(QUALIFIED_HEX)) return true;
  }
  return false;
}

// verifyToken checks tsr, a DER TimeStampResp, over message under trust
// ({roots, intermediates: parsed certificates, policy, qualified}) and
// returns what it says: {time, accuracyMs, qualified, authority}.
export async function verifyToken(tsr, message, trust) {
  const { Certificate, SignedData, TimeStampResp, TSTInfo } = await pkijs();
  if (!trust.roots.length) fail("no trust anchors for timestamps");
  // As tsa's anchor: pkijs wants an issuing anchor to be a CA.
  for (const r of trust.roots) {
    if (!goOf(r).bc?.ca && !purposes(r)?.includes(OID.timeStamping)) fail(`trust anchor ${subjectOf(r)} is neither a CA certificate nor a time-stamping authority's own`);
  }
  const profile = checkProfile(tsr);
  const genTime = genTimeNanos(profile.genTime);
  let resp, sd, tst;
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
  // The signing certificate attributes name the signer's certificate by
  // its hash (the rest the profile checked).
  for (const { hash, certHash } of profile.signerCert.hashes) {
    const d = new Uint8Array(await crypto.subtle.digest(hash, profile.signerCert.bytes));
    if (d.length !== certHash.length || d.some((x, i) => x !== certHash[i])) fail("the response is not a DER timestamp response of RFC 3161's shape: the signing certificate attribute names another certificate than the signer's");
  }
  // The signer's certificate is the one the profile found carried, named
  // byte for byte as digitorus/pkcs7 finds it; pkijs, which takes the
  // first whose names mean the same, is handed it alone.
  const carried = sd.certificates || [];
  sd.certificates = [carried[profile.signer]];
  // Revocation is not checked, as Go's verifier does not: lists the
  // token carries must neither fail nor pass it.
  sd.crls = undefined;
  sd.ocsps = undefined;
  // The token's own signature, by its signer's key. pkijs checks that
  // alone: its chain engine parses basic constraints and policies by its
  // own reading and refuses what Go's x509 reads past.
  const data = message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength);
  let res;
  try {
    res = await sd.verify({ signer: 0, data, checkChain: false, extendedMode: true });
  } catch (e) {
    fail("the token's signature does not verify: " + (e.message || e));
  }
  if (!res.signatureVerified) fail("the token's signature does not verify");
  // Go's x509 tries every chain to an anchor and takes the token if one
  // holds: each candidate is checked in turn, and the first that passes
  // every check is the token's.
  for (const [i, c] of carried.entries()) DER.set(c, { der: profile.carried[i].all, go: profile.carried[i].go });
  const candidates = await chains(carried[profile.signer], pool(trust.roots), pool([...intermediates, ...carried]), genTime);
  if (!candidates.length) fail("the token's signer does not chain to a trusted anchor");
  let leaf, refused;
  for (const path of candidates) {
    try {
      leaf = checkChain(path, genTime);
      break;
    } catch (e) {
      if (!(e instanceof VerifyError)) throw e;
      refused ??= e;
    }
  }
  if (!leaf) throw refused;
  if (trust.policy && tst.policy !== trust.policy) fail(`the token's policy is ${tst.policy}, not ${trust.policy}`);
  const q = await qualified(tst);
  if (trust.qualified && !q) fail("not a qualified electronic timestamp (no ETSI EN 319 422 esi4-qtstStatement-1 in the token)");
  // The signingTime attribute, if any, within the signer's validity, as
  // Go checks it.
  const signing = profile.signingTime;
  if (signing) {
    const t = genTimeNanos(signing);
    if (t > at(leaf.notAfter.value) || t < at(leaf.notBefore.value)) fail("the token's signingTime is outside its signer's validity");
  }
  const a = profile.accuracy;
  const accuracy = BigInt(a.seconds) * 1_000_000_000n + BigInt(a.millis) * 1_000_000n + BigInt(a.micros) * 1000n;
  return { time: tst.genTime, ns: genTime, accuracy, qualified: q, authority: subjectOf(leaf) };
}

// chains lists the chains Go's x509 builds from the signer's certificate
// to an anchor (crypto/x509's Verify and buildChains), in its order: the
// signer alone if it is an anchor, byte for byte; else, for each
// certificate, the anchors, then the intermediates (the policy's, then
// the token's, each once), that name its issuer byte for byte, those
// whose key identifier matches first; each counted, then skipped if the
// chain holds one by its subject, key and subjectAltName, then kept if
// it may issue, its key verifies the signature and it is valid at the
// token's time. At MAX_SIGNATURE_CHECKS candidates the walk stops with
// the chains it found, as Go's maxChainSignatureChecks.
const MAX_SIGNATURE_CHECKS = 100;
async function chains(signer, roots, intermediates, genTime) {
  if (roots.some((r) => equal(derOf(r), derOf(signer)))) return [[signer]];
  const out = [];
  let checks = 0, stopped = false;
  const build = async (chain) => {
    const c = chain[chain.length - 1];
    for (const [root, pool] of [[true, roots], [false, intermediates]]) {
      for (const p of potentialParents(pool, c)) {
        if (++checks > MAX_SIGNATURE_CHECKS) {
          stopped = true;
          return;
        }
        if (alreadyInChain(p, chain) || !(await signs(p, c)) || !isValid(p, root, chain, genTime)) continue;
        if (root) out.push([...chain, p]);
        else await build([...chain, p]);
        if (stopped) return;
      }
    }
  };
  await build([signer]);
  if (!out.length && stopped) fail(`the token's chain has more candidate issuers than are checked (${MAX_SIGNATURE_CHECKS}, as Go's x509 checks)`);
  return out;
}

// pool is a CertPool's certificates: each once by its DER, the first kept.
const pool = (certs) => certs.filter((c, i) => !certs.slice(0, i).some((o) => equal(derOf(o), derOf(c))));


// potentialParents is CertPool.findPotentialParents: the certificates
// named c's issuer, those whose subject key identifier is c's authority
// key identifier first (both absent match), then those where one is
// absent, then the rest.
function potentialParents(certs, c) {
  const aki = goOf(c).aki;
  const [match, one, other] = [[], [], []];
  for (const p of certs) {
    if (!equal(raw(p.subject), raw(c.issuer))) continue;
    const ski = goOf(p).ski;
    if (equal(ski, aki)) match.push(p);
    else if (!ski.length !== !aki.length) one.push(p);
    else other.push(p);
  }
  return [...match, ...one, ...other];
}

const sanOf = (c) => {
  const e = extension(c, OID.subjectAltName);
  return e ? new Uint8Array(e.extnValue.valueBlock.valueHexView) : null;
};

// alreadyInChain is Go's: the first certificate of chain with p's subject
// and key decides, by whether both, neither or one has a subjectAltName.
function alreadyInChain(p, chain) {
  const ps = sanOf(p);
  for (const c of chain) {
    if (!equal(raw(c.subject), raw(p.subject)) || !equal(spkiOf(c), spkiOf(p))) continue;
    const cs = sanOf(c);
    if (!ps && !cs) return true;
    if (!ps || !cs) return false;
    if (equal(ps, cs)) return true;
  }
  return false;
}

// signs is Go's CheckSignatureFrom: p may issue (a CA by the basic
// constraints Go reads, the profile admitting version 3 only; a keyUsage,
// which the profile made non-zero, with keyCertSign) and its key verifies
// c's signature, which uses no broken hash and, if ECDSA, is DER.
async function signs(p, c) {
  if (!goOf(p).bc?.ca) return false;
  const ku = extension(p, OID.keyUsage);
  if (ku && !(new Uint8Array(ku.parsedValue.valueBlock.valueHexView)[0] & 0x04)) return false;
  if (WEAK_SIGNATURES.has(c.signatureAlgorithm.algorithmId) || !goOf(c).sigDER) return false;
  try {
    return await c.verify(p);
  } catch {
    return false;
  }
}

// isValid is Go's for an issuer above chain: no critical extension Go
// does not handle, valid at the token's time, a CA if not an anchor, and
// a path length constraint the intermediates below it keep.
function isValid(p, root, chain, genTime) {
  if ((p.extensions || []).some((e) => e.critical && !handledCritical(p, e))) return false;
  if (genTime < at(p.notBefore.value) || genTime > at(p.notAfter.value)) return false;
  const bc = goOf(p).bc;
  if (!root && !bc?.ca) return false;
  if (bc && bc.pathLen >= 0 && chain.length - 1 > bc.pathLen) return false;
  return true;
}

// checkChain checks the signer's certificate along path (from the signer
// up to an anchor, each link's signature checked by chains) as Go's x509
// and sigstore check them; it returns the signer's certificate.
function checkChain(path, genTime) {
  const leaf = path[0];
  if (goOf(leaf).bc?.ca) fail("the token is signed by a CA certificate, not an authority's end-entity certificate");
  const eku = extension(leaf, OID.extKeyUsage);
  if (!eku || !eku.critical) fail("the signer's certificate must mark its key purpose critical");
  const own = purposes(leaf) || [];
  if (own.length !== 1 || own[0] !== OID.timeStamping) fail("the signer's certificate's one key purpose must be time stamping");
  // As Go's x509 verification: every certificate above the signer, the
  // anchor too, that names key purposes allows time stamping; and every
  // certificate's signature by its issuer (an anchor's own signature is
  // not checked) uses no broken hash.
  const chain = path; // the signer first
  // As Go's x509 builds chains: each certificate's issuer is its parent's
  // subject byte for byte (pkijs compares them by meaning), and no
  // certificate has a critical extension Go's x509 does not handle.
  for (const [i, c] of chain.slice(0, -1).entries()) {
    const a = raw(c.issuer), b = raw(chain[i + 1].subject);
    if (a.length !== b.length || a.some((x, j) => x !== b[j])) fail(`certificate ${subjectOf(c)} names its issuer otherwise than its issuer names itself`);
  }
  for (const c of chain) {
    const ext = (c.extensions || []).find((e) => e.critical && !handledCritical(c, e));
    if (ext) fail(`certificate ${subjectOf(c)} has a critical extension ${ext.extnID} that is not handled`);
  }
  // Each certificate above the signer allows as many intermediates below
  // it as its path length constraint says (pkijs does not check it).
  for (const [i, c] of chain.entries()) {
    const bc = goOf(c).bc;
    if (i === 0 || !bc || bc.pathLen < 0) continue;
    if (i - 1 > bc.pathLen) fail(`certificate ${subjectOf(c)} allows fewer intermediates below it than the chain has`);
  }
  for (const c of chain.slice(1)) {
    const p = purposes(c);
    if (p?.length && !p.includes(OID.timeStamping) && !p.includes(OID.anyPurpose)) fail(`certificate ${subjectOf(c)} above the signer does not allow time stamping`);
  }
  for (const c of chain.slice(0, -1)) {
    if (WEAK_SIGNATURES.has(c.signatureAlgorithm.algorithmId)) fail(`certificate ${subjectOf(c)} is signed with SHA-1 or MD5, which are refused`);
  }
  // Each certificate of the chain valid at genTime to the nanosecond (pkijs
  // checked it at a Date, to the millisecond).
  for (const c of chain) {
    if (genTime < at(c.notBefore.value) || genTime > at(c.notAfter.value)) fail(`certificate ${subjectOf(c)} is not valid at the token's time`);
  }
  return leaf;
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
    return { passed: true, detail: "pending: the receipt carries no RFC 3161 timestamp, so its time is the vault's clock alone; the vault adds one later to a receipt sealed while its authority was unreachable, and a file whose token was removed looks the same: fetch the receipt again, or require a timestamp to refuse it" };
  }
  if (r.sigs.length !== 1) return { passed: false, detail: `a timestamped receipt carries exactly one signature; this one has ${r.sigs.length}` };
  const sealed = r.predicate.sealedAt == null ? ZERO : nanos(r.predicate.sealedAt);
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
