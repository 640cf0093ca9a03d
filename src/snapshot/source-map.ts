import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';
import { WarningCode, warnOnce } from '../errors.js';
import { frameKey, makeFrame } from './frame.js';
import type { Frame } from './frame.js';

/** Caches are cleared past these sizes; a service has far fewer scripts and allocating functions. */
const MAX_CACHED_SCRIPTS = 2_000;
const MAX_CACHED_FRAMES = 50_000;
/** A script larger than this is not read to look for its source map (bytes). */
const MAX_SCRIPT_BYTES = 32 * 1024 * 1024;

const SOURCE_MAPPING_URL = /\/\/[#@]\s*sourceMappingURL=(\S+)\s*$/;

/** Finds and parses the source map of a compiled script; null when it has none. */
function loadSourceMap(file: string): TraceMap | null {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return null; // deleted since it was loaded, or not a real file (`[eval]`)
  }
  if (source.length > MAX_SCRIPT_BYTES) return null;
  const tail = source.slice(source.lastIndexOf('\n', source.length - 2) + 1);
  const url = SOURCE_MAPPING_URL.exec(tail)?.[1];
  if (!url) return null;
  try {
    if (url.startsWith('data:')) {
      const comma = url.indexOf(',');
      const payload = url.slice(comma + 1);
      const json = /;base64$/.test(url.slice(0, comma))
        ? Buffer.from(payload, 'base64').toString('utf8')
        : decodeURIComponent(payload);
      return new TraceMap(json, file);
    }
    const mapPath = url.startsWith('file://') ? fileURLToPath(url) : resolve(dirname(file), url);
    return new TraceMap(readFileSync(mapPath, 'utf8'), mapPath);
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

function sourceToFile(source: string): string {
  return source.startsWith('file://') ? fileURLToPath(source) : source;
}

/**
 * Maps frames of compiled code back to their original source (a `.ts` file, say), reading the
 * `.map` files itself: no `--enable-source-maps` flag is needed. Lazy and cached: only the frames
 * that get reported are resolved, and each script's map is read once.
 */
export class SourceMapResolver {
  private readonly maps = new Map<string, TraceMap | null>();
  /** Mapped frames by the compiled frame's key: equal frames map to one object. */
  private readonly byPosition = new Map<string, Frame>();

  resolve(frame: Frame): Frame {
    if (frame.line === 0 || !isAbsolute(frame.file)) return frame;
    // Most scripts have no map: one lookup by file, and the frame is its own answer.
    const map = this.mapOf(frame.file);
    if (!map) return frame;
    const key = frameKey(frame);
    let mapped = this.byPosition.get(key);
    if (!mapped) {
      if (this.byPosition.size >= MAX_CACHED_FRAMES) this.byPosition.clear();
      mapped = mapFrame(frame, map);
      this.byPosition.set(key, mapped);
    }
    return mapped;
  }

  private mapOf(file: string): TraceMap | null {
    let map = this.maps.get(file);
    if (map === undefined) {
      if (this.maps.size >= MAX_CACHED_SCRIPTS) this.maps.clear();
      map = loadSourceMap(file);
      this.maps.set(file, map);
    }
    return map;
  }
}

/** The frame at its original position, or the frame itself when the map has none for it. */
function mapFrame(frame: Frame, map: TraceMap): Frame {
  // trace-mapping takes a 1-based line and a 0-based column; V8 points at the function's
  // parameter list, which the nearest mapping at or before it attributes to the declaration.
  const original = originalPositionFor(map, { line: frame.line, column: Math.max(0, frame.column - 1) });
  if (original.source === null) return frame;
  return makeFrame(frame.functionName, sourceToFile(original.source), original.line, original.column + 1);
}

/** One resolver for the whole process: each source map is read once. */
export const sharedResolver = new SourceMapResolver();
