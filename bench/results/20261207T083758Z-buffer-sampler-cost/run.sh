#!/usr/bin/env bash
# The commands behind this directory (issue 22: the Buffer sampler's cost). Core 0 only: core 1
# held another benchmark; core 0 was shared with another engineer's builds and tests.
# NODE22 / NODE26: the Node binaries (bash bench/install-node.sh 22; .node-versions/node26).
# OLD: a checkout of 16eef72 (the sampler before this change) with its dist built, and the
# `heapwatch-buffer-sampling-512k` configuration added to its bench/cpu-per-request.mjs (bufferSampling: true).
set -euo pipefail
out=$(dirname "$0")
for v in 26 22; do
  node=NODE$v; node=${!node}
  configs=heapwatch-no-buffer-sampling,heapwatch-no-buffer-sampling-again,heapwatch-no-buffer-sampling+busy-0.5pct,heapwatch-buffer-sampling,heapwatch-buffer-sampling-512k
  taskset -c 0 $node --expose-gc bench/cpu-per-request.mjs --route=/buffers --rounds=30 --configs=$configs --reference=heapwatch-no-buffer-sampling >"$out/cpu-per-request-buffers-node$v-after.md"
  (cd "$OLD" && taskset -c 0 $node --expose-gc bench/cpu-per-request.mjs --route=/buffers --rounds=30 --configs=heapwatch-no-buffer-sampling,heapwatch-no-buffer-sampling-again,heapwatch-no-buffer-sampling+busy-0.5pct,heapwatch-buffer-sampling-512k --reference=heapwatch-no-buffer-sampling) >"$out/cpu-per-request-buffers-node$v-before.md"
done
# The Buffer sampler's parts (bench/buffer-sampler-parts.mjs: only its per-sample line is resolved; see BENCHMARKS.md), per call, capture by depth:
for v in 22 26; do
  node=NODE$v; node=${!node}
  taskset -c 0 $node bench/buffer-sampler-parts.mjs --mode=toggle --runs=10 --batches=20 --requests=1000 --configs=bare,bare-again,layer,countdown,sampler-4096k,sampler-512k,sampler-every >"$out/parts-node$v-after.md"
  taskset -c 0 $node bench/buffer-sampler-parts.mjs --mode=toggle --runs=10 --batches=20 --requests=1000 --dist="$OLD/dist" --configs=bare,bare-again,layer,countdown,sampler-512k,sampler-every >"$out/parts-node$v-before.md"
  taskset -c 0 $node bench/buffer-wrapper.mjs --rounds=200 >"$out/wrapper-node$v-after.md"
  (cd "$OLD" && taskset -c 0 $node bench/buffer-wrapper.mjs --rounds=200) >"$out/wrapper-node$v-before.md"
  taskset -c 0 $node bench/buffer-sampler-parts.mjs --mode=capture --runs=8 >"$out/capture-depth-node$v.md"
done
# Detection with the sampler on at its new defaults (4 MiB, 8 frames):
for v in 26 22; do
  node=NODE$v; node=${!node}
  taskset -c 0 $node bench/external-detection.mjs --leaks=4 --lookalikes=1 --parallel=4 --buffer-sampling=on >"$out/delay-node$v.md"
done
# In an Express route, CPU time (the *.txt files hold the second run; the first run's lines are in README.md):
for v in 22 26; do
  node=NODE$v; node=${!node}
  taskset -c 0 $node "$out/weakref-cost.mjs" >>"$out/weakref-cost-node$v.txt"
  taskset -c 0 $node "$out/capture-in-express.mjs" >"$out/capture-in-express-node$v.txt"
  taskset -c 0 $node --expose-gc "$out/sample-in-express.mjs" >"$out/sample-in-express-node$v.txt"
done
# A CPU profile of /buffers with the sampler at 512 KiB and off (Node 22), summarised:
for r in 512k:524288 off:0; do
  taskset -c 0 $NODE22 --cpu-prof --cpu-prof-dir="/tmp/prof-${r#*:}" "$out/profile-buffers.mjs" "${r#*:}"
  node bench/lib/cpu-profile.mjs /tmp/prof-${r#*:}/*.cpuprofile 25 >"$out/cpu-profile-node22-${r%%:*}.md"
done
# The socket look-alike alone, sampler on and off side by side, 240 s (leak-suspected records on stdout):
for v in 22 26; do
  node=NODE$v; node=${!node}
  for m in 1 0; do BUFFER_LEAK_BUFFER_SAMPLING=$m timeout 240 taskset -c 0 $node test/fixtures/buffer-leak.mjs socket >"/tmp/socket-$v-$m.out" 2>"/tmp/socket-$v-$m.err" & done; wait
done
# The sampler alone beside a running heapwatch (no monitor started per measurement), 40 rounds:
for v in 22 26; do
  node=NODE$v; node=${!node}
  taskset -c 0 $node --expose-gc bench/cpu-per-request.mjs --route=/buffers --rounds=40 --configs=heapwatch-no-buffer-sampling,heapwatch-no-buffer-sampling-again,heapwatch-no-buffer-sampling+busy-0.5pct,heapwatch-no-buffer-sampling+buffer-sampler-4096k,heapwatch-no-buffer-sampling+buffer-sampler-512k --reference=heapwatch-no-buffer-sampling >"$out/cpu-per-request-buffers-node$v-sampler-alone.md"
done
# What swapping the factories costs by itself (the thinnest wrapper; heapwatch's with nothing behind it), Node 22:
taskset -c 0 $NODE22 --expose-gc bench/cpu-per-request.mjs --route=/buffers --rounds=40 --configs=heapwatch-no-buffer-sampling,heapwatch-no-buffer-sampling-again,heapwatch-no-buffer-sampling+buffer-wrappers-bare,heapwatch-no-buffer-sampling+buffer-wrappers-noop,heapwatch-no-buffer-sampling+buffer-sampler-4096k --reference=heapwatch-no-buffer-sampling >"$out/cpu-per-request-buffers-node22-wrappers.md"
# The same after the wrappers lost their `arguments` / `new.target` paths (fixed arity):
taskset -c 0 $NODE22 --expose-gc bench/cpu-per-request.mjs --route=/buffers --rounds=40 --configs=heapwatch-no-buffer-sampling,heapwatch-no-buffer-sampling-again,heapwatch-no-buffer-sampling+busy-0.5pct,heapwatch-no-buffer-sampling+buffer-wrappers-noop,heapwatch-no-buffer-sampling+buffer-sampler-4096k --reference=heapwatch-no-buffer-sampling >"$out/cpu-per-request-buffers-node22-fixed-arity.md"
