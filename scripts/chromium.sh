#!/usr/bin/env bash
# Prints the path of the Chromium the browser tests drive, installing
# Debian's chromium package first if this machine has none: nothing may
# download a browser build, and Debian's is the one this environment gets.
set -euo pipefail

if [[ -n "${CHROMIUM_BIN:-}" ]]; then
  [[ -x "$CHROMIUM_BIN" ]] || { echo "chromium.sh: CHROMIUM_BIN=$CHROMIUM_BIN is not executable" >&2; exit 1; }
  echo "$CHROMIUM_BIN"
  exit 0
fi
for bin in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [[ -x "$bin" ]]; then
    echo "$bin"
    exit 0
  fi
done
sudo=""
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || { echo "chromium.sh: Chromium is missing; install Debian's package: apt-get install chromium" >&2; exit 1; }
  sudo="sudo"
fi
echo "chromium.sh: installing Debian's chromium package (first time only)..." >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2 || true
$sudo apt-get install -y -qq --no-install-recommends chromium >&2
echo /usr/bin/chromium
