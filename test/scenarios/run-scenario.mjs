// Runs one scenario with a real monitor and prints what it concluded as JSON:
//   node test/scenarios/run-scenario.mjs "<scenario name>" <durationMs> [reader]
// With HEAPWATCH_SCENARIO_ALLOCATIONS=1 in the environment (Node 26; bench/scenario-rounds.mjs
// --allocations=on sets it, tests leave it unset), the monitor runs in allocation mode.
import { Writable } from 'node:stream';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { pino } from 'pino';
import { createHeapMonitor } from 'heapwatch';
import { scenarios, STEP_MS } from './scenarios.mjs';

const [name, durationArg = '14000', reader = 'native'] = process.argv.slice(2);
const scenario = scenarios[name];
if (!scenario) throw new Error(`no scenario "${name}"`);

const allocationMode = process.env.HEAPWATCH_SCENARIO_ALLOCATIONS;
if (allocationMode !== undefined && allocationMode !== '1') throw new Error(`Invalid HEAPWATCH_SCENARIO_ALLOCATIONS="${allocationMode}" - expected "1" or unset`);

const records = [];
const stream = new Writable({ write(chunk, _encoding, done) { records.push(JSON.parse(chunk)); done(); } });
const monitor = createHeapMonitor({
  intervalMs: 200,
  windowMs: 4000,
  growthThresholdBytes: 2 * 1024 * 1024,
  samplingIntervalBytes: 32 * 1024,
  reader,
  ...(allocationMode === undefined ? {} : { allocations: true }),
  logger: pino(stream),
});
const started = Date.now();
let majorGcs = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++; }).observe({ entryTypes: ['gc'] });
const events = [];
monitor.on('leak-suspected', (report) => events.push({ event: 'suspected', atMs: Date.now() - started, function: report.site.functionName, file: report.site.file, line: report.site.line }));
monitor.on('leak-cleared', (report) => events.push({ event: 'cleared', atMs: Date.now() - started, function: report.site.functionName }));
monitor.start();

const driver = scenario.start();
let i = 0;
// One call site for several functions is megamorphic: TurboFan does not inline the scenario's
// route into this timer callback, whatever the V8 version, so the route stays a frame of its own.
const noop1 = () => {};
const noop2 = () => {};
const noop3 = () => {};
const noop4 = () => {};
const calls = [noop1, noop2, driver, noop3, noop4];
const timer = setInterval(() => {
  for (const call of calls) call(i);
  i++;
}, STEP_MS);
setTimeout(() => {
  clearInterval(timer);
  scenario.stop?.();
  const stats = monitor.stats();
  monitor.stop();
  console.log(JSON.stringify({ name, events, records: records.filter((r) => r.heapwatch), stats: { ...stats, majorGcs }, steps: i }));
}, Number(durationArg));
