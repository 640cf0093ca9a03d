#!/usr/bin/env bash
# Runs the compiled test suite (built by `npm test`) on Node 22 and 24 as well. Those Node builds
# come from the npm registry's node-linux-<arch> packages, installed into .node-versions/, not
# globally.   bash scripts/test-node-versions.sh [22 24]
set -euo pipefail
versions=("${@:-22 24}")
read -r -a versions <<<"${versions[*]}"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "no Node package for $(uname -m); skipping other Node versions"; exit 0 ;;
esac
dir=.node-versions
mkdir -p "$dir"
[[ -f $dir/package.json ]] || printf '{ "private": true }\n' >"$dir/package.json"
specs=()
for v in "${versions[@]}"; do specs+=("node$v@npm:node-linux-$arch@$v"); done
npm install --prefix "$dir" --no-audit --no-fund --no-save "${specs[@]}" >/dev/null
for v in "${versions[@]}"; do
  node_bin="$dir/node_modules/node$v/bin/node"
  echo "== tests on Node $("$node_bin" --version)"
  log="$dir/test-node$v.tap"
  status=0
  "$node_bin" --test --test-concurrency=1 --test-reporter=tap .test-build/test/*.test.js .test-build/test/*/*.test.js >"$log" 2>&1 || status=$?
  grep -E '^# (tests|pass|fail)' "$log"
  if ((status != 0)); then
    grep -A30 '^not ok\|^    not ok' "$log"
    echo "tests failed on Node $v (full output in $log)"
    exit 1
  fi
done
