import { existsSync, readFileSync } from 'node:fs';
import { findSourceMap as findNodeSourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TraceMap } from '@jridgewell/trace-mapping';
import { WarningCode, warnOnce } from '../errors.js';

/** A script larger than this is not read to look for its source map (bytes). */
const MAX_SCRIPT_BYTES = 32 * 1024 * 1024;

const SOURCE_MAPPING_URL = /\/\/[#@]\s*sourceMappingURL=(\S+)\s*$/;

/** Where a script's source map was found, in the order they are tried. */
export type SourceMapOrigin = 'node' | 'comment' | 'beside';

/** A script's source map and where it came from. */
export interface FoundSourceMap {
  readonly map: TraceMap;
  readonly origin: SourceMapOrigin;
}

/**
 * The source map of a loaded script, from the first of these that has one:
 * 1. the map Node holds for the module: loaders that compile in memory (tsx, ts-node, Node's own
 *    `--experimental-transform-types`) hand their map to Node with the code, and Node keeps it
 *    when source maps are enabled (tsx enables them itself; `--enable-source-maps` otherwise);
 * 2. the script's `//# sourceMappingURL=` comment on disk: an inline `data:` map or a `.map` file
 *    (tsc, esbuild, with no flag needed);
 * 3. a `<script>.map` file beside it, for builds that write maps without the comment.
 * Null when none has one. A map that exists but cannot be parsed is warned about once.
 */
export function findSourceMap(file: string): FoundSourceMap | null {
  const held = fromNode(file);
  if (held) return { map: held, origin: 'node' };
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return null; // deleted since it was loaded, or not a real file (`[eval]`)
  }
  if (source.length > MAX_SCRIPT_BYTES) return null;
  const tail = source.slice(source.lastIndexOf('\n', source.length - 2) + 1);
  const url = SOURCE_MAPPING_URL.exec(tail)?.[1];
  if (url) {
    const map = parse(file, () => readReferencedMap(file, url));
    return map && { map, origin: 'comment' };
  }
  const beside = `${file}.map`;
  if (!existsSync(beside)) return null;
  const map = parse(file, () => new TraceMap(readFileSync(beside, 'utf8'), beside));
  return map && { map, origin: 'beside' };
}

/**
 * Node's map, read through trace-mapping like the others: Node's own `findEntry()` answers a line
 * past the end of the code with the file's last mapping, and `findOrigin()` with a line made from
 * it, instead of nothing (measured on Node 20, 22 and 24); one reader gives the same answers
 * whichever way a map was found.
 * Node hands the payload with absolute `sources` and an empty `sourceRoot`.
 */
function fromNode(file: string): TraceMap | null {
  let held: ReturnType<typeof findNodeSourceMap>;
  try {
    held = findNodeSourceMap(file);
  } catch {
    return null;
  }
  if (!held) return null;
  return parse(file, () => new TraceMap(held.payload as ConstructorParameters<typeof TraceMap>[0], pathToFileURL(file).href));
}

function readReferencedMap(file: string, url: string): TraceMap {
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    const payload = url.slice(comma + 1);
    const json = /;base64$/.test(url.slice(0, comma)) ? Buffer.from(payload, 'base64').toString('utf8') : decodeURIComponent(payload);
    return new TraceMap(json, file);
  }
  const mapPath = url.startsWith('file://') ? fileURLToPath(url) : resolve(dirname(file), url);
  return new TraceMap(readFileSync(mapPath, 'utf8'), mapPath);
}

function parse(file: string, read: () => TraceMap): TraceMap | null {
  try {
    return read();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    warnOnce(
      WarningCode.SOURCE_MAP_UNREADABLE,
      `The source map of ${file} could not be read (${reason}); its sites are reported in the compiled file`,
      file,
    );
    return null;
  }
}
