#!/usr/bin/env bash
# Installs Node 22 and 24 for the benchmarks into bench/.node (not globally), from the npm
# registry's node-linux-<arch> packages (prebuilt binaries, no install script), and prints the
# path of each binary, one per line.
#   bash bench/install-node.sh [22 24]
set -euo pipefail
cd "$(dirname "$0")"
versions=("${@:-22 24}")
[[ $# -eq 0 ]] && versions=(22 24)
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) echo "unsupported arch $(uname -m)" >&2; exit 1 ;; esac
specs=()
for v in "${versions[@]}"; do specs+=("node$v@npm:node-linux-$arch@$v"); done
npm install --prefix .node --no-audit --no-fund --no-save "${specs[@]}" >/dev/null 2>&1
for v in "${versions[@]}"; do echo "$PWD/.node/node_modules/node$v/bin/node"; done
