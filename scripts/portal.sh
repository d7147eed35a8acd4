#!/usr/bin/env bash
# Installs the portal's browser dependencies with npm ci (the versions
# package-lock.json pins, checked against its integrity hashes) and copies
# what the page loads into internal/portal/static/vendor/, which the Go
# binary embeds. Idempotent: does nothing when the copy is current.
set -euo pipefail
cd "$(dirname "$0")/../internal/portal"
vendor=static/vendor
if [[ -f "$vendor/.lock" ]] && cmp -s package-lock.json "$vendor/.lock"; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error >&2
rm -rf "$vendor"
mkdir -p "$vendor"
cp node_modules/hash-wasm/dist/sha256.umd.min.js "$vendor/"
cp node_modules/hash-wasm/LICENSE "$vendor/hash-wasm.LICENSE"
cp node_modules/client-zip/index.js "$vendor/client-zip.js"
cp node_modules/client-zip/LICENSE.txt "$vendor/client-zip.LICENSE"
cp package-lock.json "$vendor/.lock"
