import type { ProfileNode } from '../v8/profile.js';
import type { Frame } from './frame.js';
import type { FrameInterner } from './frame-interner.js';
import { wrapperBytesOf, wrapperSizes } from './backing-stores.js';
import { isOwnScript } from './own-code.js';

const WRAPPER_SIZES = wrapperSizes();

/**
 * Called for each node of V8's call tree: its interned frame, its depth (0 for an outermost
 * frame), the estimated live bytes and objects allocated with it as the innermost frame, the
 * part of those bytes that are ArrayBuffer wrappers (see `backing-stores.ts`), and — from a
 * profile in allocation mode, else 0 — the estimated bytes and objects it allocated in all, live
 * or collected since.
 */
export type ProfileVisitor = (frame: Frame, depth: number, size: number, count: number, wrapperBytes: number, allocatedSize: number, allocatedCount: number) => void;

/**
 * Walks one reading of V8's call tree depth first, each node before its children, so that a
 * visitor can keep the current stack by depth. Subtrees under heapwatch's own frames are skipped
 * (see `own-code.ts`). Both readers of the tree go through here: `takeSnapshot()`'s traces and
 * the monitor's per-site sums.
 */
export function walkProfile(root: ProfileNode, interner: FrameInterner, visit: ProfileVisitor): void {
  interner.startReading();
  const walk = (node: ProfileNode, depth: number): void => {
    if (isOwnScript(node.scriptName)) return;
    let size = 0;
    let count = 0;
    let allocatedSize = 0;
    let allocatedCount = 0;
    for (const allocation of node.allocations) {
      size += allocation.sizeBytes * allocation.count;
      count += allocation.count;
      const allocated = allocation.allocatedCount ?? 0;
      allocatedSize += allocation.sizeBytes * allocated;
      allocatedCount += allocated;
    }
    const frame = interner.frameOf(node);
    visit(frame, depth, size, count, count === 0 ? 0 : wrapperBytesOf(frame, node.allocations, WRAPPER_SIZES), allocatedSize, allocatedCount);
    for (const child of node.children) walk(child, depth + 1);
  };
  for (const child of root.children) walk(child, 0);
}
