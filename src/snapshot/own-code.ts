import { fileURLToPath } from 'node:url';

// This file sits one folder below heapwatch's compiled root (dist/ when installed).
const ownRootUrl = new URL('../', import.meta.url).href;
const ownRootPath = fileURLToPath(ownRootUrl);

// The Express middleware calls `next()`, so the application's whole request handling runs below
// its frame: it hands control back to the application and must not hide what runs under it.
const middlewareUrl = new URL('../express/middleware.js', import.meta.url).href;
const middlewarePath = fileURLToPath(middlewareUrl);

/**
 * Whether a script is heapwatch's own. Allocations made under heapwatch's frames — the profile it
 * reads, the snapshots it keeps, the pages it serves — are heapwatch's overhead, not the
 * application's, and are left out of snapshots, as tracemalloc leaves out its own bookkeeping.
 * The middleware is the exception: what runs under it is the application.
 */
export function isOwnScript(scriptName: string): boolean {
  if (scriptName === middlewareUrl || scriptName === middlewarePath) return false;
  return scriptName.startsWith(ownRootUrl) || scriptName.startsWith(ownRootPath);
}
