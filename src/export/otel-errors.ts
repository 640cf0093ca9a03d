import { WarningCode, warnOnce } from '../errors.js';

/**
 * Calls into OpenTelemetry that threw: the application's MeterProvider or meter (a broken wrapper,
 * a provider torn down), or an observation in heapwatch's batch callback. One count per process,
 * whatever provider threw: the Prometheus page reports it as `heapwatch_otel_errors_total`.
 */
let failures = 0;

/** How many calls into OpenTelemetry threw since the process started. */
export function otelErrors(): number {
  return failures;
}

/**
 * Counts a call into OpenTelemetry that threw, and says it once per process as a coded warning
 * (through the process, not the logger: the failure may be the SDK's logging path). The caller
 * then goes on without it: OpenTelemetry is an export, never a reason to fail the host or a reading.
 */
export function otelFailed(what: string, error: unknown): void {
  failures++;
  const reason = error instanceof Error ? error.message : String(error);
  warnOnce(
    WarningCode.OTEL_FAILED,
    `OpenTelemetry threw when heapwatch ${what} (${reason}); heapwatch goes on without it, counted in heapwatch_otel_errors_total`,
  );
}
