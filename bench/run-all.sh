#!/usr/bin/env bash
# npm run bench: every table of BENCHMARKS.md, on this machine, into bench/results/<UTC time>/.
# About 140 minutes on 2 cores: the detection part runs for about 70 minutes in light background
# processes (about a fifth of one core in all: a slow leak needs the hour-long window), the noise
# measurement for 15 minutes beside it, while the other parts run one after the other (about 140
# minutes, most of it CPU per request on a core of its own).
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

# CPU per request runs on one core of its own when taskset is there (the last one), so that the
# background parts above do not share it.
last_core=$(($(nproc) - 1))
pin() { if command -v taskset >/dev/null; then taskset -c "$last_core" "$@"; else "$@"; fi; }
parts=none,none-again,busy-1pct,pprof-512k-d64,sampler-512k-d64,sampler-gc-observer,monitor-idle,monitor,heapwatch-no-default-metrics,heapwatch,heapwatch-otel,pyroscope
grid=none,none-again,pprof-128k-d16,pprof-128k-d32,pprof-128k-d64,pprof-256k-d16,pprof-256k-d32,pprof-256k-d64,pprof-512k-d16,pprof-512k-d32,pprof-512k-d64
step "CPU per request, Node $(node --version): heapwatch's parts and its peers (30 min)"
pin node --expose-gc bench/cpu-per-request.mjs --rounds=50 --requests=5000 --route=/hello --configs=$parts --versus=pprof-512k-d64 >"$out/cpu-parts-hello-$(node --version).md"
pin node --expose-gc bench/cpu-per-request.mjs --rounds=40 --requests=1000 --route=/json --configs=$parts --versus=pprof-512k-d64 >"$out/cpu-parts-json-$(node --version).md"
step "CPU per request: sampling interval and stack depth (12 min)"
pin node --expose-gc bench/cpu-per-request.mjs --rounds=30 --requests=5000 --route=/hello --configs=$grid >"$out/cpu-grid-hello-$(node --version).md"
pin node --expose-gc bench/cpu-per-request.mjs --rounds=30 --requests=1000 --route=/json --configs=$grid >"$out/cpu-grid-json-$(node --version).md"
node bench/stack-depth.mjs >"$out/stack-depth-$(node --version).md"
for bin in "${other_nodes[@]}"; do
  step "CPU per request, Node $("$bin" --version) (7 min)"
  for route in hello json; do
    requests=$([[ $route == hello ]] && echo 5000 || echo 1000)
    pin "$bin" --expose-gc bench/cpu-per-request.mjs --rounds=40 --requests=$requests --route=/$route --configs=none,none-again,busy-1pct,pprof-512k-d64,heapwatch --versus=pprof-512k-d64 >"$out/cpu-peers-$route-$("$bin" --version).md"
  done
done
step "heapwatch's own work, per event"
pin node --expose-gc --max-semi-space-size=64 bench/own-work.mjs >"$out/own-work-$(node --version).md"
layers=pprof-512k-d64,layers-1-heapwatch,layers-33-heapwatch,pprof-512k-d64+layers-1-empty,pprof-512k-d64+layers-33-empty
for bin in node "${other_nodes[@]}"; do
  version=$("$bin" --version)
  step "heapwatch's share of the main thread (CPU profile) and one more Express layer, Node $version (14 min)"
  for route in hello json; do
    pin "$bin" --expose-gc bench/own-share.mjs --route=/$route --seconds=120 >"$out/own-share-heapwatch-$route-$version.md"
  done
  requests=$([[ $version == v24* ]] && echo 20000 || echo 5000)
  pin "$bin" --expose-gc bench/cpu-per-request.mjs --rounds=60 --requests=$requests --route=/hello --configs=$layers --reference=pprof-512k-d64 >"$out/cpu-layers-hello-$version.md"
done
step "tail latency with a 1 GB heap (15 min)"
pin node bench/tail-latency.mjs --rounds=3 --seconds=60 --cache-mb=1000 --aa=1 --out="$out" >/dev/null

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

step "the spread of the slow leaks' delays (a model of the sampling's chance, seconds)"
for flags in "--rate=10000 --holding-mb=0 --clean-every-s=10" "--rate=10000 --holding-mb=0 --clean-every-s=10 --sampling-kib=128" \
  "--rate=2000" "--rate=2000 --sampling-kib=128"; do
  # shellcheck disable=SC2086 # the flags are words
  node bench/detection-model.mjs $flags && echo
done >"$out/detection-model.md"

step "waiting for detection and the noise measurement"
wait "$noise"
wait "$detection"
step "done: $out"
cat "$out"/*.md
