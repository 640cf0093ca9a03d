// The heap page: a static asset of the package (page/heap.html, heap.css, heap.js), sent as one
// self-contained document. It holds no data: the script fetches `?format=json` from the same
// path, under the same guard.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { send, sendFailure } from './respond.js';

interface Page {
  readonly body: string;
  readonly headers: Record<string, string>;
}

const STYLE_LINK = '<link rel="stylesheet" href="heap.css">';
const SCRIPT_TAG = '<script src="heap.js"></script>';

/**
 * The page's folder: `page/` beside heapwatch's package.json, found through the package's own
 * name (a self-reference), so that it is the same from `dist/` in an installed package and from
 * the test build in the repository.
 */
function pageDirectory(): string {
  return join(dirname(createRequire(import.meta.url).resolve('heapwatch/package.json')), 'page');
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * Inlines the style sheet and the script into the HTML and allows exactly those two by hash: no
 * other script, style, font, frame or connection than to this origin. Trusted Types are required,
 * so that no string can ever become markup (the script builds the page with DOM calls).
 */
export function buildPage(directory: string): Page {
  const html = readFileSync(join(directory, 'heap.html'), 'utf8');
  const css = readFileSync(join(directory, 'heap.css'), 'utf8');
  const js = readFileSync(join(directory, 'heap.js'), 'utf8');
  if (!html.includes(STYLE_LINK) || !html.includes(SCRIPT_TAG)) throw new Error(`${directory}/heap.html lacks ${STYLE_LINK} or ${SCRIPT_TAG}`);
  const body = html.replace(STYLE_LINK, () => `<style>${css}</style>`).replace(SCRIPT_TAG, () => `<script>${js}</script>`);
  const policy = [
    "default-src 'none'",
    `script-src ${sha256(js)}`,
    `style-src ${sha256(css)}`,
    "img-src data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    'trusted-types',
  ].join('; ');
  return { body, headers: { 'Content-Security-Policy': policy, 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' } };
}

/** Read once, on first request: the files do not change while the process runs. */
let page: Page | undefined;

/** Serves the heap page (GET and HEAD); a missing asset is a 500 naming it, never a throw. */
export function serveHeapPage(res: ServerResponse, headers: Record<string, string> = {}): void {
  try {
    page ??= buildPage(pageDirectory());
  } catch (error) {
    return sendFailure(res, 'loading the heap page', error);
  }
  send(res, 200, 'text/html; charset=utf-8', page.body, { ...page.headers, ...headers });
}
