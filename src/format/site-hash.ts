import { createHash } from 'node:crypto';
import { displayPath } from './path.js';
import type { Frame } from '../snapshot/frame.js';

/** A site's label values with its function name and file path hidden. */
export interface RedactedSite {
  /** 12 hex digits of SHA-256 over the file (as displayed) and the function name. */
  readonly function: string;
  /** 12 hex digits of SHA-256 over the file, as displayed. */
  readonly file: string;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * The hashes `redactSites` puts in the metric labels in place of a site's function name and file
 * path. Computed from the path as displayed (relative to the working directory when under it), so
 * the same code gives the same hashes in every process and after every restart of a deployment;
 * the line is not hashed, so a function keeps its hash when the code above it moves. The file has
 * a hash of its own, so that series can still be summed per file. 48 bits: collisions are out of
 * reach for the few thousand sites of a service, and the hash is no secret — it hides the names
 * from whoever reads the metrics, it does not stop anyone who can guess a path and a name.
 */
export function redactSite(site: Frame): RedactedSite {
  const file = displayPath(site.file);
  return { function: shortHash(`${file}\0${site.functionName}`), file: shortHash(file) };
}
