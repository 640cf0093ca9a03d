import { displayPath } from '../format/path.js';
import { redactSite } from '../format/site-hash.js';
import { formatSize } from '../format/size.js';
import type { RouteShare } from '../routes/attribute.js';
import type { Frame } from '../snapshot/frame.js';
import { NATIVE_SITE, sitePosition } from '../snapshot/frame.js';
import type { NearLimitFigures, UnexplainedGrowthReport } from './memory-reports.js';
import type { SiteReport } from './site-report.js';

// How heapwatch's records (see `log/leak-log.ts`) carry a site, its routes, its growth and the
// notes said of it, in their fields and in their messages: pure functions of the reports, apart
// from the writing of records, so that every record says a site the same way.

/**
 * Said of a site in Node's own code (no function of the service's on its stack): Buffers Node's
 * stream reader made from socket data (`onStreamRead`) and the service kept. The function that
 * keeps them is not on the stack that allocated them; V8's sampler records only that stack.
 */
const NODE_SITE_NOTE =
  "allocated by Node's own code (socket or stream chunks, say): the function that keeps these objects is not on the stack that allocated them; look where the service keeps what its streams emit";
/** Said of the native site: a request body's chunks are made by Node's HTTP parser in C++. */
const NATIVE_SITE_NOTE =
  "allocated outside JavaScript (an HTTP request body's chunks are made by Node's parser in C++, say): the function that keeps these objects is not on the stack that allocated them; look where the service keeps what its requests' and streams' 'data' events emit";

/** The note a record adds for a site in Node's own code or outside JavaScript; undefined for the service's own. */
export function siteNoteOf(site: Frame): string | undefined {
  if (site.file.startsWith('node:')) return NODE_SITE_NOTE;
  return site === NATIVE_SITE || (site.file === '' && site.functionName === NATIVE_SITE.functionName) ? NATIVE_SITE_NOTE : undefined;
}

/** `, plus 96 MiB of Buffers outside V8's heap (±12 MiB)`, or nothing for a site holding none. */
export function describeExternal(report: SiteReport): string {
  if (!(report.externalBytes > 0)) return '';
  return ` on V8's heap, plus ${formatSize(report.externalBytes)} of Buffers outside it (±${formatSize(report.externalNoiseBytes)})`;
}

/** The growing sites and the suspects as both near-limit records carry them. */
export function growthFields({ growing, suspects }: Pick<NearLimitFigures, 'growing' | 'suspects'>): { growing: object[]; suspects: object[] } {
  return {
    growing: growing.map((diff) => ({ statistic: String(diff), traceback: diff.traceback.format() })),
    suspects: suspects.map((suspect) => ({
      ...siteFields(suspect.site),
      liveBytes: suspect.liveBytes,
      externalBytes: suspect.externalBytes,
      growthBytes: suspect.growthBytes,
    })),
  };
}

/** The end of both near-limit messages: the site that grew most, or that none did. */
export function growingMost({ growing: [first], spanMs }: Pick<NearLimitFigures, 'growing' | 'spanMs'>): string {
  return first ? `growing most: ${describeSite(first.site)} ${formatSize(first.sizeDiff, true)} in ${Math.round(spanMs / 1000)} s` : 'no site grew';
}

/** The figures both unexplained-growth records carry. */
export function unexplainedFields(report: UnexplainedGrowthReport, windowMs: number): object {
  return { kind: report.kind, growthBytes: report.growthBytes, horizonMs: report.horizonMs, windowMs, unexplainedBytes: report.unexplainedBytes, arrayBuffersBytes: report.arrayBuffersBytes, rssBytes: report.rssBytes };
}

/**
 * The site as log records carry it: greppable, relative path when under the working directory,
 * and the hashes that `redactSites` shows in the metric labels instead of the names (`labels`),
 * so that a hash seen on a dashboard leads back to the function.
 */
export function siteFields(site: Frame) {
  const redacted = redactSite(site);
  return { function: site.functionName, file: displayPath(site.file), line: site.line, column: site.column, labels: { function: redacted.function, file: redacted.file } };
}

/** A route share as records carry it: whole bytes, the share to a thousandth. */
export function roundedShare(share: RouteShare): RouteShare {
  return { route: share.route, bytes: Math.round(share.bytes), share: Math.round(share.share * 1000) / 1000 };
}

/** `40 s`, `64 min`: a horizon as a message gives it (minutes from ten of them up). */
export function formatSeconds(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 600 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
}

/** `getData (src/store.ts:12)`: how a site reads in a message. */
export function describeSite(site: Frame): string {
  return `${site.functionName} (${displayPath(site.file)}:${sitePosition(site)})`;
}
