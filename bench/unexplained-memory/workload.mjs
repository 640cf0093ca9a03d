// Records process.memoryUsage() and V8 heap statistics once a second under one workload, as JSON lines,
// for bench/unexplained-memory/replay.mjs:  node bench/unexplained-memory/workload.mjs <kind> <seconds> > <kind>.jsonl
// Kinds: idle, busy (an HTTP server under load from a worker thread), busy-gzip, buffer-churn (20 to
// 100 Buffers of 64 KiB to 2 MiB made and dropped every 2 s), buffer-small-churn (16 KiB Buffers),
// heap-grow-shrink (100k objects a second for 15 s, then dropped), native-warmup (200 zlib streams
// opened once at 8 s and kept), leak-zlib (10 zlib streams a second kept), leak-sqlite (node:sqlite
// in memory, 2 MiB a second; Node 22.13+).
// node workload.mjs <kind> <seconds> : prints one JSON line per second of memory figures
import http from 'node:http';
import zlib from 'node:zlib';
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
const [kind, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg ?? 60);
const keep = [];
let server;
const start = Date.now();
const t = () => (Date.now() - start) / 1000;
function serve(handler) {
  server = http.createServer(handler).listen(0, '127.0.0.1', () => {
    const base = `http://127.0.0.1:${server.address().port}`;
    new Worker(`const {workerData}=require('node:worker_threads');setInterval(()=>{for(let i=0;i<10;i++)fetch(workerData.base+'/x').then(r=>r.arrayBuffer(),()=>{})},20)`, { eval: true, workerData: { base } });
  });
}
if (kind === 'busy') serve((req, res) => { const o = []; for (let i = 0; i < 500; i++) o.push({ i, s: 'x'.repeat(i % 50) }); res.end(JSON.stringify(o).slice(0, 2000)); });
if (kind === 'busy-gzip') serve((req, res) => { const o = []; for (let i = 0; i < 500; i++) o.push({ i, s: 'x'.repeat(i % 50) }); zlib.gzip(JSON.stringify(o), (e, b) => res.end(b)); });
if (kind === 'idle') setInterval(() => {}, 1000);
if (kind === 'buffer-churn') setInterval(() => { const n = 20 + Math.floor(Math.random() * 80); const a = []; for (let i = 0; i < n; i++) a.push(Buffer.alloc((64 + Math.floor(Math.random() * 2000)) * 1024)); setTimeout(() => a.length = 0, 1500); }, 2000);
if (kind === 'buffer-small-churn') setInterval(() => { const a = []; for (let i = 0; i < 3000; i++) a.push(Buffer.alloc(16 * 1024 + (i % 7) * 100)); keep.push(a); if (keep.length > 3) keep.shift(); }, 1000);
if (kind === 'heap-grow-shrink') { let big = []; setInterval(() => { if (t() % 30 < 15) for (let i = 0; i < 100_000; i++) big.push({ i, s: 'y' + i }); else big = []; }, 1000); }
if (kind === 'native-warmup') { const s = []; setTimeout(() => { for (let i = 0; i < 200; i++) { const z = zlib.createDeflate(); z.write(Buffer.alloc(100)); s.push(z); } }, 8000); keep.push(s); }
if (kind === 'leak-zlib') setInterval(() => { for (let i = 0; i < 10; i++) { const z = zlib.createDeflate(); z.write(Buffer.alloc(100)); keep.push(z); } }, 1000);
if (kind === 'leak-sqlite') { const { DatabaseSync } = await import('node:sqlite'); const db = new DatabaseSync(':memory:'); db.exec('CREATE TABLE t (b BLOB)'); keep.push(db); setInterval(() => db.exec('INSERT INTO t VALUES (randomblob(2097152))'), 1000); }
const timer = setInterval(() => {
  const m = process.memoryUsage(); const h = getHeapStatistics();
  process.stdout.write(JSON.stringify({ t: t(), rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, ab: m.arrayBuffers, phys: h.total_physical_size, malloced: h.malloced_memory }) + '\n');
  if (t() > seconds) process.exit(0);
}, 1000);
