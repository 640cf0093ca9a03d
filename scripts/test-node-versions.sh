#!/usr/bin/env bash
# Runs the compiled test suite (built by `npm test`) on other Node lines as well, with Node builds
# from the npm registry installed into .node-versions/ (scripts/install-node-versions.sh).
#   bash scripts/test-node-versions.sh [24 26]
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("${@:-24 26}")
read -r -a versions <<<"${versions[*]}"
mapfile -t bins < <(bash scripts/install-node-versions.sh "${versions[@]}")
for i in "${!versions[@]}"; do
  v=${versions[$i]}
  node_bin="${bins[$i]}/node"
  echo "== tests on Node $("$node_bin" --version)"
  log=".node-versions/test-node$v.tap"
  status=0
  "$node_bin" --test --test-concurrency=1 --test-reporter=tap .test-build/test/*.test.js .test-build/test/*/*.test.js >"$log" 2>&1 || status=$?
  grep -E '^# (tests|pass|fail)' "$log"
  if ((status != 0)); then
    grep -A30 '^not ok\|^    not ok' "$log"
    echo "tests failed on Node $v (full output in $log)"
    exit 1
  fi
done
