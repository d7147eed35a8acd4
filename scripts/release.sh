#!/usr/bin/env bash
# Cross-builds evault for Linux, macOS and Windows on amd64 and arm64 into
# DIR (dist by default), with a SHA256SUMS file, so that an auditor can run
# the CLI without Go. Static binaries (CGO off), reproducible paths
# (-trimpath), the version and commit stamped in (evault --version).
#
#   scripts/release.sh [DIR]      VERSION=v1.2.0 to name the release
#   TARGETS="linux/amd64 ..."     to build fewer (the tests do)
set -euo pipefail
out=${1:-dist}
[[ $out = /* ]] || out=$PWD/$out
cd "$(dirname "$0")/.."
# The directory is emptied of earlier releases only: anything else in it
# stops the script rather than being deleted.
if [[ -d $out ]] && find "$out" -mindepth 1 ! -name 'evault-*' ! -name SHA256SUMS | grep -q .; then
  echo "release: $out holds files other than a release's; give an empty or new directory" >&2
  exit 2
fi
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
targets=${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}
mkdir -p "$out"
rm -f "$out"/evault-* "$out/SHA256SUMS"
for target in $targets; do
  os=${target%/*} arch=${target#*/} ext=
  [[ $os == windows ]] && ext=.exe
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
    -ldflags "-s -w -X 'main.version=$version (commit $commit)'" \
    -o "$out/evault-$version-$os-$arch$ext" ./cmd/evault
done
(cd "$out" && sha256sum evault-* > SHA256SUMS && sha256sum --check --quiet SHA256SUMS)
echo "$out: $(ls "$out" | grep -c '^evault-') binaries, SHA256SUMS" >&2
