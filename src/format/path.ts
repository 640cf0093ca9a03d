import { isAbsolute, relative, sep } from 'node:path';

/**
 * The path a human reads: relative to the working directory when the file is under it
 * (`node_modules/express/lib/router/index.js` for a dependency), absolute otherwise, and
 * `node:*` or empty names as they are.
 */
export function displayPath(file: string, cwd = process.cwd()): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(cwd, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return file;
  return sep === '/' ? rel : rel.split(sep).join('/');
}
