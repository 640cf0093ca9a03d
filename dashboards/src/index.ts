import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { allocationSitesDashboard } from './allocation-sites.js';
import { nodeProcessDashboard } from './node-process.js';

/** The committed dashboards, by their file name in dashboards/, from their generators. */
export function dashboards(): Record<string, Dashboard> {
  return {
    'heapwatch-allocation-sites.json': allocationSitesDashboard(),
    'nodejs-process-memory.json': nodeProcessDashboard(),
  };
}

/** A dashboard's file as committed: the JSON Grafana imports, two-space indented, one final newline. */
export const dashboardFile = (dashboard: Dashboard): string => `${JSON.stringify(dashboard, null, 2)}\n`;
