#!/usr/bin/env bash
# Verifies an Evidence Vault receipt with standard tools and the public key
# alone: jq, base64, openssl, sha256sum. No vault, no network.
#
#   scripts/verify-receipt.sh RECEIPT.json PUBLIC-KEY.pem [FILE]
#
# RECEIPT.json is the DSSE envelope (GET /v1/receipts/{id}); PUBLIC-KEY.pem
# one of GET /v1/keys. With FILE, also checks that FILE is the document the
# receipt names. Exits 0 only if every check passes.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 RECEIPT.json PUBLIC-KEY.pem [FILE]" >&2; exit 2; }
key=$2 file=${3:-}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# A receipt bundle ({"envelope", "log"}) or a bare DSSE envelope; the log
# proof is checked by the vault-audit and ledger tools, not here.
receipt=$work/envelope.json
jq '.envelope // .' "$1" > "$receipt"

# 1. The key is the one the receipt names: keyid = SHA-256 of the DER key.
keyid=$(openssl pkey -pubin -in "$key" -outform DER | sha256sum | cut -d' ' -f1)
named=$(jq -r '.signatures[0].keyid' "$receipt")
[[ "$keyid" == "$named" ]] || { echo "FAIL key: receipt names key $named, this key is $keyid"; exit 1; }
echo "ok   key $keyid"

# 2. The signature: ECDSA P-256 with SHA-256 over DSSE's pre-authentication
#    encoding, PAE = "DSSEv1 <len type> <type> <len payload> <payload>".
type=$(jq -r '.payloadType' "$receipt")
[[ "$type" == "application/vnd.in-toto+json" ]] || { echo "FAIL payload type $type"; exit 1; }
jq -r '.payload' "$receipt" | base64 -d > "$work/payload" 2>/dev/null ||
  { echo "FAIL payload: not base64"; exit 1; }
printf 'DSSEv1 %d %s %d ' "${#type}" "$type" "$(wc -c < "$work/payload")" > "$work/pae"
cat "$work/payload" >> "$work/pae"
jq -r '.signatures[0].sig' "$receipt" | base64 -d > "$work/sig" 2>/dev/null ||
  { echo "FAIL signature: not base64"; exit 1; }
openssl dgst -sha256 -verify "$key" -signature "$work/sig" "$work/pae" > /dev/null 2>&1 ||
  { echo "FAIL signature: the receipt was altered or not signed by this key"; exit 1; }
echo "ok   signature"

# 3. The statement: an in-toto Statement v1 about one subject.
jq -e '._type == "https://in-toto.io/Statement/v1" and (.subject | length) == 1
       and .predicateType == "https://evidencevault.dev/receipt/v1"' "$work/payload" > /dev/null ||
  { echo "FAIL statement: not an Evidence Vault receipt v1"; exit 1; }
digest=$(jq -r '.subject[0].digest.sha256' "$work/payload")
jq -r '"ok   statement: \(.subject[0].name) version \(.predicate.version) of dossier \(.predicate.dossier.id), sealed \(.predicate.sealedAt), locked until \(.predicate.retention.retainUntil)"' "$work/payload"

# 4. The file, if given, is the one the receipt names.
if [[ -n "$file" ]]; then
  actual=$(sha256sum "$file" | cut -d' ' -f1)
  [[ "$actual" == "$digest" ]] || { echo "FAIL file: SHA-256 $actual, the receipt names $digest"; exit 1; }
  echo "ok   file sha256 $digest"
fi
echo "VALID"
