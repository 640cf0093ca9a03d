// Which files are heapwatch's own: its compiled dist/ and its src/. A suspect at one of them, or
// with one of them on its stack, would be heapwatch reporting its own bookkeeping as the
// application's leak. The Express middleware is the exception (as in src/snapshot/own-code.ts):
// it calls next(), so every request's handling runs below its frame.
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.resolve('heapwatch')));
const ownDirs = [`${root}dist${sep}`, `${root}src${sep}`];
const middleware = /[\\/]express[\\/]middleware\.(js|ts)$/;

/** Whether a frame's file (absolute path, or relative to the working directory) is heapwatch's own. */
export function isHeapwatchFile(file) {
  const absolute = file.startsWith(sep) ? file : `${process.cwd()}${sep}${file}`;
  return ownDirs.some((dir) => absolute.startsWith(dir));
}

/** The frames of a suspect's report that are heapwatch's own, the middleware's aside: none, if all is well. */
export function ownFramesOf(report) {
  const files = [report.site.file, ...report.traceback.frames.map((frame) => frame.file)];
  return files.filter((file) => file && isHeapwatchFile(file) && !middleware.test(file));
}
