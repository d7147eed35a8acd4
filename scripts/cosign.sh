#!/usr/bin/env bash
# Prints the path of the pinned cosign binary, building it first if this
# machine has none: `go install` from source, since the module proxy is the
# only download this environment allows. The tests run it on real receipts
# exactly as docs/receipt.md tells auditors to. The first build takes a few
# minutes; later runs reuse the binary.
set -euo pipefail
version=v3.1.3

if [[ -n "${COSIGN_BIN:-}" ]]; then
  [[ -x "$COSIGN_BIN" ]] || { echo "cosign.sh: COSIGN_BIN=$COSIGN_BIN is not executable" >&2; exit 1; }
  echo "$COSIGN_BIN"
  exit 0
fi

bin="$(go env GOPATH | cut -d: -f1)/bin/cosign"
if [[ -x "$bin" ]] && go version -m "$bin" 2>/dev/null | grep -q "github.com/sigstore/cosign/v3[[:space:]]*$version"; then
  echo "$bin"
  exit 0
fi
echo "cosign.sh: building cosign $version from source (first time only: a few minutes)..." >&2
GOFLAGS=-buildvcs=false go install "github.com/sigstore/cosign/v3/cmd/cosign@$version" >&2
echo "cosign.sh: installed $bin" >&2
echo "$bin"
