import type { ProfileNode } from '../../src/v8/profile.js';

/**
 * A node of a hand-made V8 call tree: a function of /app/server.js declared at line
 * `name.length`, or, for `push`, a built-in (no script, line 0); `count` objects of `sizeBytes`
 * each allocated with it as the innermost frame.
 */
export const profileNode = (name: string, children: ProfileNode[] = [], sizeBytes = 0, count = 0): ProfileNode => ({
  name,
  scriptName: name === 'push' ? '' : 'file:///app/server.js',
  lineNumber: name === 'push' ? 0 : name.length,
  columnNumber: 1,
  allocations: count > 0 ? [{ sizeBytes, count }] : [],
  children,
});
