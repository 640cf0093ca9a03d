import { snapshotFromProfile } from '../../src/snapshot/from-profile.js';
import type { Snapshot } from '../../src/snapshot/snapshot.js';
import { SourceMapResolver } from '../../src/snapshot/source-map.js';
import { fromInspectorProfile } from '../../src/v8/inspector-reader.js';
import type { ReaderName } from '../../src/v8/profile.js';
import { recordedInspector, recordedNative } from '../helpers.js';

/** A snapshot of a recorded real profile, as takeSnapshot() would have built it. */
export function recordedSnapshot(reader: ReaderName, moment: 'before' | 'after', timestamp = 0): Snapshot {
  if (reader === 'native') {
    const { root, samplingIntervalBytes, memory } = recordedNative(moment);
    return snapshotFromProfile({ reader, samplingIntervalBytes, root }, memory, timestamp, new SourceMapResolver());
  }
  const { profile, samplingIntervalBytes, memory } = recordedInspector(moment);
  const root = fromInspectorProfile(profile, samplingIntervalBytes);
  return snapshotFromProfile({ reader, samplingIntervalBytes, root }, memory, timestamp, new SourceMapResolver());
}
