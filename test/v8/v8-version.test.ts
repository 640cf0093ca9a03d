import assert from 'node:assert/strict';
import { test } from 'node:test';
import { v8MajorVersion } from '../../src/v8/v8-version.js';

test("V8's major version is read from Node's version string, with or without Node's suffix", () => {
  assert.equal(v8MajorVersion('11.3.244.8-node.16'), 11);
  assert.equal(v8MajorVersion('14.6.202.34'), 14);
  assert.equal(v8MajorVersion(), Number(process.versions.v8.split('.')[0]));
});
