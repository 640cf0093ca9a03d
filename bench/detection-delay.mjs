// How long a leak of a given rate runs before heapwatch suspects it, under request-like churn.
//   node bench/detection-delay.mjs <leakBytesPerSecond> [maxSeconds=1800] [options as JSON]
// Prints one JSON line: the rate, the options, seconds to the first suspicion (null if none),
// the suspected site, and the monitor's counters.
import { createHeapMonitor } from 'heapwatch';

const rate = Number(process.argv[2]);
const maxSeconds = Number(process.argv[3] ?? 1800);
const options = JSON.parse(process.argv[4] ?? '{}');
const STEP_MS = 10;
const ENTRY_BYTES = 1000;

const leaked = [];
function leakyHandler(i) {
  leaked.push({ i, body: `${i}`.padEnd(ENTRY_BYTES - 40, 'L') });
}
function churn(i) {
  const rows = [];
  for (let k = 0; k < 50; k++) rows.push({ k, name: `row-${k}-${i}` });
  return JSON.stringify(rows).length;
}

const monitor = createHeapMonitor({ ...options, logger: false });
const started = Date.now();
let result;
monitor.on('leak-suspected', (report) => {
  result ??= { seconds: (Date.now() - started) / 1000, site: `${report.site.functionName}:${report.site.line}` };
});
monitor.start();
let step = 0;
let owed = 0;
const timer = setInterval(() => {
  churn(step);
  owed += (rate * STEP_MS) / 1000 / ENTRY_BYTES;
  for (; owed >= 1; owed--) leakyHandler(step);
  step++;
  if (result || Date.now() - started > maxSeconds * 1000) {
    clearInterval(timer);
    const stats = monitor.stats();
    monitor.stop();
    console.log(JSON.stringify({ rateBytesPerSecond: rate, options, ...(result ?? { seconds: null }), leakedBytes: leaked.length * ENTRY_BYTES, stats }));
  }
}, STEP_MS);
