// N distinct allocation sites reached through deep recursion, for bench/hostile-load.mjs. Like
// bench/lib/live-sites.mjs, the generated module declares one named function per site (V8 records
// functions, so each is a site of its own); here every site is called at the bottom of a
// self-recursive `descend` chain `depth` frames deep, so that each stack is as deep as a
// recursive parser's or a tree walker's. heapwatch's sampler keeps the innermost 64 frames of a
// stack (stackDepth): deeper stacks are cut, which is the case to exercise.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Objects each site keeps per call: with its array about 2.3 KB on Node 20 x64, ~2 samples at a
 * 1 KiB sampling interval, so that ~90 % of the sites hold at least one live sample.
 */
export const OBJECTS_PER_SITE = 48;

/**
 * Writes and imports the module. Returns `call(i)`: runs site i at the bottom of `depth` frames of
 * recursion and returns what it allocated (keep it to keep the site live). The file is removed at
 * exit: heapwatch reads it once to look for a source map, as it would in production.
 */
export async function deepSites(count, depth) {
  const dir = mkdtempSync(join(tmpdir(), 'heapwatch-hostile-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const lines = [
    'export function descend(n, site) { return n <= 1 ? site() : descend(n - 1, site); }',
  ];
  for (let i = 0; i < count; i++) {
    lines.push(`function site${i}() { const a = []; for (let k = 0; k < ${OBJECTS_PER_SITE}; k++) a[k] = { k, site: ${i} }; return a; }`);
  }
  lines.push(`export const sites = [${Array.from({ length: count }, (_, i) => `site${i}`).join(',')}];`);
  const file = join(dir, 'deep-sites.mjs');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const { sites, descend } = await import(pathToFileURL(file).href);
  return { file, call: (i) => descend(depth, sites[i]) };
}
