import type { ServerResponse } from 'node:http';

/** Headers on every heapwatch response: never cached, never sniffed into something executable. */
const COMMON_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' } as const;

/** Ends `res` with `body`; does nothing when the response was already sent or the client left. */
export function send(res: ServerResponse, status: number, contentType: string, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** A plain-text answer, as Go's net/http/pprof gives for bad input: one line saying what was wrong. */
export function sendPlain(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  send(res, status, 'text/plain; charset=utf-8', `${message}\n`, headers);
}

/** A failure of heapwatch's own work: a 500 naming it, never an exception into the host. */
export function sendFailure(res: ServerResponse, what: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  sendPlain(res, 500, `heapwatch: ${what} failed: ${message}`);
}
