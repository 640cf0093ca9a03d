import type { IncomingMessage, ServerResponse } from 'node:http';
import { displayPath } from '../format/path.js';
import { formatSize } from '../format/size.js';
import type { HeapMonitor } from '../monitor/monitor.js';
import type { GroupBy } from '../snapshot/group.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Statistic, StatisticDiff } from '../snapshot/statistic.js';
import { prefersHtml } from './accept.js';
import { serveHeapPage } from './heap-page.js';
import { describeRoutes } from '../routes/attribute.js';
import { heapView } from './heap-view.js';
import { BadRequest, choiceParam, integerParam, parseQuery } from './query.js';
import { send, sendFailure, sendPlain } from './respond.js';

/** `?top=` bounds the answer: at most this many groups, whatever the heap holds. */
const MAX_TOP = 1000;
/** `?seconds=` holds one snapshot for that long; one such request at a time. */
const MAX_SECONDS = 600;
/** `?stacks=` bounds the stacks of `format=json` (the heap page's flame graph). */
const MAX_STACKS = 5000;

interface HeapQuery {
  readonly groupBy: GroupBy;
  readonly top: number;
  readonly format: 'text' | 'json' | 'html';
  readonly seconds: number | undefined;
  readonly stacks: number;
}

/** The answers differ by `Accept` when no `format` is given. */
const VARY = { Vary: 'Accept' } as const;

/**
 * The query, checked. Without `format`, a request whose `Accept` prefers HTML (a browser's) and
 * that asks for no text-only grouping or delta gets the page; everything else keeps its text.
 */
function readQuery(url: string, accept: string | undefined): HeapQuery {
  const params = parseQuery(url, ['groupBy', 'top', 'format', 'seconds', 'stacks']);
  const query: HeapQuery = {
    groupBy: choiceParam(params, 'groupBy', ['site', 'file', 'traceback']),
    top: integerParam(params, 'top', 1, MAX_TOP, 10) as number,
    format: choiceParam(params, 'format', ['text', 'json', 'html']),
    seconds: integerParam(params, 'seconds', 1, MAX_SECONDS, undefined),
    stacks: integerParam(params, 'stacks', 0, MAX_STACKS, 100) as number,
  };
  const textOnly = ['groupBy', 'seconds'].filter((name) => params.has(name));
  if (query.format === 'html' && textOnly.length > 0) {
    throw new BadRequest(`parameter "${textOnly[0]}" does not apply to format=html (the page reads ?format=json itself; only "top" and "stacks" pass to it)`);
  }
  if (!params.has('format') && textOnly.length === 0 && prefersHtml(accept)) return { ...query, format: 'html' };
  return query;
}

function statisticJson(stat: Statistic | StatisticDiff) {
  const { site } = stat;
  const where =
    stat.groupBy === 'file'
      ? { file: displayPath(site.file) }
      : { function: site.functionName, file: displayPath(site.file), line: site.line, column: site.column };
  const diff = 'sizeDiff' in stat ? { sizeDiff: stat.sizeDiff, countDiff: stat.countDiff } : {};
  const traceback = stat.groupBy === 'traceback' ? { traceback: stat.traceback.format() } : {};
  return { ...where, size: stat.size, count: stat.count, ...diff, ...traceback };
}

function render(res: ServerResponse, query: HeapQuery, snapshot: Snapshot, stats: readonly (Statistic | StatisticDiff)[], monitor: HeapMonitor): void {
  const shown = stats.slice(0, query.top);
  if (query.format === 'json') {
    const body = {
      groupBy: query.groupBy,
      seconds: query.seconds,
      timestamp: new Date(snapshot.timestamp).toISOString(),
      samplingIntervalBytes: snapshot.samplingIntervalBytes,
      reader: snapshot.reader,
      totalBytes: snapshot.size,
      totalCount: snapshot.count,
      statistics: shown.map(statisticJson),
      // What the heap page renders: the same reading's sites with the monitor's series, its stacks, the process figures.
      ...heapView(snapshot, monitor, query.top, query.stacks),
    };
    send(res, 200, 'application/json; charset=utf-8', JSON.stringify(body), VARY);
    return;
  }
  const what = query.seconds === undefined ? `by live bytes` : `by change over the last ${query.seconds} s`;
  const lines = [`[ Top ${shown.length} ${query.groupBy} statistics ${what}; sampled every ${formatSize(snapshot.samplingIntervalBytes)} ]`];
  for (const stat of shown) {
    lines.push(String(stat));
    if (query.groupBy === 'traceback') for (const frame of stat.traceback.format()) lines.push(`    ${frame}`);
    // A site's routes, from the monitor's latest reading, when a framework told heapwatch its routes.
    const routes = query.groupBy === 'site' ? monitor.routesOf(stat.key) : undefined;
    if (routes) lines.push(`    routes: ${describeRoutes(routes)}`);
  }
  send(res, 200, 'text/plain; charset=utf-8', `${lines.join('\n')}\n`, VARY);
}

/**
 * `/debug/heap`: tracemalloc's statistics of a fresh reading, or with `?seconds=N` the difference
 * between a reading now and one N seconds later. Parameters: `groupBy` (site | file | traceback,
 * default site), `top` (1–1000, default 10), `format` (text | json | html, default text, or html
 * when `Accept` prefers it), `seconds` (1–600), `stacks` (0–5000, default 100: the largest stacks
 * in `format=json`). `format=json` also carries the heap page's data.
 */
export class HeapHandler {
  /** When the running `?seconds=` request ends (ms since the epoch); undefined when none runs. */
  private deltaEndsAt: number | undefined;

  constructor(private readonly monitor: HeapMonitor) {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    let query: HeapQuery;
    try {
      query = readQuery(req.url ?? '', req.headers.accept);
    } catch (error) {
      if (error instanceof BadRequest) return sendPlain(res, 400, `heapwatch: ${error.message}`);
      return sendFailure(res, 'reading the query', error);
    }
    if (query.format === 'html') return serveHeapPage(res, VARY);
    if (query.seconds !== undefined) return this.handleDelta(res, query, query.seconds);
    try {
      const snapshot = this.monitor.snapshotNow();
      render(res, query, snapshot, snapshot.statistics(query.groupBy), this.monitor);
    } catch (error) {
      sendFailure(res, 'reading the heap profile', error);
    }
  }

  private handleDelta(res: ServerResponse, query: HeapQuery, seconds: number): void {
    if (this.deltaEndsAt !== undefined) {
      const left = Math.max(1, Math.ceil((this.deltaEndsAt - Date.now()) / 1000));
      return sendPlain(res, 429, 'heapwatch: another ?seconds= request is running; try again when it is done', {
        'Retry-After': String(left),
      });
    }
    let older: Snapshot;
    try {
      older = this.monitor.snapshotNow();
    } catch (error) {
      return sendFailure(res, 'reading the heap profile', error);
    }
    this.deltaEndsAt = Date.now() + seconds * 1000;
    let finished = false;
    // Once per request: a late 'close' of this response must not free a slot another request took.
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      this.deltaEndsAt = undefined;
    };
    // A client that gives up frees the slot (and the held snapshot) at once.
    res.once('close', finish);
    const timer = setTimeout(() => {
      finish();
      if (!this.monitor.running) return sendPlain(res, 503, 'heapwatch: stopped while the request was waiting');
      try {
        const newer = this.monitor.snapshotNow();
        render(res, query, newer, newer.compareTo(older, query.groupBy), this.monitor);
      } catch (error) {
        sendFailure(res, 'reading the heap profile', error);
      }
    }, seconds * 1000);
    timer.unref();
  }
}
