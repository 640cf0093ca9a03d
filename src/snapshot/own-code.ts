import { fileURLToPath } from 'node:url';

// This file sits one folder below heapwatch's compiled root (dist/ when installed).
const ownRootUrl = new URL('../', import.meta.url).href;
const ownRootPath = fileURLToPath(ownRootUrl);

/**
 * Whether a script is heapwatch's own. Allocations made under heapwatch's frames — the profile it
 * reads, the snapshots it keeps — are heapwatch's overhead, not the application's, and are left
 * out of snapshots, as tracemalloc leaves out its own bookkeeping.
 */
export function isOwnScript(scriptName: string): boolean {
  return scriptName.startsWith(ownRootUrl) || scriptName.startsWith(ownRootPath);
}
