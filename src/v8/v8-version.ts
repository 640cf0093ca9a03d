/**
 * V8's major version (11 on Node 20, 12 on Node 22, 13 on Node 24, 14 on Node 26). Several of
 * heapwatch's choices follow what V8 does in a given major (which `gc()` options it takes, whether a
 * full GC shrinks the young generation, the sizes of its ArrayBuffer objects): one parse of
 * `process.versions.v8` (`'11.3.244.8-node.16'`) for all of them, so they cannot disagree.
 */
export function v8MajorVersion(version: string = process.versions.v8): number {
  return Number.parseInt(version, 10);
}
