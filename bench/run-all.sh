#!/usr/bin/env bash
# npm run bench: every table of BENCHMARKS.md, on this machine, into bench/results/<UTC time>/.
# About 70 minutes on 2 cores: the detection part runs for about 70 minutes in light background
# processes (about a fifth of one core in all: a slow leak needs the hour-long window), the noise
# measurement for 15 minutes beside it, while the other parts run one after the other (about 28
# minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
out="bench/results/$(date -u +%Y-%m-%dT%H%MZ)"
mkdir -p "$out"
mapfile -t other_nodes < <(bash bench/install-node.sh 22 24)
step() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

step "detection (70 min, in the background)"
node bench/detection.mjs >"$out/detection.md" 2>"$out/detection.log" &
detection=$!
step "noise of growth (15 min, in the background)"
node --expose-gc bench/growth-noise.mjs >"$out/growth-noise-512k.md" 2>"$out/growth-noise-512k.log" &
noise=$!

step "request overhead, Node $(node --version): heapwatch and its peers"
node bench/request-overhead.mjs --configs=none,heapwatch,heapwatch-32k,heapwatch-512k,prom-client,datadog-pprof,pyroscope >"$out/overhead-$(node --version).md"
for bin in "${other_nodes[@]}"; do
  step "request overhead, Node $("$bin" --version)"
  node bench/request-overhead.mjs --configs=none,heapwatch --node="$bin" >"$out/overhead-$("$bin" --version).md"
done

step "snapshot pause, Node $(node --version)"
node bench/snapshot-pause.mjs >"$out/pause-$(node --version).md"
for bin in "${other_nodes[@]}"; do
  step "snapshot pause, Node $("$bin" --version)"
  "$bin" bench/snapshot-pause.mjs --sizes=100,1000,10000 >"$out/pause-$("$bin" --version).md"
done

step "own memory"
node bench/own-memory.mjs --sizes=1000,10000 --caps=2000,100000 >"$out/own-memory.md"
node bench/own-memory.mjs --sizes=100000 --caps=2000 >>"$out/own-memory.md"

step "Python's tracemalloc beside heapwatch"
node bench/tracemalloc-compare.mjs >"$out/tracemalloc.md"

step "waiting for detection and the noise measurement"
wait "$noise"
wait "$detection"
step "done: $out"
cat "$out"/*.md
