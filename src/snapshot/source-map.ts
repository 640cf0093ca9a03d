import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TraceMap } from '@jridgewell/trace-mapping';
import { originalPositionFor } from '@jridgewell/trace-mapping';
import { WarningCode, warnOnce } from '../errors.js';
import { findSourceMap } from './find-source-map.js';
import { frameKey, makeFrame } from './frame.js';
import type { Frame } from './frame.js';
import { TypeScriptPositions, isTypeScriptFile } from './typescript-position.js';

/** Caches are cleared past these sizes; a service has far fewer scripts and allocating functions. */
const MAX_CACHED_SCRIPTS = 2_000;
const MAX_CACHED_FRAMES = 50_000;
/** A TypeScript script with no map: its positions are checked (see TypeScriptPositions). */
const WITHOUT_MAP = Symbol('without map');

function sourceToFile(source: string): string {
  return source.startsWith('file://') ? fileURLToPath(source) : source;
}

/**
 * Maps frames of compiled code back to their original source (a `.ts` file, say), through the
 * maps Node holds for loaded modules, or the maps the compiled files point to on disk (see
 * {@link findSourceMap} for the order): tsx needs nothing, tsc and bundles need no flag. A frame
 * of a TypeScript file that no map covers is kept at its own position only where that position is
 * the file's (Node's type stripping), else it is marked as compiled (see
 * {@link TypeScriptPositions}). Lazy and cached: only the frames that get reported are resolved,
 * and each script's map is looked for once.
 */
export class SourceMapResolver {
  /** Per script: its map, `WITHOUT_MAP` for TypeScript without one, null when there is nothing to do. */
  private readonly maps = new Map<string, TraceMap | typeof WITHOUT_MAP | null>();
  /** Mapped frames by the compiled frame's key: equal frames map to one object. */
  private readonly byPosition = new Map<string, Frame>();
  // Frames of a file resolved before it was found compiled may have been taken at face value.
  private readonly typescript = new TypeScriptPositions(() => this.byPosition.clear());

  resolve(frame: Frame): Frame {
    if (frame.line === 0 || !isAbsolute(frame.file)) return frame;
    // Most scripts have no map and are not TypeScript: one lookup by file, and the frame is its own answer.
    const map = this.mapOf(frame.file);
    if (map === null) return frame;
    const key = frameKey(frame);
    let mapped = this.byPosition.get(key);
    if (!mapped) {
      mapped = map === WITHOUT_MAP ? this.typescript.withoutMap(frame) : this.mapFrameOrDrop(frame, map);
      if (this.byPosition.size >= MAX_CACHED_FRAMES) this.byPosition.clear();
      this.byPosition.set(key, mapped);
    }
    return mapped;
  }

  private mapOf(file: string): TraceMap | typeof WITHOUT_MAP | null {
    let map = this.maps.get(file);
    if (map === undefined) {
      if (this.maps.size >= MAX_CACHED_SCRIPTS) this.maps.clear();
      map = findSourceMap(file)?.map ?? (isTypeScriptFile(file) ? WITHOUT_MAP : null);
      this.maps.set(file, map);
    }
    return map;
  }

  /**
   * A map that parses can still be wrong (a hand-edited or truncated one, a bundler's bug): one
   * that fails on a frame would fail every reading that meets it. It is dropped for its script,
   * whose sites stay at their compiled positions, and said once, as an unreadable map is.
   */
  private mapFrameOrDrop(frame: Frame, map: TraceMap): Frame {
    try {
      return this.mapFrame(frame, map);
    } catch (error) {
      this.maps.set(frame.file, null);
      const reason = error instanceof Error ? error.message : String(error);
      warnOnce(
        WarningCode.SOURCE_MAP_UNREADABLE,
        `The source map of ${frame.file} could not be read (${reason}); its sites are reported in the compiled file`,
        frame.file,
      );
      return frame;
    }
  }

  /** The frame at its original position; where the map has none, the frame itself, marked when its file is TypeScript. */
  private mapFrame(frame: Frame, map: TraceMap): Frame {
    // trace-mapping takes a 1-based line and a 0-based column; V8 points at the function's
    // parameter list, which the nearest mapping at or before it attributes to the declaration.
    if (isModuleCode(frame)) {
      // A module's own code starts at 1:1 of its source too, where a map may say nothing (tsx's)
      // or name its first statement. A bundle's holds the code of all its modules: it stays.
      const only = map.resolvedSources.length === 1 ? map.resolvedSources[0] : undefined;
      return only ? makeFrame(frame.functionName, sourceToFile(only), 1, 1) : frame;
    }
    const original = originalPositionFor(map, { line: frame.line, column: Math.max(0, frame.column - 1) });
    // A segment whose source index the map does not list (trace-mapping then answers undefined).
    if (original.source === undefined) throw new Error(`a mapping at ${frame.line}:${frame.column} names a source the map does not list`);
    if (original.source !== null) return makeFrame(frame.functionName, sourceToFile(original.source), original.line, original.column + 1);
    return isTypeScriptFile(frame.file) ? this.typescript.notInMap(frame) : frame;
  }
}

/** V8 places a module's (or a CommonJS wrapper's) own code at 1:1, as an anonymous function. */
function isModuleCode(frame: Frame): boolean {
  return frame.line === 1 && frame.column === 1 && frame.functionName === '(anonymous)';
}

/** One resolver for the whole process: each source map is read once. */
export const sharedResolver = new SourceMapResolver();
