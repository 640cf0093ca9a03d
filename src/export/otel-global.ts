import { createNoopMeter, metrics } from '@opentelemetry/api';
import type { MeterProvider } from '@opentelemetry/api';
import type { HeapMonitor } from '../monitor/monitor.js';
import type { ThreadFiguresSource } from './isolates.js';
import { observeWithOpenTelemetry } from './otel.js';
import type { SiteLabelOptions } from './otel.js';

const NoopMeter = createNoopMeter().constructor;

/** Whether `provider` is the API's stand-in, which `metrics.getMeterProvider()` returns until an SDK registers. */
function isNoop(provider: MeterProvider): boolean {
  return provider.getMeter('heapwatch') instanceof NoopMeter;
}

/**
 * Keeps heapwatch's instruments on whatever MeterProvider is registered globally, and follows it:
 * an SDK registered after heapwatch() — the order of an app that starts its SDK in `main` after
 * building the app — gets them at the monitor's next reading (within `intervalMs`); a provider
 * that is disabled or replaced loses them. Until an SDK registers, nothing is attached: the API's
 * no-op provider would swallow every observation. Returns the function that stops following.
 */
export function followGlobalMeterProvider(monitor: HeapMonitor, threads?: ThreadFiguresSource, labels: SiteLabelOptions = {}): () => void {
  let seen: MeterProvider | undefined;
  let detach: (() => void) | undefined;
  const follow = (): void => {
    const current = metrics.getMeterProvider();
    if (current === seen) return; // one identity check per reading while nothing changes
    seen = current;
    detach?.();
    detach = undefined;
    if (!isNoop(current)) detach = observeWithOpenTelemetry(monitor, current, threads, labels);
  };
  follow();
  monitor.on('reading', follow);
  return () => {
    monitor.off('reading', follow);
    detach?.();
    detach = undefined;
  };
}
