#!/usr/bin/env bash
# Instructions per request, counted by callgrind (repeatable where wall-clock ratios are noisy on
# a shared machine): the app of bench/servers/express-app.mjs under valgrind, driven by autocannon
# (not under valgrind) with 3000 and then 9000 requests to /hello; the difference over 6000
# requests leaves start-up out. One line per configuration.
#   bash bench/instructions-per-request.sh none sampler-only heapwatch-hourly heapwatch
# About 2 minutes per configuration (valgrind runs the app ~50 times slower).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/heapwatch-callgrind.XXXXXX)
count() { # config requests -> instructions of the whole run
  local out="$work/$1-$2"
  valgrind --tool=callgrind --callgrind-out-file="$out.out" node bench/servers/express-app.mjs "$1" >"$out.port" 2>"$out.err" &
  local pid=$!
  for _ in $(seq 1 120); do grep -q port= "$out.port" 2>/dev/null && break; sleep 1; done
  local port; port=$(grep -o '[0-9]*' "$out.port" | head -1)
  node -e "require('autocannon')({ url: 'http://127.0.0.1:$port/hello', connections: 10, amount: $2, timeout: 60 }, (e, r) => { if (e || r.non2xx) process.exit(1) })"
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  sed -n 's/^summary: //p' "$out.out"
}
echo "| configuration | instructions per /hello request |"
echo "|---|---|"
for config in "$@"; do
  small=$(count "$config" 3000)
  large=$(count "$config" 9000)
  echo "| $config | $(( (large - small) / 6000 )) |"
done
rm -rf "$work"
