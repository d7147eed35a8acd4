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
# pkijs is published as modules that import others by package name: one
# bundled module is what the page can load without an import map.
node_modules/.bin/esbuild bundle/pkijs.js --bundle --minify --format=esm --legal-comments=none --log-level=warning --outfile="$vendor/pkijs.js"
for p in pkijs asn1js bytestreamjs @peculiar/utils @noble/hashes; do
  cp "node_modules/$p/LICENSE"* "$vendor/$(basename "$p").LICENSE"
done
cp package-lock.json "$vendor/.lock"
