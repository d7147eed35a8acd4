#!/usr/bin/env bash
# Runs in the compose file's deploy container: installs the CDK app's
# packages and cdklocal, bootstraps LocalStack and deploys infra/ exactly
# as make deploy does against AWS.
set -euo pipefail
cd /vault
[[ -f build/api/bootstrap && -f build/seal/bootstrap ]] || { echo "deploy: run make build on the host first" >&2; exit 1; }
cd infra
npm ci --no-audit --no-fund --loglevel=error
npm install --no-save --no-audit --no-fund --loglevel=error aws-cdk-local@3.0.4
npm run build --silent
npx cdklocal bootstrap "aws://${CDK_DEFAULT_ACCOUNT}/${CDK_DEFAULT_REGION}"
npx cdklocal deploy --require-approval never \
  --parameters JwtIssuer="$JWT_ISSUER" --parameters JwtAudience="$JWT_AUDIENCE" \
  --outputs-file /vault/localstack/outputs.json
echo "deploy: done; outputs in localstack/outputs.json"
