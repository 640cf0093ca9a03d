import type { IncomingMessage, ServerResponse } from 'node:http';

/** What heapwatch's handlers write on, captured, and the Web `Response` it becomes once they end it. */
export interface CapturedResponse {
  /** Stands in for Node's response under heapwatch's handlers. */
  readonly res: ServerResponse;
  /** Settles with the answer when a handler ends it, or with an empty 503 when the client leaves first. */
  readonly response: Promise<Response>;
}

/**
 * For frameworks that send a `Response` themselves (Hono): heapwatch's handlers write on this
 * stand-in, and the framework sends the `Response` it turns into, with its own HEAD handling and
 * its middleware after heapwatch. The stand-in has what the handlers use (respond.ts,
 * heap-handler.ts) — `writeHead`, `end`, `headersSent`, `destroyed`, `req`, `once` — and the last
 * three are the real response's, so HEAD drops the body and a client that leaves a `?seconds=`
 * request still frees its slot.
 */
export function captureResponse(req: IncomingMessage, real: ServerResponse): CapturedResponse {
  let settle!: (response: Response) => void;
  const response = new Promise<Response>((resolve) => (settle = resolve));
  let status = 200;
  const headers: Record<string, string> = {};
  const stand = {
    req,
    headersSent: false,
    get destroyed(): boolean {
      return real.destroyed;
    },
    writeHead(code: number, given: Record<string, string | number> = {}) {
      status = code;
      for (const [name, value] of Object.entries(given)) headers[name] = String(value);
      stand.headersSent = true;
      return stand;
    },
    end(body?: string | Uint8Array) {
      settle(new Response(body ?? null, { status, headers }));
      return stand;
    },
    once(event: string, listener: () => void) {
      real.once(event, listener);
      return stand;
    },
  };
  // After the answer this settles nothing: a promise settles once.
  real.once('close', () => settle(new Response(null, { status: 503 })));
  return { res: stand as unknown as ServerResponse, response };
}
