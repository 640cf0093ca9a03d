import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HeapMonitor } from '../monitor/monitor.js';
import { encodePprofAllocs } from './pprof-allocs.js';
import { BadRequest, integerParam, parseQuery } from './query.js';
import { send, sendFailure, sendPlain } from './respond.js';

/** When the running `?seconds=N` request ends (ms since the epoch): one at a time per process, as for /debug/heap. */
let deltaEndsAt: number | undefined;

/** The longest `?seconds=N` delta (seconds): a request held open longer is a connection a proxy will cut. */
export const MAX_DELTA_SECONDS = 300;

/**
 * `/debug/pprof/allocs`, Go's name: what each stack allocated, live or collected since, beside
 * what it holds (`alloc_objects`, `alloc_space`, `inuse_objects`, `inuse_space`; `alloc_space`
 * first), as a gzipped pprof profile — since V8's sampler last started over, or with `?seconds=N`
 * (1–300) the difference between two readings N seconds apart, as Go's delta profiles. Needs
 * allocation data (Node 26 and later, `allocations: true`): otherwise 404 — as Go answers for a
 * profile it does not have — with one line saying why (not a 5xx: nothing failed). Each
 * reading forces a full GC (V8's allocation mode does, to tell live from collected); a start-over
 * of the sampler within the N seconds loses the delta: 503, to ask again. One `?seconds=N` request
 * at a time (a second gets 429).
 */
export async function servePprofAllocs(req: IncomingMessage, res: ServerResponse, monitor: HeapMonitor): Promise<void> {
  let seconds: number | undefined;
  try {
    seconds = integerParam(parseQuery(req.url ?? '', ['seconds']), 'seconds', 1, MAX_DELTA_SECONDS, undefined);
  } catch (error) {
    return error instanceof BadRequest ? sendPlain(res, 400, `heapwatch: ${error.message}`) : sendFailure(res, 'reading the query', error);
  }
  if (seconds !== undefined && deltaEndsAt !== undefined) {
    const left = Math.max(1, Math.ceil((deltaEndsAt - Date.now()) / 1000));
    return sendPlain(res, 429, 'heapwatch: another ?seconds= request is running; try again when it is done', { 'Retry-After': String(left) });
  }
  try {
    const older = monitor.snapshotNow();
    if (!older.allocations) {
      return sendPlain(res, 404, `heapwatch: /debug/pprof/allocs needs allocation data, and there is none: ${older.allocationsUnavailable}`);
    }
    let newer = older;
    if (seconds !== undefined) {
      deltaEndsAt = Date.now() + seconds * 1000;
      // A client that leaves stops the wait: no second reading, no second forced GC, for no one.
      const left = new AbortController();
      const onClose = () => left.abort();
      res.once('close', onClose);
      try {
        await sleep(seconds * 1000, undefined, { signal: left.signal });
      } catch {
        return;
      } finally {
        res.off('close', onClose);
        deltaEndsAt = undefined;
      }
      newer = monitor.snapshotNow();
      if (newer.epoch !== older.epoch) {
        return sendPlain(
          res,
          503,
          `heapwatch: V8's sampler started over within the ${seconds} seconds (it does past 50 000 collected samples, or another tool restarted it): the delta is lost; ask again`,
          { 'Retry-After': '1' },
        );
      }
    }
    const profile = await encodePprofAllocs(newer, seconds === undefined ? undefined : older);
    send(res, 200, 'application/octet-stream', profile, { 'Content-Disposition': 'attachment; filename="allocs.pb.gz"' });
  } catch (error) {
    sendFailure(res, 'writing the pprof allocs profile', error);
  }
}
