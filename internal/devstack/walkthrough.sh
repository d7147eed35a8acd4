# --- Evidence Vault walkthrough (bash; needs curl, jq, sha256sum) ---
set -a; . ./.local/env; set +a
WORK=$(mktemp -d); cd "$WORK"
UP=(-H "Authorization: Bearer $VAULT_UPLOADER_TOKEN")
ADMIN=(-H "Authorization: Bearer $VAULT_ADMIN_TOKEN")
# The auditor belongs to a notified body, not to tenant demo: they name
# the tenant they act in.
AUD=(-H "Authorization: Bearer $VAULT_AUDITOR_TOKEN" -H "Vault-Tenant: $VAULT_TENANT")
JSON=(-H "Content-Type: application/json")

# 1. The uploader creates the dossier of one device (a second run answers 409).
curl -s "${UP[@]}" "${JSON[@]}" -X POST "$VAULT_URL/v1/dossiers" -d '{
  "name": "CardioScan AI", "basicUdiDi": "1987654Ad4X4bL5ttr2310c2K",
  "regulation": "MDR", "riskClass": "IIa", "implantable": false,
  "highRiskAi": true, "notifiedBody": "0197"}' | jq 'if .id then {id, name} else {status, detail} end'
DOSSIER=$(curl -s "${UP[@]}" "$VAULT_URL/v1/dossiers" |
  jq -r '.dossiers[] | select(.basicUdiDi == "1987654Ad4X4bL5ttr2310c2K") | .id')
echo "dossier: $DOSSIER"

# 2. Declare a file: metadata, size and SHA-256. The vault answers with a
#    presigned PUT bound to exactly these bytes.
printf 'Software validation report for CardioScan AI, revision A, %s\n' "$(date -u +%FT%TZ)" > report.txt
SIZE=$(wc -c < report.txt | tr -d ' '); SHA=$(sha256sum report.txt | cut -d' ' -f1)
jq -n --arg sha "$SHA" --argjson size "$SIZE" '{
  path: "test-reports/software-validation.txt", title: "Software validation report",
  kind: "test-report", section: "MDR-II-6.1", revision: "A", language: "en",
  effectiveDate: "2026-11-02", standards: ["IEC 62304:2006+A1:2015"], author: "QA team",
  file: {name: "software-validation.txt", size: $size, sha256: $sha, contentType: "text/plain"}}' > meta.json
curl -s "${UP[@]}" "${JSON[@]}" -X POST "$VAULT_URL/v1/dossiers/$DOSSIER/uploads" -d @meta.json > ticket.json
jq '{uploadId, expiresAt, headers: .upload.headers}' ticket.json

# 3. Send the bytes straight to storage with the signed headers.
mapfile -t PUTH < <(jq -r '.upload.headers | to_entries[] | select(.key != "Content-Length") | "-H", "\(.key): \(.value)"' ticket.json)
curl -s -o /dev/null -w 'PUT to storage: %{http_code}\n' -X PUT "${PUTH[@]}" --data-binary @report.txt "$(jq -r .upload.url ticket.json)"

# 4. Complete: the vault checks the stored checksum, locks the version and
#    returns the signed receipt (an in-toto statement in a DSSE envelope).
curl -s "${UP[@]}" -X POST "$VAULT_URL$(jq -r .complete ticket.json)" > receipt.json
jq '{receiptId, version: .predicate.version, sha256: .subject.digest.sha256,
     retention: .predicate.retention, supersedes: .predicate.supersedes}' receipt.json

# 5. The uploader grants the notified body's auditor this dossier for 90
#    days (a signed entry of the log); the auditor sees the grant.
jq -n --arg d "$DOSSIER" --arg until "$(date -u -d '+90 days' +%FT%TZ)" \
  '{grantee: {email: "auditor@nb0197.example"}, dossiers: [$d], until: $until, note: "walkthrough"}' |
  curl -s "${UP[@]}" "${JSON[@]}" -X POST "$VAULT_URL/v1/grants" -d @- | jq '{id, status, until, logIndex}'
curl -s -H "Authorization: Bearer $VAULT_AUDITOR_TOKEN" "$VAULT_URL/v1/me" |
  jq '{who: .identity.subject, grants: [.grants[] | {tenant, dossiers, until}]}'

# 6. The auditor lists the dossier and downloads the exact version.
curl -s "${AUD[@]}" "$VAULT_URL/v1/dossiers/$DOSSIER/documents" | jq '.documents[] | {path: .document.path, version, receiptId}'
curl -s "${AUD[@]}" --get --data-urlencode "path=test-reports/software-validation.txt" \
  "$VAULT_URL/v1/dossiers/$DOSSIER/download" > download.json
curl -s -o downloaded.txt "$(jq -r .download.url download.json)"
sha256sum downloaded.txt | cut -d' ' -f1 | grep -qx "$SHA" && echo "OK: downloaded bytes match the receipt's SHA-256"

# 7. The tenant's admin reads the access trail: who downloaded what, when.
curl -s "${ADMIN[@]}" "$VAULT_URL/v1/access" | jq '.events[-1] | {at, who: .who.subject, path, version, grants}'

# 8. Anyone with the receipt checks it: signature, key, stored digest, lock.
jq --arg sha "$SHA" '{receipt: .envelope, sha256: $sha}' receipt.json |
  curl -s "${AUD[@]}" "${JSON[@]}" -X POST "$VAULT_URL/v1/verify" -d @- | tee verify.json | jq '{valid, checks: [.checks[] | {name, passed}]}'
jq -e .valid verify.json > /dev/null && echo "OK: receipt verified"

# 9. Another tenant sees nothing: 404, not 403, so existence does not leak.
curl -s -o /dev/null -w 'other tenant reading the dossier: %{http_code}\n' \
  -H "Authorization: Bearer $VAULT_OTHER_TOKEN" "$VAULT_URL/v1/dossiers/$DOSSIER"

# 10. The public keys that sign receipts, for offline verification.
curl -s "$VAULT_URL/v1/keys" | jq '.keys[] | {keyId, algorithm, current}'
echo "files in $WORK"
# --- end of walkthrough ---
