import { AnnotationQueryBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { datasource, select, series, heapwatchDashboard } from './common.js';
import { heapwatch, nodejs, recorded } from './metrics.js';
import { stat, timeseries } from './panels.js';

export const NODE_PROCESS_UID = 'heapwatch-nodejs-process';

/**
 * *Node.js process memory*: the V8 heap and its spaces, the memory outside it, RSS, garbage
 * collection and event-loop delay, from prom-client's standard metrics, with restarts annotated.
 */
export function nodeProcessDashboard(): Dashboard {
  const gc = (suffix: 'sum' | 'count'): string => `sum by (instance, kind) (rate(${select(`${nodejs.gcDurationSeconds}_${suffix}`)}[$__rate_interval]))`;
  return heapwatchDashboard('Node.js process memory', NODE_PROCESS_UID, "The V8 heap, its spaces and limit, memory outside it, RSS and the container's limit, garbage collection and event-loop delay, from prom-client's standard Node metrics (which heapwatch() registers).", 'now-3h', nodejs.heapUsedBytes)
    .annotation(
      new AnnotationQueryBuilder()
        .name('Restarts')
        .datasource(datasource)
        .enable(true)
        .iconColor('orange')
        // The start time changes when a process behind the same instance restarts.
        .expr(`changes(${select(nodejs.startTimeSeconds)}[5m]) > 0`)
        .step('1m')
        .titleFormat('restart of {{instance}}')
        .tagKeys('instance'),
    )
    .withPanel(stat('Uptime', 'Time since the process started (the shortest of the selected instances).', 's', { width: 6, height: 4 }, series(`min(time() - ${select(nodejs.startTimeSeconds)})`, 'uptime')))
    .withPanel(stat('Heap used', "V8's used heap, summed over the selected instances.", 'bytes', { width: 6, height: 4 }, series(`sum(${select(nodejs.heapUsedBytes)})`, 'heap used')))
    .withPanel(stat('Resident set size', 'Memory the operating system gives the processes, summed over the selected instances.', 'bytes', { width: 6, height: 4 }, series(`sum(${select(nodejs.residentMemoryBytes)})`, 'RSS')))
    .withPanel(stat('CPU', 'CPU time per second, summed over the selected instances.', 'percentunit', { width: 6, height: 4 }, series(`sum(rate(${select(nodejs.cpuSecondsTotal)}[$__rate_interval]))`, 'CPU')))
    .withRow(new RowBuilder('Memory'))
    .withPanel(
      timeseries('V8 heap: used, total and limit', "Used heap, the heap V8 has reserved (total), and the heap limit at which V8 aborts the process (heapwatch_heap_size_limit_bytes: prom-client has no limit).", 'bytes', { width: 12, height: 9 }, [
        series(select(nodejs.heapUsedBytes), 'used {{instance}}'),
        series(select(nodejs.heapTotalBytes), 'total {{instance}}'),
        series(select(heapwatch.heapSizeLimitBytes), 'limit {{instance}}'),
      ]),
    )
    .withPanel(
      timeseries('Heap spaces, used', "Used bytes per V8 heap space: a leak fills old_space (and large_object_space for big objects); new_space is the young generation's sawtooth.", 'bytes', { width: 12, height: 9 }, [
        series(`sum by (space) (${select(nodejs.heapSpaceUsedBytes)})`, '{{space}}'),
      ], true),
    )
    .withPanel(
      timeseries('Outside the heap: external and array buffers', "External memory (C++ objects bound to JavaScript ones), of which ArrayBuffer and Buffer contents: outside V8's heap, not seen by heapwatch's sampler.", 'bytes', { width: 12, height: 8 }, [
        series(select(nodejs.externalMemoryBytes), 'external {{instance}}'),
        series(select(heapwatch.arrayBuffersBytes), 'array buffers {{instance}}'),
      ]),
    )
    .withPanel(
      timeseries(
        'Resident set size against the heap and the container limit',
        "Memory the operating system gives the process (RSS) beside the V8 heap it holds (the difference is code, stacks, external memory and the allocator's own), the container's memory limit at which the kernel's OOM killer ends the process with SIGKILL (heapwatch_memory_limit_bytes: cgroup memory.max; none without a limit), and where RSS will be in 4 hours at the last hour's pace (recorded by deploy/prometheus for processes under a limit; the HeapwatchMemoryExhaustionPredicted alert compares the two).",
        'bytes',
        { width: 12, height: 8 },
        [
          series(select(nodejs.residentMemoryBytes), 'RSS {{instance}}'),
          series(select(nodejs.heapTotalBytes), 'heap total {{instance}}'),
          series(select(heapwatch.memoryLimitBytes), 'container limit {{instance}}'),
          series(select(recorded.residentPredicted4hBytes), 'RSS in 4 h at this pace {{instance}}'),
        ],
      ),
    )
    .withPanel(
      timeseries(
        'Memory per process: V8 heap, ArrayBuffers, and what no site explains, against the container limit',
        "Where each process's memory is: V8's heap (what heapwatch's sites account for), ArrayBuffer contents (Buffers and typed arrays, outside V8's heap: heapwatch_array_buffers_bytes, shared among the sites that hold them), and the rest of RSS that no allocation site explains (heapwatch_memory_unexplained_bytes: native addons, what they report to V8 as external memory included, C++ leaks, the allocator's pages, code, stacks, worker threads' heaps), beside the container's memory limit. When the unexplained part keeps growing — or the ArrayBuffer memory no sampled site holds — heapwatch raises its process-level verdict (heapwatch_memory_unexplained_growth_suspected, the HeapwatchUnexplainedMemoryGrowth alert); the growth it judges over heapwatch's window is drawn too.",
        'bytes',
        { width: 18, height: 9 },
        [
          series(select(nodejs.heapTotalBytes), 'V8 heap {{instance}}'),
          series(select(heapwatch.arrayBuffersBytes), 'ArrayBuffers {{instance}}'),
          series(select(heapwatch.memoryUnexplainedBytes), 'no site explains {{instance}}'),
          series(select(heapwatch.memoryUnexplainedGrowthBytes), 'its growth over the window {{instance}}'),
          series(select(heapwatch.memoryLimitBytes), 'container limit {{instance}}'),
        ],
      ),
    )
    .withPanel(
      stat(
        'Memory no site explains: growing?',
        "Processes among the selected instances whose memory no allocation site explains grows in a sustained way now (heapwatch's process-level verdict, heapwatch_memory_unexplained_growth_suspected; the HeapwatchUnexplainedMemoryGrowth alert): native memory or the allocator, or Buffers no sampled site holds — the memory-unexplained-growth record says which (kind); see the runbook.",
        'none',
        { width: 6, height: 9 },
        series(`sum(${select(heapwatch.memoryUnexplainedGrowthSuspected)})`, 'processes'),
        1,
      ),
    )
    .withRow(new RowBuilder('Garbage collection and event loop'))
    .withPanel(timeseries('Time in GC', 'Seconds spent in garbage collection per second, by kind (minor: scavenges of the young generation; major: mark-compact of the whole heap).', 'percentunit', { width: 8, height: 8 }, [series(gc('sum'), '{{kind}} {{instance}}')]))
    .withPanel(timeseries('GCs per second', 'Garbage collections per second, by kind. Major GCs that come more and more often while the heap grows are a leak filling the old generation.', 'ops', { width: 8, height: 8 }, [series(gc('count'), '{{kind}} {{instance}}')]))
    .withPanel(
      timeseries('Event-loop delay', "Delay of the event loop (p50, p99, max over prom-client's monitoring interval): long major GCs show here.", 's', { width: 8, height: 8 }, [
        series(select(nodejs.eventLoopLagP50Seconds), 'p50 {{instance}}'),
        series(select(nodejs.eventLoopLagP99Seconds), 'p99 {{instance}}'),
        series(select(nodejs.eventLoopLagMaxSeconds), 'max {{instance}}'),
      ]),
    )
    .build();
}
