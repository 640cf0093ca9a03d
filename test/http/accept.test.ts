import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prefersHtml } from '../../src/http/accept.js';

test('HTML is preferred when Accept weighs text/html above text/plain and JSON, as browsers do', () => {
  const cases: Array<[string | undefined, boolean]> = [
    // Chromium's and Firefox's navigations.
    ['text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7', true],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true],
    ['TEXT/HTML', true],
    ['text/*;q=0.9, text/html', true],
    // curl, fetch(), scripts: text as before.
    [undefined, false],
    ['', false],
    ['*/*', false],
    ['text/*', false],
    ['application/json', false],
    ['text/plain, text/html', false],
    ['text/html;q=0.5, text/plain', false],
    ['text/html;q=0, */*', false],
    ['text/html, application/json', false],
    ['text/html;q=oops', false],
  ];
  for (const [accept, expected] of cases) assert.equal(prefersHtml(accept), expected, String(accept));
});
