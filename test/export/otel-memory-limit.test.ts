import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { OtelInstrument } from '../../src/export/otel.js';
import { createMemoryCgroup } from '../cgroup.js';
import { repoRoot } from '../helpers.js';

const MiB = 1024 * 1024;
const LIMIT_BYTES = 700 * MiB;

test("under a real cgroup memory limit, heapwatch.memory.limit has one point, the limit, beside the process's memory no site explains", async (t) => {
  const cgroup = createMemoryCgroup(`heapwatch-otel-${process.pid}`, LIMIT_BYTES);
  if (typeof cgroup === 'string') return t.skip(cgroup);
  t.after(() => cgroup.remove());
  const { stdout } = await promisify(execFile)('sh', ['-c', `echo $$ > ${cgroup.procsFile} && exec "${process.execPath}" test/fixtures/otel-memory-limit.mjs`], { cwd: repoRoot });
  const { points, constrainedMemory } = JSON.parse(stdout) as { points: Record<string, number[]>; constrainedMemory: number };
  assert.deepEqual(points[OtelInstrument.memoryLimit], [LIMIT_BYTES], `cgroup v${cgroup.version}`);
  assert.equal(constrainedMemory, LIMIT_BYTES, 'as libuv reads it too (this cgroup has no soft limit)');
  // The process-level figures come with it, one point each, from the monitor's first reading.
  assert.equal(points[OtelInstrument.memoryUnexplained]?.length, 1);
  assert.ok((points[OtelInstrument.memoryUnexplained]?.[0] ?? -1) >= 0);
  assert.deepEqual(points[OtelInstrument.memoryUnexplainedGrowthSuspected], [0]);
});
