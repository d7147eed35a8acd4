// The one encoding of a timestamp response the portal takes, the rules of
// internal/tsa's profile.go, checked before pkijs reads the token: DER
// throughout (minimal lengths, integers and identifiers, booleans 00 or
// FF, bit strings with zero padding, SETs in order, no constructed
// strings) and RFC 3161's shape, nothing more. pkijs forgives BER and
// other shapes that Go's parsers refuse; held to one profile, both read a
// token alike.

import { VerifyError } from "./verify.js";

const MAX_ACCURACY = 3600;
const bad = (msg) => { throw new VerifyError("the response is not a DER timestamp response of RFC 3161's shape: " + msg); };
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }); // a leading U+FEFF is a character to Go

// Tags, as cryptobyte names them.
const BOOLEAN = 0x01, INTEGER = 0x02, BIT_STRING = 0x03, OCTET_STRING = 0x04, NULL = 0x05, OID = 0x06, UTF8 = 0x0c,
  GENERALIZED_TIME = 0x18, SEQUENCE = 0x30, SET = 0x31;
const ctx = (n, constructed) => 0x80 | (constructed ? 0x20 : 0) | n;

const enc = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const OIDS = {
  signedData: "2a864886f70d010702",
  tstInfo: "2a864886f70d0109100104",
  contentType: "2a864886f70d010903",
  messageDigest: "2a864886f70d010904",
  signingTime: "2a864886f70d010905",
  signingCertificate: "2a864886f70d010910020c",
  signingCertificateV2: "2a864886f70d010910022f",
  qcStatements: "2b06010505070103",
};

// element reads the DER element at i of b, within end.
function element(b, i, end) {
  if (i + 2 > end) bad("truncated");
  const tag = b[i];
  if ((tag & 0x1f) === 0x1f) bad("a tag in high-number form");
  let n = b[i + 1], at = i + 2;
  if (n === 0x80) bad("an indefinite length (BER, not DER)");
  if (n & 0x80) {
    const k = n & 0x7f;
    if (k > 4 || at + k > end) bad("a malformed length");
    n = 0;
    for (let j = 0; j < k; j++) n = n * 256 + b[at + j];
    if (b[at] === 0 || n < 0x80) bad("a length not in the fewest bytes (BER, not DER)");
    at += k;
  }
  if (at + n > end) bad("truncated");
  return { tag, from: i, start: at, end: at + n, body: b.subarray(at, at + n), all: b.subarray(i, at + n) };
}

function compare(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

// oidDER: minimal subidentifiers, each within 31 bits.
function oidDER(b) {
  if (b.length === 0 || b[b.length - 1] & 0x80) return false;
  let v = 0, start = true;
  for (const x of b) {
    if (start && x === 0x80) return false;
    v = v * 128 + (x & 0x7f);
    if (v > 2 ** 31 - 1) return false;
    start = (x & 0x80) === 0;
    if (start) v = 0;
  }
  return true;
}

// checkDER holds every element of b (one whole element) to DER.
function checkDER(b) {
  const e = element(b, 0, b.length);
  if (e.end !== b.length) bad("not one DER element");
  checkElement(b, e);
}

function checkElement(b, e) {
  const constructed = (e.tag & 0x20) !== 0, universal = (e.tag & 0xc0) === 0, number = e.tag & 0x1f;
  const body = e.body;
  if (constructed) {
    if (universal && number !== 16 && number !== 17) bad("a constructed string (BER, not DER)");
    let prev = null;
    for (let i = e.start; i < e.end;) {
      const kid = element(b, i, e.end);
      if (e.tag === SET && prev && compare(prev, kid.all) > 0) bad("a SET out of order");
      prev = kid.all;
      checkElement(b, kid);
      i = kid.end;
    }
    return;
  }
  if (!universal) return;
  switch (e.tag) {
    case BOOLEAN:
      if (body.length !== 1 || (body[0] !== 0 && body[0] !== 0xff)) bad("a BOOLEAN that is not 00 or FF");
      break;
    case INTEGER:
      if (body.length === 0 || (body.length > 1 && ((body[0] === 0 && !(body[1] & 0x80)) || (body[0] === 0xff && body[1] & 0x80)))) bad("an INTEGER not minimally encoded");
      break;
    case BIT_STRING:
      if (body.length === 0 || body[0] > 7 || (body.length === 1 && body[0] !== 0) || (body.length > 1 && body[body.length - 1] & ((1 << body[0]) - 1))) bad("a BIT STRING with padding bits set");
      break;
    case NULL:
      if (body.length !== 0) bad("a NULL with content");
      break;
    case OID:
      if (!oidDER(body)) bad("an OBJECT IDENTIFIER not minimally encoded");
      break;
    case UTF8:
      try { utf8.decode(body); } catch { bad("a UTF8String that is not UTF-8"); }
      break;
  }
}

// reader walks the elements of one constructed element, as cryptobyte's
// String does.
function reader(b, e) {
  let i = e.start;
  const peek = () => (i < e.end ? element(b, i, e.end) : null);
  return {
    empty: () => i >= e.end,
    at: () => i,
    peek: (tag) => peek()?.tag === tag,
    read(tag, what) {
      const x = peek();
      if (!x || x.tag !== tag) bad(what);
      i = x.end;
      return x;
    },
    optional(tag) {
      const x = peek();
      if (!x || x.tag !== tag) return null;
      i = x.end;
      return x;
    },
    any() {
      const x = peek();
      i = x.end;
      return x;
    },
  };
}

const fitsInt64 = (e) => e.body.length <= 8;
const negative = (e) => (e.body[0] & 0x80) !== 0;
const intValue = (e) => e.body.reduce((n, x) => n * 256 + x, 0); // small, non-negative integers only

// checkProfile holds tsr to profile.go's rules and returns the TSTInfo's
// DER and its accuracy's fields.
export function checkProfile(tsr) {
  checkDER(tsr);
  const top = element(tsr, 0, tsr.length);
  if (top.tag !== SEQUENCE) bad("want a status and a token, nothing else");
  const resp = reader(tsr, top);
  const status = resp.read(SEQUENCE, "want a status and a token, nothing else");
  const token = resp.read(SEQUENCE, "want a status and a token, nothing else");
  if (!resp.empty()) bad("want a status and a token, nothing else");
  const st = reader(tsr, status);
  const code = st.read(INTEGER, "the status is not granted (0)");
  if (!fitsInt64(code) || code.body.length !== 1 || code.body[0] !== 0) bad("the status is not granted (0)");
  const texts = st.optional(SEQUENCE);
  if (texts) {
    const t = reader(tsr, texts);
    while (!t.empty()) t.read(UTF8, "a status text that is not a UTF8String");
  }
  st.optional(BIT_STRING);
  if (!st.empty()) bad("the status holds more than its code, text and failure bits");
  const tk = reader(tsr, token);
  const ctype = tk.read(OID, "the token is not one SignedData");
  if (enc(ctype.body) !== OIDS.signedData) bad("the token is not one SignedData");
  const explicit = tk.read(ctx(0, true), "the token is not one SignedData");
  if (!tk.empty()) bad("the token is not one SignedData");
  const ex = reader(tsr, explicit);
  const sdEl = ex.read(SEQUENCE, "the token is not one SignedData");
  if (!ex.empty()) bad("the token is not one SignedData");
  const sd = reader(tsr, sdEl);
  const version = sd.read(INTEGER, "malformed SignedData");
  if (!fitsInt64(version)) bad("malformed SignedData");
  sd.read(SET, "malformed SignedData");
  const encap = reader(tsr, sd.read(SEQUENCE, "malformed SignedData"));
  const etype = encap.read(OID, "the token holds no TSTInfo");
  if (enc(etype.body) !== OIDS.tstInfo) bad("the token holds no TSTInfo");
  const econtent = encap.read(ctx(0, true), "the token holds no TSTInfo");
  if (!encap.empty()) bad("the token holds no TSTInfo");
  const ec = reader(tsr, econtent);
  const octets = ec.read(OCTET_STRING, "the token holds no TSTInfo");
  if (!ec.empty()) bad("the token holds no TSTInfo");
  const certs = sd.optional(ctx(0, true));
  const carried = certs ? readCertificates(tsr, certs) : [];
  if (sd.peek(ctx(1, true))) bad("the token carries revocation information, which no verifier of the vault reads");
  const signerInfos = sd.read(SET, "malformed SignedData");
  if (!sd.empty()) bad("malformed SignedData");
  const sis = reader(tsr, signerInfos);
  const si = sis.read(SEQUENCE, "want exactly one signer");
  if (!sis.empty()) bad("want exactly one signer");
  const { sid, signingTime, ess } = checkSignerInfo(tsr, si);
  const signer = checkCarried(carried, sid);
  if (!keyFits(sid.sigAlg, carried[signer].keyAlg)) bad("the signer's signature algorithm is not for its certificate's key");
  const signerCert = checkSigningCertificate(tsr, ess, carried[signer]);
  return { ...checkTSTInfo(octets.body), signer, signingTime, signerCert, carried: carried.map((c) => ({ all: c.all, go: c.go })) };
}

// The signer's and its certificates' rules (signer.go): SHA-2 digests
// under ECDSA or RSA, attribute values of their own type, the signer's
// certificate carried once and named exactly as the signer identifier
// names it (pkijs matches names by meaning, Go by bytes), and beside it
// only certificates that issued another one carried.
const SHA2 = { "608648016503040201": 32, "608648016503040202": 48, "608648016503040203": 64 };
const SIG_DIGEST = {
  "2a8648ce3d040302": "608648016503040201",
  "2a8648ce3d040303": "608648016503040202",
  "2a8648ce3d040304": "608648016503040203",
  "2a864886f70d01010b": "608648016503040201",
  "2a864886f70d01010c": "608648016503040202",
  "2a864886f70d01010d": "608648016503040203",
  "2a864886f70d010101": "",
};
const UTC_TIME = 0x17;
const UTC_FORM = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
// utcFields: a UTCTime's fields (UTC_FORM's match), the year in full
// (50 to 99 are 19xx, the rest 20xx, RFC 5280 §4.1.2.5.1).
const utcFields = (m) => [(m[1] >= "50" ? "19" : "20") + m[1], ...m.slice(2, 7)];

// readCertificates reads the certificates field as Go's x509 parses what
// pkijs reads otherwise (signer.go's readCertificates).
function readCertificates(b, certs) {
  const what = "a certificate that is no X.509 certificate";
  const out = [];
  const c = reader(b, certs);
  while (!c.empty()) {
    const all = c.read(SEQUENCE, what);
    const cert = reader(b, all);
    const tbs = reader(b, cert.read(SEQUENCE, what));
    const notV3 = "a certificate that is not version 3 (Go's x509 reads no extensions of version 1 or 2, the browser's pkijs does)";
    const vr = reader(b, tbs.read(ctx(0, true), notV3));
    const n = vr.read(INTEGER, notV3);
    if (!vr.empty() || n.body.length !== 1 || n.body[0] !== 2) bad(notV3);
    const serial = tbs.read(INTEGER, "a certificate with a negative serial number");
    if (negative(serial)) bad("a certificate with a negative serial number");
    const alg = tbs.read(SEQUENCE, what);
    const issuer = tbs.read(SEQUENCE, what);
    checkValidity(b, tbs.read(SEQUENCE, what));
    const subject = tbs.read(SEQUENCE, what);
    checkName(b, reader(b, { start: issuer.from, end: issuer.end }), true, "a certificate's issuer");
    checkName(b, reader(b, { start: subject.from, end: subject.end }), true, "a certificate's subject");
    const spkiEl = tbs.read(SEQUENCE, what);
    checkKey(b, spkiEl);
    const spki = reader(b, spkiEl);
    const keyAlg = reader(b, spki.read(SEQUENCE, what)).read(OID, what);
    checkCertSignature(b, alg, same(issuer.all, subject.all));
    const outer = cert.optional(SEQUENCE);
    if (!outer || !same(outer.all, alg.all)) bad("a certificate whose signature algorithm differs inside and outside what is signed");
    tbs.optional(ctx(1, false));
    tbs.optional(ctx(2, false));
    const bits = cert.optional(BIT_STRING);
    const ecdsaSigned = readAlgorithm(b, alg).id.startsWith(ECDSA_WITH);
    // sigDER: what Go's CheckSignatureFrom can verify, an ECDSA signature
    // in DER alone.
    const sigDER = !ecdsaSigned || (bits !== null && bits.body[0] === 0 && ecdsaDER(bits.body.subarray(1)));
    const go = { ...checkCertExtensions(b, tbs), subject: goName(b, subject), sigDER };
    out.push({ all: all.all, issuer: issuer.all, serial: serial.body, subject: subject.all, keyAlg: enc(keyAlg.body), go });
  }
  return out;
}

// The keys, validity and signatures of certificates (certificate.go):
// times as RFC 5280 writes them, RSA keys of at least 1024 bits with an
// odd exponent from 3 to 2^31-1, EC keys on P-256, P-384 or P-521 with
// uncompressed points, signatures by ECDSA or RSA PKCS #1 v1.5 over SHA-2.
const VALIDITY_FORMS = {
  [UTC_TIME]: UTC_FORM,
  [GENERALIZED_TIME]: /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/,
};
const EC_POINTS = { "2a8648ce3d030107": 65, "2b81040022": 97, "2b81040023": 133 };
const CERT_SIGNATURES = ["2a8648ce3d040302", "2a8648ce3d040303", "2a8648ce3d040304", "2a864886f70d01010b", "2a864886f70d01010c", "2a864886f70d01010d"];

function checkValidity(b, e) {
  const r = reader(b, e);
  for (let i = 0; i < 2; i++) {
    if (r.empty()) bad("a certificate whose validity is not two times");
    const t = r.any();
    const form = VALIDITY_FORMS[t.tag];
    if (!form) bad("a certificate whose validity is not two times");
    const text = String.fromCharCode(...t.body);
    const m = form.exec(text);
    if (!m) bad(`a certificate validity time ${JSON.stringify(text)} not as RFC 5280 writes it`);
    const fields = t.tag === UTC_TIME ? utcFields(m) : m.slice(1, 7);
    checkFields(fields, "a certificate validity time", text);
  }
  if (!r.empty()) bad("a certificate whose validity is not two times");
}

function checkKey(b, e) {
  const what = "a certificate with a malformed public key";
  const r = reader(b, e);
  const alg = reader(b, r.read(SEQUENCE, what));
  const id = enc(alg.read(OID, what).body);
  const bits = r.read(BIT_STRING, what);
  if (!r.empty() || bits.body.length === 0 || bits.body[0] !== 0) bad(what);
  const key = bits.body.subarray(1);
  if (id === "2a8648ce3d0201") {
    const curve = alg.optional(OID);
    if (!curve || !alg.empty()) bad("an EC key on no named curve");
    const n = EC_POINTS[enc(curve.body)];
    if (!n) bad("an EC key on a curve other than P-256, P-384 or P-521");
    if (key.length !== n || key[0] !== 4) bad("an EC key whose point is not uncompressed");
    if (!onCurve(enc(curve.body), key)) bad("an EC key whose point is not on its curve");
  } else if (id === "2a864886f70d010101") {
    const rsaWhat = "a malformed RSA key";
    if (!alg.optional(NULL) || !alg.empty()) bad(rsaWhat);
    const top = element(key, 0, key.length);
    if (top.tag !== SEQUENCE || top.end !== key.length) bad(rsaWhat);
    const k = reader(key, top);
    const n = k.read(INTEGER, rsaWhat), ex = k.read(INTEGER, rsaWhat);
    if (!k.empty()) bad(rsaWhat);
    // Go's x509 reads both with cryptobyte, which takes minimal integers only.
    if (!minimalInt(n.body) || !minimalInt(ex.body)) bad(rsaWhat);
    let i = 0;
    while (i < n.body.length && n.body[i] === 0) i++;
    const bitLen = i === n.body.length ? 0 : (n.body.length - i - 1) * 8 + (32 - Math.clz32(n.body[i]));
    if (negative(n) || bitLen < 1024) bad("an RSA key of fewer than 1024 bits");
    if (bitLen > 16384) bad("an RSA key of more than 16384 bits, which browsers do not verify with");
    const ev = negative(ex) || ex.body.length > 5 ? -1 : intValue(ex);
    if (ev < 3 || ev > 2 ** 31 - 1 || ev % 2 === 0) bad("an RSA key whose exponent is not odd, from 3 to 2^31-1");
  } else {
    bad("a certificate whose key is neither ECDSA nor RSA");
  }
}

const ECDSA_WITH = "2a8648ce3d0403";

// ecdsaDER is what ecdsa.VerifyASN1 takes as a signature: one DER
// SEQUENCE of two minimal, non-negative INTEGERs, nothing after it
// (pkijs reads BER and would take more).
function ecdsaDER(sig) {
  try {
    const top = element(sig, 0, sig.length);
    if (top.tag !== SEQUENCE || top.end !== sig.length) return false;
    const r = reader(sig, top);
    const x = r.read(INTEGER, "r"), y = r.read(INTEGER, "s");
    return r.empty() && [x, y].every((v) => minimalInt(v.body) && !negative(v));
  } catch (e) {
    if (e instanceof VerifyError) return false;
    throw e;
  }
}

// CURVES are SP 800-186's P-256, P-384 and P-521 (a = -3), by their
// OIDs: the field's prime and b.
const CURVES = {
  "2a8648ce3d030107": [2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n, 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn],
  "2b81040022": [2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n, 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn],
  "2b81040023": [2n ** 521n - 1n, 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n],
};

// onCurve is ecdsa.ParseUncompressedPublicKey's check of point (04 || x
// || y, its length already checked): both coordinates reduced, and y^2 =
// x^3 - 3x + b. Go's x509 refuses the certificate, and so the token,
// otherwise.
function onCurve(curve, point) {
  const [p, b] = CURVES[curve];
  const half = (point.length - 1) / 2;
  const x = BigInt("0x" + enc(point.subarray(1, 1 + half))), y = BigInt("0x" + enc(point.subarray(1 + half)));
  if (x >= p || y >= p) return false;
  return (y * y - (x * x * x - 3n * x + b)) % p === 0n;
}

// A self-issued certificate may also be signed with SHA-1 or MD5 (as
// certificate.go's selfSignatures): an old anchor's own signature, which
// neither verifier checks; as a key rollover's both refuse it as broken.
const SELF_SIGNATURES = ["2a864886f70d010105", "2a864886f70d010104", "2a8648ce3d0401"];

function checkCertSignature(b, e, selfIssued) {
  const a = readAlgorithm(b, e);
  if (!a.ok || !(CERT_SIGNATURES.includes(a.id) || (selfIssued && SELF_SIGNATURES.includes(a.id)))) bad("a certificate signed other than with ECDSA or RSA PKCS #1 v1.5 over SHA-2");
}

// Extensions Go's x509 refuses to parse when marked critical:
// authorityKeyIdentifier, subjectKeyIdentifier, authorityInfoAccess.
const NEVER_CRITICAL = ["551d23", "551d0e", "2b06010505070101"];

// checkCertExtensions holds a certificate's extensions to signer.go's
// rules and to what Go's x509 parses (goExtension), and returns what Go
// reads of them, which the chain is built from (pkijs reads some of them
// otherwise).
function checkCertExtensions(b, tbs) {
  const what = "a certificate with malformed extensions";
  const view = { bc: null, ski: new Uint8Array(0), aki: new Uint8Array(0), sanHandled: false };
  const wrapped = tbs.optional(ctx(3, true));
  if (!wrapped) return view;
  const w = reader(b, wrapped);
  const exts = reader(b, w.read(SEQUENCE, what));
  const seen = new Set();
  while (!exts.empty()) {
    const e = reader(b, exts.read(SEQUENCE, what));
    const id = enc(e.read(OID, what).body);
    const crit = e.optional(BOOLEAN);
    const value = e.read(OCTET_STRING, what);
    if (!e.empty()) bad(what);
    if (seen.has(id)) bad("a certificate with an extension twice");
    seen.add(id);
    if (crit && crit.body[0] === 0xff && NEVER_CRITICAL.includes(id)) bad("a certificate marking critical an extension that must not be");
    if (POLICY_EXTS.includes(id)) bad("a certificate with policy constraints, policy mappings or inhibitAnyPolicy (Go's x509 and the browser's process them apart)");
    if (id === "551d1e") bad("a certificate with name constraints (Go's x509 and the browser enforce them apart)");
    if (id === "551d0f") checkKeyUsage(value.body);
    goExtension(id, value.body, view);
  }
  return view;
}

// goExtension is crypto/x509's processExtensions for the extensions it
// parses: a value it cannot parse makes it refuse the certificate, so it
// is refused here; what it reads goes into view. cryptobyte reads one
// element where a value is read and ignores what follows; peeking looks
// at the tag byte only.
function goExtension(id, v, view) {
  const names = { "551d13": "basicConstraints", "551d11": "subjectAltName", "551d1f": "cRLDistributionPoints", "551d23": "authorityKeyIdentifier", "551d25": "extKeyUsage", "551d0e": "subjectKeyIdentifier", "551d20": "certificatePolicies", "2b06010505070101": "authorityInfoAccess" };
  if (!(id in names)) return;
  const broken = () => bad(`a certificate whose ${names[id]} Go's x509 cannot parse`);
  const one = (r, tag) => {
    if (r.empty() || r.tagAt() !== tag) broken();
    return r.any();
  };
  const read = (bytes, tag) => {
    let e;
    try { e = element(bytes, 0, bytes.length); } catch { broken(); }
    if (e.tag !== tag) broken();
    return e;
  };
  const inside = (e) => {
    const r = reader(v, e);
    return {
      empty: r.empty,
      tagAt: () => (r.empty() ? -1 : v[r.at()]),
      any: () => { try { return r.any(); } catch { broken(); } },
    };
  };
  const ascii = (body) => body.every((x) => x < 0x80);
  switch (id) {
    case "551d13": { // basicConstraints: cA a BOOLEAN, pathLen an INTEGER of 0..MaxInt64
      const r = inside(read(v, SEQUENCE));
      let ca = false, pathLen = -1;
      if (r.tagAt() === BOOLEAN) {
        const x = r.any();
        if (x.body.length !== 1 || (x.body[0] !== 0 && x.body[0] !== 0xff)) broken();
        ca = x.body[0] === 0xff;
      }
      if (r.tagAt() === INTEGER) {
        const x = r.any();
        if (!minimalInt(x.body) || negative(x) || x.body.length > 8) broken();
        pathLen = intValue(x);
      }
      view.bc = { ca, pathLen };
      break;
    }
    case "551d11": { // subjectAltName: e-mail, DNS names ASCII, IPs of 4 or 16 bytes
      const r = inside(read(v, SEQUENCE));
      while (!r.empty()) {
        const n = r.any();
        switch (n.tag ^ 0x80) {
          case 1: case 2:
            if (!ascii(n.body)) broken();
            view.sanHandled = true;
            break;
          case 6: // refused by checkSAN's rule, as signer.go does
            bad("a certificate with a URI subjectAltName (Go's x509 parses URIs by net/url's rules, which the browser does not have)");
            break;
          case 7:
            if (n.body.length !== 4 && n.body.length !== 16) broken();
            view.sanHandled = true;
            break;
        }
      }
      break;
    }
    case "551d1f": { // cRLDistributionPoints: each a SEQUENCE; a name, if any, a fullName
      const r = inside(read(v, SEQUENCE));
      while (!r.empty()) {
        const dp = inside(one(r, SEQUENCE));
        if (dp.tagAt() !== ctx(0, true)) continue;
        const name = inside(dp.any());
        const full = inside(one(name, ctx(0, true)));
        while (!full.empty() && full.tagAt() === ctx(6, false)) full.any();
      }
      break;
    }
    case "551d23": { // authorityKeyIdentifier: its keyIdentifier, if first
      const r = inside(read(v, SEQUENCE));
      if (r.tagAt() === ctx(0, false)) view.aki = r.any().body;
      break;
    }
    case "551d0e":
      view.ski = read(v, OCTET_STRING).body;
      break;
    case "551d25": { // extKeyUsage: identifiers cryptobyte reads
      const r = inside(read(v, SEQUENCE));
      while (!r.empty()) if (!oidDER(one(r, OID).body)) broken();
      break;
    }
    case "551d20": { // certificatePolicies: each led by an identifier, none twice
      const r = inside(read(v, SEQUENCE));
      const seen = new Set();
      while (!r.empty()) {
        const p = inside(one(r, SEQUENCE));
        const oid = one(p, OID).body;
        if (seen.has(enc(oid)) || !policyOID(oid)) broken();
        seen.add(enc(oid));
      }
      break;
    }
    case "2b06010505070101": { // authorityInfoAccess: a method, then a location
      const r = inside(read(v, SEQUENCE));
      while (!r.empty()) {
        const d = inside(one(r, SEQUENCE));
        if (!oidDER(one(d, OID).body)) broken();
        if (d.tagAt() === ctx(6, false)) d.any();
      }
      break;
    }
  }
}

// minimalInt: an INTEGER's content in the fewest bytes, as cryptobyte
// wants it.
const minimalInt = (x) => x.length > 0 && !(x.length > 1 && ((x[0] === 0 && !(x[1] & 0x80)) || (x[0] === 0xff && x[1] & 0x80)));

// policyOID is x509's newOIDFromDER: minimal subidentifiers of any size.
function policyOID(b) {
  if (b.length === 0 || b[b.length - 1] & 0x80) return false;
  let start = true;
  for (const x of b) {
    if (start && x === 0x80) return false;
    start = (x & 0x80) === 0;
  }
  return true;
}

// policyConstraints, policyMappings, inhibitAnyPolicy.
const POLICY_EXTS = ["551d24", "551d21", "551d36"];

// checkKeyUsage, as signer.go's: a keyUsage that allows something (Go's
// x509 reads one whose bits 0 to 8 are clear as none, pkijs as a CA that
// may not sign), a BIT STRING as Go reads it (padding bits zero).
function checkKeyUsage(v) {
  const what = "a certificate with a malformed keyUsage";
  const bits = element(v, 0, v.length);
  if (bits.tag !== BIT_STRING || bits.end !== v.length) bad(what);
  const d = bits.body;
  if (d.length === 0 || d[0] > 7 || d.length === 1 && d[0] !== 0 || d.length > 1 && (d[d.length - 1] & ((1 << d[0]) - 1)) !== 0) bad(what);
  if (!(d[1] || d[2] & 0x80)) bad("a certificate whose keyUsage allows nothing (Go's x509 reads it as absent, the browser as allowing nothing)");
}

// checkTrusted holds a trust anchor or intermediate (its DER) to the
// rules of certificates a token carries, and returns what Go reads of its
// extensions.
export function checkTrusted(raw) {
  const [cert] = readCertificates(raw, { start: 0, end: raw.length });
  return cert.go;
}

// keyFits: the signer's key is the one its signature algorithm names
// (ECDSA for ecdsa-with-*, RSA for the rest).
const keyFits = (sigAlg, keyAlg) => (sigAlg.startsWith("2a8648ce3d0403") ? keyAlg === "2a8648ce3d0201" : keyAlg === "2a864886f70d010101");

const same = (a, b) => compare(a, b) === 0;

// checkCarried returns the index of the signer's certificate.
function checkCarried(carried, sid) {
  let signer = -1, signers = 0;
  for (const [i, c] of carried.entries()) {
    if (carried.slice(0, i).some((o) => same(o.all, c.all))) bad("the token carries a certificate twice");
    if (same(c.issuer, sid.issuer) && same(c.serial, sid.serial)) {
      signers++;
      signer = i;
      continue;
    }
    if (!carried.some((o, j) => j !== i && same(c.subject, o.issuer))) bad("the token carries a certificate that is neither its signer's nor an issuer of one it carries");
  }
  if (signers !== 1) bad("the token does not carry its signer's certificate once, named exactly as its signer identifier names it");
  return signer;
}

const ESS_HASHES = { "608648016503040201": "SHA-256", "608648016503040202": "SHA-384", "608648016503040203": "SHA-512" };

// checkSigningCertificate holds the signing certificate attributes to the
// signer's certificate as signer.go does, all but the hashes, which are
// WebCrypto's and so asynchronous: it returns {bytes, hashes: [{hash,
// certHash}]} for the caller to compare.
function checkSigningCertificate(b, ess, signer) {
  const hashes = [];
  for (const [value, v2] of [[ess.v1, false], [ess.v2, true]]) {
    if (!value) continue;
    if (value.tag !== SEQUENCE) bad("a signing certificate attribute that names no certificate");
    const sc = reader(b, value);
    const certs = reader(b, sc.read(SEQUENCE, "a signing certificate attribute that names no certificate"));
    const id = reader(b, certs.read(SEQUENCE, "a signing certificate attribute that names no certificate"));
    let hash = "SHA-1";
    if (v2) {
      hash = "SHA-256";
      const a = id.optional(SEQUENCE);
      if (a) {
        const alg = readAlgorithm(b, a);
        if (!alg.ok || !(alg.id in ESS_HASHES)) bad("an ESSCertIDv2 whose hash is not SHA-256, SHA-384 or SHA-512");
        hash = ESS_HASHES[alg.id];
      }
    }
    const certHash = id.read(OCTET_STRING, v2 ? "malformed ESSCertIDv2" : "malformed ESSCertID");
    hashes.push({ hash, certHash: certHash.body });
    if (id.empty()) continue;
    const what = "an ESSCertID whose issuer and serial number are not one directory name and a number";
    const is = reader(b, id.read(SEQUENCE, what));
    if (!id.empty()) bad(what);
    const names = reader(b, is.read(SEQUENCE, what));
    const gn = reader(b, names.read(ctx(4, true), what));
    if (!names.empty()) bad(what);
    const dn = gn.read(SEQUENCE, what);
    if (!gn.empty()) bad(what);
    const serial = is.read(INTEGER, what);
    if (!is.empty()) bad(what);
    if (!same(dn.all, signer.issuer) || !same(serial.body, signer.serial)) bad("the signing certificate attribute names another issuer or serial number than the signer's");
  }
  return { bytes: signer.all, hashes };
}

// readAlgorithm reads an AlgorithmIdentifier of no parameters or NULL
// ones.
function readAlgorithm(b, e) {
  const r = reader(b, e);
  const id = r.optional(OID);
  const nul = r.optional(NULL);
  return { id: id && enc(id.body), null: !!nul, ok: !!id && r.empty() };
}

function checkAlgorithms(b, digestAlg, sigAlg) {
  const d = readAlgorithm(b, digestAlg);
  if (!d.ok || !(d.id in SHA2)) bad("the signer's digest is not SHA-256, SHA-384 or SHA-512");
  const s = readAlgorithm(b, sigAlg);
  if (!s.ok || !(s.id in SIG_DIGEST) || (s.id.startsWith("2a8648ce3d0403") && s.null)) bad("the signer's signature algorithm is not ECDSA or RSA with SHA-2");
  if (SIG_DIGEST[s.id] !== "" && SIG_DIGEST[s.id] !== d.id) bad("the signer's signature algorithm names another digest than the signer's");
  return { digest: d.id, sign: s.id };
}

// checkSignedValue returns a signingTime as GeneralizedTime text.
function checkSignedValue(b, id, values, digestLength) {
  const one = (tag) => (values.length === 1 && values[0].tag === tag ? values[0] : null);
  if (id === OIDS.contentType) {
    const v = one(OID);
    if (!v || enc(v.body) !== OIDS.tstInfo) bad("a contentType other than one id-ct-TSTInfo");
  } else if (id === OIDS.messageDigest) {
    const v = one(OCTET_STRING);
    if (!v || v.body.length !== digestLength) bad("a messageDigest other than one OCTET STRING of the digest's length");
  } else if (id === OIDS.signingCertificate || id === OIDS.signingCertificateV2) {
    if (values.length !== 1) bad("a signing certificate attribute with other than one value");
  } else if (id === OIDS.signingTime) {
    const u = one(UTC_TIME);
    if (u) {
      const text = String.fromCharCode(...u.body);
      const m = UTC_FORM.exec(text);
      if (!m) bad(`signingTime ${JSON.stringify(text)} is not a UTCTime as DER writes it`);
      const f = utcFields(m);
      checkFields(f, "signingTime", text);
      return f.join("") + "Z";
    }
    const g = one(GENERALIZED_TIME);
    if (!g) bad("a signingTime other than one UTCTime or GeneralizedTime");
    const text = String.fromCharCode(...g.body);
    const m = GEN_TIME.exec(text);
    if (!m) bad(`signingTime ${JSON.stringify(text)} is not UTC GeneralizedTime without trailing zeros`);
    checkFields(m.slice(1, 7), "signingTime", text);
    return text;
  }
  return null;
}

function checkSignerInfo(b, e) {
  const si = reader(b, e);
  const named = "the signer is not named by issuer and serial number (version 1)";
  const version = si.read(INTEGER, named);
  if (version.body.length !== 1 || version.body[0] !== 1) bad(named);
  const sidR = reader(b, si.read(SEQUENCE, named));
  const issuer = sidR.read(SEQUENCE, named);
  const serial = sidR.read(INTEGER, named);
  if (!sidR.empty()) bad(named);
  const what = "malformed signer, or one without signed attributes";
  const digestAlg = si.read(SEQUENCE, what);
  const attrs = si.read(ctx(0, true), what);
  const sigAlg = si.read(SEQUENCE, what);
  const signature = si.read(OCTET_STRING, what);
  const unsigned = si.optional(ctx(1, true));
  if (!si.empty()) bad("the signer holds more than its fields");
  const { digest, sign } = checkAlgorithms(b, digestAlg, sigAlg);
  if (sign.startsWith(ECDSA_WITH) && !ecdsaDER(signature.body)) bad("an ECDSA signature that is not DER (Go's ecdsa.VerifyASN1 takes DER alone)");
  const seen = new Map();
  let prev = null, signingTime = null;
  const ess = {};
  const a = reader(b, attrs);
  while (!a.empty()) {
    const attr = a.read(SEQUENCE, "malformed signed attribute");
    if (prev && compare(prev, attr.all) > 0) bad("signed attributes out of DER order");
    prev = attr.all;
    const { id, values } = readAttribute(b, attr);
    seen.set(id, (seen.get(id) || 0) + 1);
    if (seen.get(id) > 1) bad("a signed attribute given twice");
    signingTime = checkSignedValue(b, id, values, SHA2[digest]) || signingTime;
    if (id === OIDS.signingCertificate) ess.v1 = values[0];
    if (id === OIDS.signingCertificateV2) ess.v2 = values[0];
  }
  if (!ess.v1 && !ess.v2) bad("the signer names no signing certificate (signingCertificate of RFC 3161 or signingCertificateV2 of RFC 5816)");
  if (seen.get(OIDS.contentType) !== 1 || seen.get(OIDS.messageDigest) !== 1) bad("the signed attributes lack contentType or messageDigest");
  if (unsigned) {
    const u = reader(b, unsigned);
    while (!u.empty()) readAttribute(b, u.read(SEQUENCE, "malformed unsigned attribute"));
  }
  return { sid: { issuer: issuer.all, serial: serial.body, sigAlg: sign }, signingTime, ess };
}

function readAttribute(b, e) {
  const what = "an attribute that is not an identifier and a SET of values";
  const r = reader(b, e);
  const id = r.read(OID, what);
  const values = r.read(SET, what);
  if (!r.empty()) bad(what);
  const v = reader(b, values);
  const out = [];
  while (!v.empty()) out.push(v.any());
  if (out.length === 0) bad("an attribute with no value");
  return { id: enc(id.body), values: out };
}

const GEN_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d{0,8}[1-9])?Z$/;

function checkTSTInfo(b) {
  try {
    checkDER(b);
  } catch (e) {
    throw new VerifyError("the TSTInfo: " + e.message);
  }
  const top = element(b, 0, b.length);
  if (top.tag !== SEQUENCE || top.end !== b.length) bad("the token's content is not one TSTInfo");
  const t = reader(b, top);
  const what = "malformed TSTInfo";
  const version = t.read(INTEGER, what);
  if (!fitsInt64(version)) bad(what);
  if (version.body.length !== 1 || version.body[0] !== 1) bad(`a TSTInfo of version ${negative(version) ? "below 0" : intValue(version)}, not 1`);
  t.read(OID, what);
  t.read(SEQUENCE, what);
  t.read(INTEGER, what);
  const gt = t.read(GENERALIZED_TIME, what);
  const genTime = String.fromCharCode(...gt.body);
  checkGenTime(genTime);
  let accuracy = { seconds: 0, millis: 0, micros: 0 };
  const acc = t.optional(SEQUENCE);
  if (acc) accuracy = checkAccuracy(b, acc);
  t.optional(BOOLEAN);
  t.optional(INTEGER);
  const name = t.optional(ctx(0, true));
  const exts = t.optional(ctx(1, true));
  if (!t.empty()) bad("the TSTInfo holds more than its fields");
  if (name) checkGeneralName(b, name);
  if (exts) checkExtensions(b, exts);
  return { genTime, accuracy };
}

// GENERAL_NAME_TAGS are the GeneralName choices the profile takes for a
// TSTInfo's tsa (profile.go's generalNameTags).
const GENERAL_NAME_TAGS = [0x81, 0x82, 0xa4, 0x86, 0x87, 0x88];

function checkGeneralName(b, name) {
  const r = reader(b, name);
  if (r.empty()) bad("the TSTInfo's tsa is not one GeneralName the profile takes");
  const g = r.any();
  if (!r.empty() || !GENERAL_NAME_TAGS.includes(g.tag)) bad("the TSTInfo's tsa is not one GeneralName the profile takes");
  if (g.tag === 0x88 && !oidDER(g.body)) bad("the TSTInfo's tsa is a registeredID that is no identifier");
  if (g.tag === 0xa4) checkName(b, reader(b, g), false, "the TSTInfo's tsa, a directoryName,");
}

// checkName holds a Name to what Go's x509 parses (certificate.go's
// checkName): RDNs of attributes whose values are strings of the types
// Go reads, in their alphabets. holder reads the element that holds the Name.
function checkName(b, holder, emptyRDNs, what) {
  const notName = what + " is not one Name";
  const n = reader(b, holder.read(SEQUENCE, notName));
  if (!holder.empty()) bad(notName);
  while (!n.empty()) {
    const rdn = reader(b, n.read(SET, notName));
    if (rdn.empty() && !emptyRDNs) bad(notName);
    while (!rdn.empty()) {
      const atv = reader(b, rdn.read(SEQUENCE, notName));
      atv.read(OID, notName);
      if (atv.empty()) bad(notName);
      const v = atv.any();
      if (!atv.empty()) bad(notName);
      if (!nameString(v.tag, v.body)) bad(what + " holds a value that is not a PrintableString, UTF8String, BMPString, IA5String, NumericString or T61String in that type's alphabet");
    }
  }
}

// NAMED are the attributes Go's pkix.Name holds in fields, in the order
// its ToRDNSequence writes them, each with the name its String gives.
const NAMED = [["550406", "C"], ["550408", "ST"], ["550407", "L"], ["550409", "STREET"], ["550411", "POSTALCODE"],
  ["55040a", "O"], ["55040b", "OU"], ["550403", "CN"], ["550405", "SERIALNUMBER"]];

// goName is Go's pkix.Name.String of the Name e (checkName admitted it)
// as its x509 parses it: every other attribute first, each in an RDN of
// its own; then the named ones in NAMED's order, each type's values in
// one RDN (CN and SERIALNUMBER the last given, if not empty); all
// written from the last RDN to the first.
function goName(b, e) {
  const what = "a certificate's subject is not one Name";
  const byType = new Map(NAMED.map(([id]) => [id, []]));
  const rdns = [];
  const n = reader(b, e);
  while (!n.empty()) {
    const rdn = reader(b, n.read(SET, what));
    while (!rdn.empty()) {
      const atv = reader(b, rdn.read(SEQUENCE, what));
      const oid = atv.read(OID, what).body;
      const v = atv.any();
      const value = nameValue(v.tag, v.body);
      if (byType.has(enc(oid))) byType.get(enc(oid)).push(value);
      else rdns.push([`${oidString(oid)}=#${enc(goMarshal(value))}`]);
    }
  }
  for (const [id, name] of NAMED) {
    let values = byType.get(id);
    if (name === "CN" || name === "SERIALNUMBER") values = values.length && values[values.length - 1] !== "" ? [values[values.length - 1]] : [];
    if (values.length) rdns.push(values.map((v) => `${name}=${escapeValue(v)}`));
  }
  return rdns.reverse().map((r) => r.join("+")).join(",");
}

// oidString writes an OID's DER body dotted, as asn1.ObjectIdentifier's
// String (subidentifiers within 31 bits, which Go's parser holds them to).
function oidString(body) {
  const arcs = [];
  let v = 0;
  for (const x of body) {
    v = v * 128 + (x & 0x7f);
    if (!(x & 0x80)) {
      if (!arcs.length) arcs.push(v < 40 ? 0 : v < 80 ? 1 : 2, v < 80 ? v % 40 : v - 80);
      else arcs.push(v);
      v = 0;
    }
  }
  return arcs.join(".");
}

// nameValue is the string Go's x509 reads from an attribute's value:
// T61String as Latin-1, a BMPString without its terminator.
function nameValue(tag, v) {
  if (tag === UTF8) return utf8.decode(v);
  if (tag === 0x1e) {
    const l = v.length >= 2 && v[v.length - 1] === 0 && v[v.length - 2] === 0 ? v.length - 2 : v.length;
    let out = "";
    for (let i = 0; i < l; i += 2) out += String.fromCharCode((v[i] << 8) | v[i + 1]);
    return out;
  }
  return Array.from(v, (x) => String.fromCharCode(x)).join("");
}

// goMarshal is asn1.Marshal of a Go string: a PrintableString if every
// character is in its alphabet ('*' and '&' not), else a UTF8String.
function goMarshal(s) {
  const body = new TextEncoder().encode(s);
  const tag = [...s].every((c) => c.charCodeAt(0) < 0x80 && c !== "*" && c !== "&" && printable(c.charCodeAt(0))) ? 0x13 : UTF8;
  const len = [];
  for (let l = body.length; l > 0; l = Math.floor(l / 256)) len.unshift(l % 256);
  const head = body.length < 128 ? [body.length] : [0x80 | len.length, ...len];
  return Uint8Array.from([tag, ...head, ...body]);
}

// escapeValue is RDNSequence.String's escaping of a value.
function escapeValue(v) {
  const cs = [...v];
  return cs.map((c, k) => (",+\"\\<>;".includes(c) || (c === " " && (k === 0 || k === cs.length - 1)) || (c === "#" && k === 0) ? "\\" + c : c)).join("");
}

// printable are the bytes Go's x509 takes in a PrintableString: the type's
// alphabet, '*' and '&'.
const printable = (x) => (x >= 0x61 && x <= 0x7a) || (x >= 0x41 && x <= 0x5a) || (x >= 0x30 && x <= 0x39) ||
  (x >= 0x27 && x <= 0x29) || (x >= 0x2b && x <= 0x2f) || " :=?*&".includes(String.fromCharCode(x));

// nameString says whether Go's x509 reads v, of type tag, as a string.
function nameString(tag, v) {
  switch (tag) {
    case 0x14: return true; // T61String, read as Latin-1
    case UTF8: try { utf8.decode(v); return true; } catch { return false; }
    case 0x13: return v.every(printable);
    case 0x16: return v.every((x) => x < 0x80);
    case 0x12: return v.every((x) => (x >= 0x30 && x <= 0x39) || x === 0x20);
    case 0x1e: {
      if (v.length % 2) return false;
      const l = v.length >= 2 && v[v.length - 1] === 0 && v[v.length - 2] === 0 ? v.length - 2 : v.length;
      for (let i = 0; i < l; i += 2) {
        const p = (v[i] << 8) | v[i + 1];
        if (p >= 0xfffe || (p >= 0xfdd0 && p <= 0xfdef) || (p >= 0xd800 && p <= 0xdfff)) return false;
      }
      return true;
    }
  }
  return false;
}

function checkExtensions(b, exts) {
  const what = "a TSTInfo extension that is not an Extension";
  const r = reader(b, exts);
  while (!r.empty()) {
    const e = reader(b, r.read(SEQUENCE, what));
    const id = e.read(OID, what);
    e.optional(BOOLEAN);
    const value = e.read(OCTET_STRING, what);
    if (!e.empty()) bad(what);
    if (enc(id.body) !== OIDS.qcStatements) continue;
    checkDER(value.body);
    const top = element(value.body, 0, value.body.length);
    if (top.tag !== SEQUENCE || top.end !== value.body.length) bad("malformed qcStatements");
    const sts = reader(value.body, top);
    while (!sts.empty()) {
      const st = reader(value.body, sts.read(SEQUENCE, "malformed qcStatements"));
      st.read(OID, "malformed qcStatements");
      if (!st.empty()) st.any();
      if (!st.empty()) bad("malformed qcStatements");
    }
  }
}

function checkGenTime(s) {
  const m = GEN_TIME.exec(s);
  if (!m) bad(`genTime ${JSON.stringify(s)} is not UTC GeneralizedTime without trailing zeros`);
  checkFields(m.slice(1, 7), "genTime", s);
}

// checkFields holds a time's fields (year, month, day, hour, minute,
// second) to their ranges.
function checkFields(fields, what, s) {
  const [y, mo, d, h, mi, se] = fields.map(Number);
  const last = new Date(0);
  last.setUTCFullYear(y, mo, 0); // Date.UTC would take years below 100 as 19xx
  const days = last.getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || se > 59) bad(`${what} ${JSON.stringify(s)} is not a time`);
}

// smallInt: the content of a minimally encoded INTEGER within lo and hi.
function smallInt(v, lo, hi) {
  if (v.length === 0 || v.length > 2 || v[0] & 0x80 || (v.length === 2 && v[0] === 0 && !(v[1] & 0x80))) return false;
  const n = v.length === 2 ? v[0] * 256 + v[1] : v[0];
  return n >= lo && n <= hi;
}

function checkAccuracy(b, e) {
  const r = reader(b, e);
  const out = { seconds: 0, millis: 0, micros: 0 };
  const s = r.optional(INTEGER);
  if (s && (!fitsInt64(s) || negative(s) || s.body.length > 2 || intValue(s) > MAX_ACCURACY)) bad(`an accuracy of other than 0 to ${MAX_ACCURACY} seconds`);
  if (s) out.seconds = intValue(s);
  for (const [n, name] of [[0, "millis"], [1, "micros"]]) {
    const v = r.optional(ctx(n, false));
    if (v && !smallInt(v.body, 1, 999)) bad("accuracy millis or micros outside 1 to 999");
    if (v) out[name] = intValue(v);
  }
  if (!r.empty()) bad("the accuracy holds more than its fields");
  return out;
}

// qcStatementIDs reads a qcStatements extension's value (RFC 3739) as Go's
// encoding/asn1 reads it into []struct{ID OID; Info RawValue optional}:
// one SEQUENCE, nothing after, of SEQUENCEs each starting with an
// identifier (what follows it asn1 does not read). It returns the
// identifiers' DER content in hex.
export function qcStatementIDs(b) {
  const top = element(b, 0, b.length);
  if (top.tag !== SEQUENCE || top.end !== b.length) bad("malformed qcStatements");
  const r = reader(b, top);
  const ids = [];
  while (!r.empty()) {
    const st = reader(b, r.read(SEQUENCE, "malformed qcStatements"));
    const id = st.read(OID, "malformed qcStatements");
    if (!oidDER(id.body)) bad("malformed qcStatements");
    ids.push(enc(id.body));
  }
  return ids;
}
