#!/usr/bin/env bash
# Prints the path of the pinned MinIO server binary, building it first if
# this machine has none: `go install` from source, since the module proxy is
# the only download this environment allows. The first build takes about
# five minutes; later runs reuse the binary.
set -euo pipefail
version=v0.0.0-20260212201848-7aac2a2c5b7c

if [[ -n "${MINIO_BIN:-}" ]]; then
  [[ -x "$MINIO_BIN" ]] || { echo "minio.sh: MINIO_BIN=$MINIO_BIN is not executable" >&2; exit 1; }
  echo "$MINIO_BIN"
  exit 0
fi

bin="$(go env GOPATH | cut -d: -f1)/bin/minio"
if [[ -x "$bin" ]] && go version -m "$bin" 2>/dev/null | grep -q "github.com/minio/minio[[:space:]]*$version"; then
  echo "$bin"
  exit 0
fi
echo "minio.sh: building MinIO $version from source (first time only: about 5 minutes)..." >&2
GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$version" >&2
echo "minio.sh: installed $bin" >&2
echo "$bin"
