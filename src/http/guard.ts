import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Why a debug request is refused: the status and a plain message. */
export interface Refusal {
  readonly status: 401 | 403;
  readonly message: string;
  readonly headers: Record<string, string>;
}

/** Headers by which reverse proxies name the client they forward for (nginx's X-Real-IP among them). */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'via'] as const;

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
 * reverse proxy on the same host every client would otherwise look like loopback. A proxy that
 * adds none of the proxy headers defeats this check: behind a proxy, set a token.
 */
export function refuseDebugRequest(req: IncomingMessage, token: string | undefined): Refusal | undefined {
  if (token !== undefined) {
    // The scheme is case-insensitive (RFC 9110 §11.1).
    const presented = /^bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (presented !== '' && timingSafeEqual(digest(presented), digest(token))) return undefined;
    return {
      status: 401,
      message: 'heapwatch: the debug endpoints need "Authorization: Bearer <debugToken>"',
      headers: { 'WWW-Authenticate': 'Bearer realm="heapwatch"' },
    };
  }
  const proxied = PROXY_HEADERS.some((name) => req.headers[name] !== undefined);
  if (isLoopback(req.socket.remoteAddress) && !proxied) return undefined;
  return {
    status: 403,
    message: 'heapwatch: without a debugToken the debug endpoints serve loopback clients only, not through a proxy',
    headers: {},
  };
}
