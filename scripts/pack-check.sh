#!/usr/bin/env bash
# The packed package, installed into an empty project, reproduces the first example of docs/concepts.md with
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
# The dashboards, rules and deploy files ship with the package: docs/dashboards-and-alerts.md
# copies them from node_modules/heapwatch/.
for file in dashboards/heapwatch-allocation-sites.json dashboards/nodejs-process-memory.json \
  deploy/prometheus/rules/heapwatch.rules.yml deploy/alertmanager/alertmanager.yml deploy/runbook.md \
  deploy/kubernetes/prometheusrule.yaml deploy/otel-collector/collector.yaml deploy/otel-collector/prometheus-scrape.yml \
  deploy/grafana/provisioning/dashboards/heapwatch.yml; do
  [[ -f node_modules/heapwatch/$file ]] || { echo "the package lacks $file"; exit 1; }
done

for reader in native inspector; do
  out=$(node --expose-gc examples/tracemalloc.mjs --reader=$reader)
  echo "$out" | head -3
  echo "$out" | grep -q "^\[ Top 5 differences, $reader reader \]$"
  echo "$out" | sed -n 2p | grep -Eq '^examples/tracemalloc\.mjs:(7|12): size=[0-9.]+ (KiB|MiB) \(\+[0-9.]+ (KiB|MiB)\), count=[0-9]+ \(\+[0-9]+\), average=[0-9]+ B$'
  echo "$out" | grep -q '^  getData (examples/tracemalloc.mjs:12:'
  echo "$out" | grep -q '^  run (examples/tracemalloc.mjs:18:'
done

# Where @datadog/pprof is not installed (or cannot load), 'auto' falls back to the inspector with a
# coded warning, and 'native' is refused with a coded error.
mkdir "$work/no-native" && cd "$work/no-native"
printf '{ "name": "consumer-without-native", "private": true, "type": "module" }\n' > package.json
npm install --no-audit --no-fund --omit=optional "$work/$tarball" >/dev/null
[[ ! -e node_modules/@datadog/pprof ]]
mkdir examples && cp "$root/examples/tracemalloc.mjs" examples/
node --expose-gc examples/tracemalloc.mjs >out.txt 2>err.txt
head -2 out.txt
grep -q '^\[ Top 5 differences, inspector reader \]$' out.txt
grep -q 'HEAPWATCH_W_NATIVE_UNAVAILABLE' err.txt
if node examples/tracemalloc.mjs --reader=native >/dev/null 2>err.txt; then echo "reader 'native' should have been refused"; exit 1; fi
grep -q "HEAPWATCH_ERR_NATIVE_UNAVAILABLE" err.txt
echo "without @datadog/pprof: falls back to the inspector, refuses 'native' with HEAPWATCH_ERR_NATIVE_UNAVAILABLE"
cd "$work/app"

# The quick start, as a user runs it: the one line in an Express app, its peer dependencies
# (prom-client, @opentelemetry/api) installed by npm with the package.
npm install --no-audit --no-fund express@5 @types/express@5 >/dev/null
[[ -e node_modules/prom-client && -e node_modules/@opentelemetry/api ]]
cat > quick-start.mjs <<'JS'
import express from 'express';
import { defaults, heapwatch } from 'heapwatch';
const app = express();
const watch = heapwatch({ logger: false });
app.use(watch);
const server = app.listen(0, '127.0.0.1', async () => {
  const page = await (await fetch(`http://127.0.0.1:${server.address().port}/metrics`)).text();
  watch.stop();
  server.close();
  if (!page.includes(`\nheapwatch_sampling_interval_bytes ${defaults.samplingIntervalBytes}\n`) || !/^process_cpu_user_seconds_total /m.test(page)) {
    console.error(page);
    process.exit(1);
  }
  console.log('quick start: /metrics serves heapwatch and Node metrics');
});
JS
node quick-start.mjs

# The heap page is a static asset of the package (page/), found from dist/ in the installed copy:
# a browser's Accept gets it whole, with its script inline and allowed by hash, and its data.
cat > heap-page.mjs <<'JS'
import express from 'express';
import { heapwatch } from 'heapwatch';
const app = express();
const watch = heapwatch({ logger: false, debug: true });
app.use(watch);
const server = app.listen(0, '127.0.0.1', async () => {
  const base = `http://127.0.0.1:${server.address().port}/debug/heap`;
  const response = await fetch(base, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
  const html = await response.text();
  const data = await (await fetch(`${base}?format=json`)).json();
  watch.stop();
  server.close();
  const policy = response.headers.get('content-security-policy') ?? '';
  if (response.status !== 200 || !html.includes('<script>') || !html.includes('<style>') || !/script-src 'sha256-/.test(policy) || !Array.isArray(data.sites) || !data.process) {
    console.error(response.status, policy, html.slice(0, 300));
    process.exit(1);
  }
  console.log(`heap page: ${Buffer.byteLength(html)} bytes, served from the installed package`);
});
JS
node heap-page.mjs

# The framework entry points load without their frameworks (types only); then, with each framework
# installed, the one line of docs/frameworks.md serves /metrics.
node --input-type=module -e "await import('heapwatch/fastify'); await import('heapwatch/koa'); await import('heapwatch/hono'); console.log('heapwatch/fastify, /koa and /hono import without their frameworks')"
npm install --no-audit --no-fund fastify@5 koa@3 hono@4 @hono/node-server >/dev/null
cat > frameworks.mjs <<'JS'
import { once } from 'node:events';
import Fastify from 'fastify';
import Koa from 'koa';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { heapwatch as fastifyPlugin } from 'heapwatch/fastify';
import { heapwatch as koaMiddleware } from 'heapwatch/koa';
import { heapwatch as honoMiddleware } from 'heapwatch/hono';
const check = async (name, port) => {
  const page = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  if (!/^# TYPE heapwatch_site_live_bytes gauge$/m.test(page)) throw new Error(`${name}: no heapwatch metrics on /metrics`);
  console.log(`${name}: /metrics serves heapwatch's metrics`);
};
const fastify = Fastify();
await fastify.register(fastifyPlugin, { logger: false });
await fastify.listen({ port: 0, host: '127.0.0.1' });
await check('fastify', fastify.server.address().port);
await fastify.close();
const koa = new Koa();
const watchKoa = koaMiddleware({ logger: false });
koa.use(watchKoa);
const koaServer = koa.listen(0, '127.0.0.1');
await once(koaServer, 'listening');
await check('koa', koaServer.address().port);
koaServer.close();
watchKoa.stop();
const hono = new Hono();
const watchHono = honoMiddleware({ logger: false });
hono.use(watchHono);
const honoServer = serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' });
await once(honoServer, 'listening');
await check('hono', honoServer.address().port);
honoServer.close();
watchHono.stop();
JS
node frameworks.mjs
# (Koa's app is left out: heapwatch/koa needs no Koa types, and @types/koa does not compile without
# skipLibCheck; test/frameworks/koa.test.ts checks app.use(heapwatch()) against them.)
cat > frameworks-consumer.ts <<'TS'
import Fastify from 'fastify';
import { Hono } from 'hono';
import { heapwatch as fastifyPlugin } from 'heapwatch/fastify';
import { heapwatch as koaMiddleware, type HeapwatchKoaMiddleware } from 'heapwatch/koa';
import { heapwatch as honoMiddleware } from 'heapwatch/hono';
const fastify = Fastify();
await fastify.register(fastifyPlugin, { intervalMs: 10_000, debug: false, prefix: '/internal' });
fastify.heapwatch.monitor.on('leak-suspected', (report) => console.log(report.site.functionName));
const koaWatch: HeapwatchKoaMiddleware = koaMiddleware({ metricsPath: '/metrics' });
koaWatch.monitor.on('leak-suspected', (report) => console.log(report.growthBytes));
new Hono().use(honoMiddleware());
TS
cat > consumer.ts <<'TS'
import { Filter, startSampling, takeSnapshot, type StatisticDiff } from 'heapwatch';
startSampling({ samplingIntervalBytes: 65536, reader: 'auto' });
const diffs: StatisticDiff[] = takeSnapshot().filterTraces([new Filter(false, '**/node_modules/**')]).compareTo(takeSnapshot(), 'site');
const sizes: number[] = diffs.map((diff) => diff.sizeDiff);
console.log(sizes.length >= 0);
TS
cat > express-consumer.ts <<'TS'
import express from 'express';
import { heapwatch, type HeapwatchMiddleware } from 'heapwatch';
const app = express();
const watch: HeapwatchMiddleware = heapwatch({ intervalMs: 10_000, metricsPath: '/metrics', debug: false });
app.use(watch);
watch.monitor.on('leak-suspected', (report) => console.log(report.site.functionName, report.growthBytes));
watch.stop();
TS
"$root/node_modules/.bin/tsc" --noEmit --strict --module nodenext --moduleResolution nodenext --target es2022 --types node --typeRoots "$root/node_modules/@types" consumer.ts
"$root/node_modules/.bin/tsc" --noEmit --strict --module nodenext --moduleResolution nodenext --target es2022 --types node --typeRoots "$root/node_modules/@types" express-consumer.ts
"$root/node_modules/.bin/tsc" --noEmit --strict --module nodenext --moduleResolution nodenext --target es2022 --types node --typeRoots "$root/node_modules/@types" frameworks-consumer.ts
echo "pack check passed ($work)"
