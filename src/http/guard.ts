import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Why a debug request is refused: the status and a plain message. */
export interface Refusal {
  readonly status: 401 | 403;
  readonly message: string;
  readonly headers: Record<string, string>;
}

function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * The debug endpoints show function names and source paths, so they are guarded. With a token,
 * any client presenting `Authorization: Bearer <token>` is served (compared in constant time).
 * Without one, only loopback clients are, and only when the request names no proxy: behind a
 * reverse proxy on the same host every client would otherwise look like loopback.
 */
export function refuseDebugRequest(req: IncomingMessage, token: string | undefined): Refusal | undefined {
  if (token !== undefined) {
    const header = req.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (presented !== '' && timingSafeEqual(digest(presented), digest(token))) return undefined;
    return {
      status: 401,
      message: 'heapwatch: the debug endpoints need "Authorization: Bearer <debugToken>"',
      headers: { 'WWW-Authenticate': 'Bearer realm="heapwatch"' },
    };
  }
  const proxied = req.headers.forwarded !== undefined || req.headers['x-forwarded-for'] !== undefined;
  if (isLoopback(req.socket.remoteAddress) && !proxied) return undefined;
  return {
    status: 403,
    message: 'heapwatch: without a debugToken the debug endpoints serve loopback clients only, not through a proxy',
    headers: {},
  };
}
