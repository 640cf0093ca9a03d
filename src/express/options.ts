import type { MeterProvider } from '@opentelemetry/api';
import { register as globalRegistry } from 'prom-client';
import type { Registry } from 'prom-client';
import type { HeapMonitorOptions, ResolvedMonitorOptions } from '../monitor/options.js';
import { MONITOR_OPTION_NAMES, resolveMonitorOptions } from '../monitor/options.js';
import { ErrorCode, HeapwatchError } from '../errors.js';
import { booleanOption, invalidOption, objectOption } from '../options/validate.js';

/** Options of {@link heapwatch}: the monitor's options, and where its figures are served. */
export interface HeapwatchOptions extends HeapMonitorOptions {
  /** Path of the Prometheus page, relative to where the middleware is mounted; `false` serves none. Default: `'/metrics'`. */
  readonly metricsPath?: string | false;
  /** prom-client registry heapwatch's metrics go to. Default: prom-client's global `register`. */
  readonly registry?: Registry;
  /** Also register prom-client's `collectDefaultMetrics()` on the registry, unless already there. Default: `true`. */
  readonly defaultMetrics?: boolean;
  /**
   * OpenTelemetry MeterProvider of heapwatch's instruments. Default: the global one, followed — an
   * SDK registered after heapwatch() gets the instruments at the monitor's next reading.
   */
  readonly meterProvider?: MeterProvider;
  /** Serve `/debug/heap`, `/debug/pprof/heap` and `/debug/pprof/allocs`. Default: `false`. */
  readonly debug?: boolean;
  /**
   * Bearer token the debug endpoints require (at least 16 characters). Without one they answer
   * loopback clients only, and only requests that came through no proxy. Default: none.
   */
  readonly debugToken?: string;
  /**
   * Replace function names and file paths in the metric labels (Prometheus `function` and `file`,
   * OpenTelemetry `code.function.name` and `code.file.path`) by stable 12-hex-digit hashes, for
   * teams whose metrics must not show their code's names; lines and columns stay. The leak records
   * of the log carry both, to map a hash back. Default: `false`.
   */
  readonly redactSites?: boolean;
}

export interface ResolvedHeapwatchOptions {
  /** The monitor's options as given (the monitor validates them itself)… */
  readonly monitorOptions: HeapMonitorOptions;
  /** …and as resolved, to compare with a running monitor's. */
  readonly monitor: ResolvedMonitorOptions;
  readonly metricsPath: string | false;
  readonly registry: Registry;
  readonly defaultMetrics: boolean;
  /** The provider given, or undefined: follow the global one. */
  readonly meterProvider: MeterProvider | undefined;
  readonly debug: boolean;
  readonly debugToken: string | undefined;
  readonly redactSites: boolean;
}

export const HEAPWATCH_OPTION_NAMES = [
  ...MONITOR_OPTION_NAMES,
  'metricsPath',
  'registry',
  'defaultMetrics',
  'meterProvider',
  'debug',
  'debugToken',
  'redactSites',
] as const;

function metricsPathOption(value: unknown): string | false {
  if (value === undefined) return '/metrics';
  if (value === false) return false;
  if (typeof value !== 'string' || !/^\/[^?#\s]*$/.test(value)) {
    throw invalidOption('metricsPath', 'a path starting with "/" (no query, no spaces) or false', value);
  }
  return value;
}

function registryOption(value: unknown): Registry {
  if (value === undefined) return globalRegistry;
  const candidate = value as Partial<Registry> | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.metrics !== 'function' || typeof candidate.getSingleMetric !== 'function') {
    throw invalidOption('registry', 'a prom-client Registry', value);
  }
  return value as Registry;
}

function meterProviderOption(value: unknown): MeterProvider | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as Partial<MeterProvider>).getMeter !== 'function') {
    throw invalidOption('meterProvider', 'an OpenTelemetry MeterProvider (an object with getMeter())', value);
  }
  return value as MeterProvider;
}

function debugTokenOption(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const expected = 'a string of at least 16 characters without spaces';
  if (typeof value !== 'string') throw invalidOption('debugToken', expected, value);
  if (value.length < 16 || /\s/.test(value)) {
    // A secret is never echoed, not even a bad one.
    throw new HeapwatchError(
      ErrorCode.INVALID_OPTION,
      `Invalid option "debugToken": expected ${expected}, received a string of ${value.length} characters`,
    );
  }
  return value;
}

/** Validates heapwatch()'s options once, at construction; each error names the option. */
export function resolveHeapwatchOptions(options: unknown): ResolvedHeapwatchOptions {
  const given = objectOption('options', options) as Record<string, unknown>;
  const monitorOptions: Record<string, unknown> = {};
  for (const name of MONITOR_OPTION_NAMES) if (name in given) monitorOptions[name] = given[name];
  return {
    monitorOptions: monitorOptions as HeapMonitorOptions,
    // Checks every name of `given` against all of heapwatch()'s options, so a typo is caught here.
    monitor: resolveMonitorOptions(given, HEAPWATCH_OPTION_NAMES),
    metricsPath: metricsPathOption(given.metricsPath),
    registry: registryOption(given.registry),
    defaultMetrics: booleanOption('defaultMetrics', given.defaultMetrics, true),
    meterProvider: meterProviderOption(given.meterProvider),
    debug: booleanOption('debug', given.debug, false),
    debugToken: debugTokenOption(given.debugToken),
    redactSites: booleanOption('redactSites', given.redactSites, false),
  };
}
