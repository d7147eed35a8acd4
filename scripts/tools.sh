#!/usr/bin/env bash
# Makes sure the command-line tools the tests drive are present: curl (the
# presigned URLs are tested with a real HTTP client) and jq (the make run
# walkthrough uses it). A fresh Debian machine may lack them; apt has them.
set -euo pipefail
missing=()
for tool in curl jq; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "tools.sh: installing ${missing[*]} with apt-get" >&2
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq "${missing[@]}" >&2
