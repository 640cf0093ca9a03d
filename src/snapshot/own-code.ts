import { fileURLToPath } from 'node:url';

// This file sits one folder below heapwatch's compiled root (dist/ when installed).
const ownRootUrl = new URL('../', import.meta.url).href;
const ownRootPath = fileURLToPath(ownRootUrl);

// The middleware of Express, Koa and Hono calls `next()`, so the application's whole request
// handling runs below its frame: it hands control back to the application and must not hide what
// runs under it. (Fastify's plugin adds routes of its own and is never below the application's.)
const passThroughUrls = ['../express/middleware.js', '../frameworks/koa.js', '../frameworks/hono.js'].map((path) => new URL(path, import.meta.url));
const passThrough = new Set(passThroughUrls.flatMap((url) => [url.href, fileURLToPath(url)]));

/**
 * Whether a script is heapwatch's own. Allocations made under heapwatch's frames — the profile it
 * reads, the snapshots it keeps, the pages it serves — are heapwatch's overhead, not the
 * application's, and are left out of snapshots, as tracemalloc leaves out its own bookkeeping.
 * The middleware is the exception: what runs under it is the application.
 */
export function isOwnScript(scriptName: string): boolean {
  if (passThrough.has(scriptName)) return false;
  return scriptName.startsWith(ownRootUrl) || scriptName.startsWith(ownRootPath);
}
