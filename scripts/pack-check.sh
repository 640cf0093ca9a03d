#!/usr/bin/env bash
# The packed package, installed into an empty project, reproduces the README's first example with
# each reader, and its type declarations compile in a TypeScript consumer.
#   bash scripts/pack-check.sh        (from the repository root, after npm ci)
set -euo pipefail
root=$(pwd)
work=$(mktemp -d /tmp/heapwatch-pack.XXXXXX)
tarball=$(npm pack --silent --pack-destination "$work" | tail -1)
echo "packed $tarball; installing into an empty project in $work/app"
mkdir "$work/app" && cd "$work/app"
printf '{ "name": "consumer", "private": true, "type": "module" }\n' > package.json
npm install --no-audit --no-fund "$work/$tarball" >/dev/null
mkdir examples && cp "$root/examples/tracemalloc.mjs" examples/

for reader in native inspector; do
  out=$(node --expose-gc examples/tracemalloc.mjs --reader=$reader)
  echo "$out" | head -3
  echo "$out" | grep -q "^\[ Top 5 differences, $reader reader \]$"
  echo "$out" | sed -n 2p | grep -Eq '^examples/tracemalloc\.mjs:(7|12): size=[0-9.]+ (KiB|MiB) \(\+[0-9.]+ (KiB|MiB)\), count=[0-9]+ \(\+[0-9]+\), average=[0-9]+ B$'
  echo "$out" | grep -q '^  getData (examples/tracemalloc.mjs:12:'
  echo "$out" | grep -q '^  run (examples/tracemalloc.mjs:18:'
done

cat > consumer.ts <<'TS'
import { Filter, startSampling, takeSnapshot, type StatisticDiff } from 'heapwatch';
startSampling({ samplingIntervalBytes: 65536, reader: 'auto' });
const diffs: StatisticDiff[] = takeSnapshot().filterTraces([new Filter(false, '**/node_modules/**')]).compareTo(takeSnapshot(), 'site');
const sizes: number[] = diffs.map((diff) => diff.sizeDiff);
console.log(sizes.length >= 0);
TS
"$root/node_modules/.bin/tsc" --noEmit --strict --module nodenext --moduleResolution nodenext --target es2022 --types node --typeRoots "$root/node_modules/@types" consumer.ts
echo "pack check passed ($work)"
