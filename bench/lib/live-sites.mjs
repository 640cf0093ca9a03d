// N distinct live allocation sites for V8's sampler. V8 records functions, not statements, so a
// site is a function: the module generated here declares N named functions, one per line, each
// building and returning its own small array of objects. Calling each once and keeping the result
// leaves N distinct live stacks (siteK ← retainSites ← …) in the sampling heap profile.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Objects each site keeps. On Node 20 x64 (no pointer compression) an object `{ k, site }` is
 * 40 bytes, so a site retains about 6–7 KB with its array: ~6 samples at a 1 KiB sampling
 * interval, and e^-6 ≈ 0.25 % of sites hold no sample at all.
 */
export const OBJECTS_PER_SITE = 128;

/**
 * Writes the module into a temporary directory, imports it and calls every site once. Returns the
 * retained arrays: keep a reference to them for as long as the sites must stay live. The file is
 * removed at exit, not before: heapwatch reads it once to look for a source map, as it would in
 * production.
 */
export async function retainSites(count) {
  const dir = mkdtempSync(join(tmpdir(), 'heapwatch-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const lines = [];
  for (let i = 0; i < count; i++) {
    lines.push(`function site${i}() { const a = []; for (let k = 0; k < ${OBJECTS_PER_SITE}; k++) a[k] = { k, site: ${i} }; return a; }`);
  }
  lines.push(`export const sites = [${Array.from({ length: count }, (_, i) => `site${i}`).join(',')}];`);
  const file = join(dir, 'sites.mjs');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const { sites } = await import(pathToFileURL(file).href);
  // The calls go through an array: each site is called once, from here, and never inlined.
  const retained = new Array(count);
  for (let i = 0; i < count; i++) retained[i] = sites[i]();
  return retained;
}

/** Nodes of a raw V8 allocation tree, and how many of them hold live samples (distinct live stacks). */
export function countLiveStacks(root) {
  let nodes = 0;
  let liveStacks = 0;
  const pending = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    nodes++;
    if (node.allocations.some((allocation) => allocation.count > 0)) liveStacks++;
    for (const child of node.children) pending.push(child);
  }
  return { nodes, liveStacks };
}
