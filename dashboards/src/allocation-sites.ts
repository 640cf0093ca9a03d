import { AnnotationQueryBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { datasource, select, series, table, heapwatchDashboard } from './common.js';
import { heapwatch, nodejs, recorded } from './metrics.js';
import { joinedTable, stat, timeseries } from './panels.js';

export const ALLOCATION_SITES_UID = 'heapwatch-allocation-sites';

/** Per site, across the selected instances: the largest figure of any of them. */
const perSite = (metric: string): string => `max by (function, file, line) (${select(metric)})`;
const site = '{{function}} ({{file}}:{{line}})';

/**
 * *heapwatch — allocation sites*: which functions hold memory and which grow, heapwatch's
 * verdicts, which allocate most (allocation mode) beside the time in GC, the V8 heap against its limit, the memory no site is charged for, and heapwatch's cost.
 */
export function allocationSitesDashboard(): Dashboard {
  const suspectedNow = `${select(heapwatch.siteLeakSuspected)} == 1`;
  const heapAvg = select(recorded.heapUsedAvg10mBytes);
  return heapwatchDashboard('heapwatch — allocation sites', ALLOCATION_SITES_UID, "Live bytes and growth per allocation site from V8's sampling heap profiler, heapwatch's leak verdicts, and the V8 heap against its limit.", 'now-1h', heapwatch.snapshotsTotal)
    .annotation(
      new AnnotationQueryBuilder()
        .name('Leak suspicions')
        .datasource(datasource)
        .enable(true)
        .iconColor('red')
        // A region per suspected site, from the reading that raised the suspicion to the one that cleared it.
        .expr(`${perSite(heapwatch.siteLeakSuspected)} == 1`)
        .step('30s')
        .titleFormat(`leak suspected: ${site}`)
        .tagKeys('function,file,line'),
    )
    .withRow(new RowBuilder('Verdicts'))
    .withPanel(stat('Suspected sites', 'Sites heapwatch suspects of leaking now, summed over the selected instances.', 'none', { width: 4, height: 5 }, series(`sum(${select(heapwatch.leakSuspects)})`, 'suspects'), 1))
    .withPanel(
      joinedTable(
        'Current suspects',
        "Each site suspected now, per instance: its growth over the detection window (V8's heap and its Buffers together), its live bytes on V8's heap and its Buffers outside it (estimated). The leak-suspected log record of the instance holds the traceback; /debug/heap shows the site among the others.",
        { width: 20, height: 5 },
        [
          { refId: 'A', name: 'growth', unit: 'bytes', query: table(`${select(heapwatch.siteGrowthBytes)} and ${suspectedNow}`, 'A') },
          { refId: 'B', name: 'live', unit: 'bytes', query: table(`${select(heapwatch.siteLiveBytes)} and ${suspectedNow}`, 'B') },
          { refId: 'C', name: 'outside the heap', unit: 'bytes', query: table(`${select(heapwatch.siteExternalBytes)} and ${suspectedNow}`, 'C') },
        ],
        ['__name__'],
      ),
    )
    .withPanel(
      joinedTable(
        'Sites by growth',
        'Every labelled site (the topSites largest of each instance, plus every suspect): its growth over the detection window, its live bytes and objects, and whether it is suspected (1), the largest of the selected instances.',
        { width: 24, height: 8 },
        [
          { refId: 'A', name: 'growth', unit: 'bytes', query: table(perSite(heapwatch.siteGrowthBytes), 'A') },
          { refId: 'B', name: 'live', unit: 'bytes', query: table(perSite(heapwatch.siteLiveBytes), 'B') },
          { refId: 'C', name: 'objects', unit: 'short', query: table(perSite(heapwatch.siteLiveObjects), 'C') },
          { refId: 'D', name: 'suspected', unit: 'none', query: table(perSite(heapwatch.siteLeakSuspected), 'D') },
          { refId: 'E', name: 'outside the heap', unit: 'bytes', query: table(perSite(heapwatch.siteExternalBytes), 'E') },
        ],
        [],
      ),
    )
    .withRow(new RowBuilder('Per site'))
    .withPanel(
      timeseries('Live bytes per site (top 10)', 'Estimated live bytes allocated by each site and still alive, from the samples of V8\'s sampling heap profiler. A site is a function: its name, file and the line it is declared on.', 'bytes', { width: 12, height: 9 }, [
        series(`topk(10, ${perSite(heapwatch.siteLiveBytes)})`, site),
      ]),
    )
    .withPanel(
      timeseries(
        "Buffers per site, outside V8's heap (top 10)",
        "Estimated ArrayBuffer memory (Buffer and typed-array contents) held through each site's objects: the process's exact total (nodejs_external_memory_bytes' ArrayBuffer part), shared by the sites holding V8's sampled Buffer objects, its growth by the sites whose Buffers grew. Apart from the live bytes on V8's heap; a site's memory is the sum. Socket chunks show at (native): the function that keeps them is not on their allocation stack.",
        'bytes',
        { width: 12, height: 9 },
        [series(`topk(10, ${perSite(heapwatch.siteExternalBytes)})`, site)],
      ),
    )
    .withPanel(
      timeseries('Growth per site over the detection window (top 10)', "Growth of each site's live bytes over the window (median of its last quarter minus the first's), against the growth threshold that, sustained, makes a site a suspect.", 'bytes', { width: 12, height: 9 }, [
        series(`topk(10, ${perSite(heapwatch.siteGrowthBytes)})`, site),
        series(`max(${select(heapwatch.growthThresholdBytes)})`, 'growth threshold'),
      ]),
    )
    .withRow(new RowBuilder('Allocation rate per site (Node 26, allocations: true)'))
    .withPanel(
      timeseries(
        'Allocation rate per site (top 10)',
        "Bytes each site allocates per second, live or soon collected (heapwatch_site_allocated_bytes_total: V8's sampler in allocation mode, Node 26 with allocations: true; empty otherwise). The garbage that keeps the GC busy: compare with the time in GC beside it.",
        'Bps',
        { width: 12, height: 9 },
        [series(`topk(10, sum by (function, file, line) (rate(${select(heapwatch.siteAllocatedBytesTotal)}[$__rate_interval])))`, site)],
      ),
    )
    .withPanel(
      timeseries('Time in GC', 'Seconds spent in garbage collection per second, by kind (nodejs_gc_duration_seconds): what the allocation beside it costs.', 'percentunit', { width: 12, height: 9 }, [
        series(`sum by (instance, kind) (rate(${select(`${nodejs.gcDurationSeconds}_sum`)}[$__rate_interval]))`, '{{kind}} {{instance}}'),
      ]),
    )
    .withRow(new RowBuilder('Heap'))
    .withPanel(
      timeseries('V8 heap against its limit', "V8's used heap, its 10-minute average, where that average is headed in 4 hours at the pace of the last hour (recording rules of deploy/prometheus), and V8's heap limit, at which the process aborts.", 'bytes', { width: 16, height: 9 }, [
        series(select(nodejs.heapUsedBytes), 'used {{instance}}'),
        series(heapAvg, '10 min average {{instance}}'),
        series(select(recorded.heapUsedPredicted4hBytes), 'projected in 4 h {{instance}}'),
        series(select(heapwatch.heapSizeLimitBytes), 'limit {{instance}}'),
      ]),
    )
    .withPanel(
      stat(
        'Time until the heap limit',
        "At the pace the 10-minute average heap grew over the last hour, the time until it reaches V8's heap limit. Empty while the heap is not growing.",
        'dtdurations',
        { width: 8, height: 9 },
        series(`min((${select(heapwatch.heapSizeLimitBytes)} - ${heapAvg}) / (deriv(${heapAvg}[1h]) > 0))`, 'time until the limit'),
      ).noValue('not growing'),
    )
    .withPanel(
      timeseries('Memory the sampler cannot attribute', "Memory outside V8's heap, which no site is charged for: external memory (C++ objects bound to JavaScript ones), of which ArrayBuffer and Buffer contents; the sampler sees their small wrapper objects only.", 'bytes', { width: 24, height: 8 }, [
        series(select(nodejs.externalMemoryBytes), 'external {{instance}}'),
        series(select(heapwatch.arrayBuffersBytes), 'array buffers {{instance}}'),
      ]),
    )
    .withRow(new RowBuilder("heapwatch's own cost"))
    .withPanel(
      timeseries('Reading duration', 'Main-thread time of one reading (read the sampler, sum per site, judge): the pause heapwatch adds, every intervalMs.', 's', { width: 8, height: 8 }, [
        series(`histogram_quantile(0.99, sum by (le, instance) (rate(${select(`${heapwatch.snapshotDurationSeconds}_bucket`)}[$__rate_interval])))`, 'p99 {{instance}}'),
        series(`histogram_quantile(0.5, sum by (le, instance) (rate(${select(`${heapwatch.snapshotDurationSeconds}_bucket`)}[$__rate_interval])))`, 'p50 {{instance}}'),
      ]),
    )
    .withPanel(
      timeseries('Readings, failures and forced GCs', 'Readings per second, readings that failed, and the full GCs heapwatch asked V8 for to confirm a rising site.', 'ops', { width: 8, height: 8 }, [
        series(`sum by (instance) (rate(${select(heapwatch.snapshotsTotal)}[$__rate_interval]))`, 'readings {{instance}}'),
        series(`sum by (instance) (rate(${select(heapwatch.snapshotErrorsTotal)}[$__rate_interval]))`, 'failed {{instance}}'),
        series(`sum by (instance) (rate(${select(heapwatch.forcedGcsTotal)}[$__rate_interval]))`, 'forced GCs {{instance}}'),
      ]),
    )
    .withPanel(
      timeseries('Sites tracked and dropped', 'Sites whose series heapwatch keeps (at most maxTrackedSites), and the sites of the latest reading it had to leave untracked.', 'short', { width: 5, height: 8 }, [
        series(select(heapwatch.sitesTracked), 'tracked {{instance}}'),
        series(select(heapwatch.sitesDropped), 'dropped {{instance}}'),
      ]),
    )
    .withPanel(
      stat('Sampling interval', "Mean bytes allocated between two samples of V8's sampling heap profiler: smaller is more precise and costs more.", 'bytes', { width: 3, height: 8 }, series(`max(${select(heapwatch.samplingIntervalBytes)})`, 'sampling interval')),
    )
    .build();
}
