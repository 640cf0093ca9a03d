/**
 * Internal, not public (not exported from the package's index): which turnover the detector uses
 * in allocation mode, so that the benchmarks can run both side by side. `measured`: from each
 * site's freed bytes (`measuredTurnoverVariancePerMs`); otherwise from the falling steps of its
 * readings, as in live mode. Read by each monitor when it is created; set by
 * bench/lib/watched-workload.mjs and test/scenarios/run-scenario.mjs before they create theirs.
 */
export const turnoverSwitch: { measured: boolean } = { measured: false };
