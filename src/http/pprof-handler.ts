import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeapMonitor } from '../monitor/monitor.js';
import { encodePprof } from './pprof.js';
import { BadRequest, parseQuery } from './query.js';
import { send, sendFailure, sendPlain } from './respond.js';

/**
 * `/debug/pprof/heap`: the live sampled heap as a gzipped pprof profile (`inuse_objects`,
 * `inuse_space`, period = the sampling interval), for `go tool pprof` and Grafana Pyroscope. It
 * takes no parameters. The monitor's include/exclude filters apply, as everywhere in heapwatch.
 */
export async function servePprofHeap(req: IncomingMessage, res: ServerResponse, monitor: HeapMonitor): Promise<void> {
  try {
    parseQuery(req.url ?? '', []);
  } catch (error) {
    return error instanceof BadRequest ? sendPlain(res, 400, `heapwatch: ${error.message}`) : sendFailure(res, 'reading the query', error);
  }
  try {
    const profile = await encodePprof(monitor.snapshotNow());
    send(res, 200, 'application/octet-stream', profile, { 'Content-Disposition': 'attachment; filename="heap.pb.gz"' });
  } catch (error) {
    sendFailure(res, 'writing the pprof profile', error);
  }
}
