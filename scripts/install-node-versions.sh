#!/usr/bin/env bash
# Installs Node builds from the npm registry's node-linux-<arch> packages into .node-versions/
# (not globally) and prints the bin directory of each, one per line, in the order asked.
#   bash scripts/install-node-versions.sh 22 24 26
set -euo pipefail
cd "$(dirname "$0")/.."
(($# > 0)) || { echo "usage: $0 <major>..." >&2; exit 2; }
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "no Node package for $(uname -m)" >&2; exit 1 ;;
esac
dir=.node-versions
mkdir -p "$dir"
[[ -f $dir/package.json ]] || printf '{ "private": true }\n' >"$dir/package.json"
specs=()
for v in "$@"; do specs+=("node$v@npm:node-linux-$arch@$v"); done
npm install --prefix "$dir" --no-audit --no-fund --no-save "${specs[@]}" >/dev/null
for v in "$@"; do echo "$PWD/$dir/node_modules/node$v/bin"; done
