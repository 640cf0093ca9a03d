/** A result of Prometheus' HTTP API: a vector or a matrix. */
export interface Series {
  readonly metric: Record<string, string>;
  readonly value?: [number, string];
  readonly values?: Array<[number, string]>;
}

async function get<T>(url: string): Promise<T> {
  const response = await fetch(url);
  const body = (await response.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${url}: ${body.error ?? response.status}`);
  return body.data;
}

/** Evaluates `expr` now (instant) or over the last `rangeSeconds` (range, one point every `stepSeconds`). */
export async function evaluate(prometheus: string, expr: string, instant: boolean, rangeSeconds = 60, stepSeconds = 2): Promise<Series[]> {
  const query = encodeURIComponent(expr);
  if (instant) return (await get<{ result: Series[] }>(`${prometheus}/api/v1/query?query=${query}`)).result;
  const end = Date.now() / 1000;
  const url = `${prometheus}/api/v1/query_range?query=${query}&start=${end - rangeSeconds}&end=${end}&step=${stepSeconds}`;
  return (await get<{ result: Series[] }>(url)).result;
}

/** The values of `label` among the series matching `selector` (Grafana's label_values). */
export function labelValues(prometheus: string, selector: string, label: string): Promise<string[]> {
  return get<string[]>(`${prometheus}/api/v1/label/${label}/values?match[]=${encodeURIComponent(selector)}`);
}

/** Prometheus' scrape targets and their health. */
export async function targets(prometheus: string): Promise<Array<{ scrapePool: string; health: string; lastError: string }>> {
  return (await get<{ activeTargets: Array<{ scrapePool: string; health: string; lastError: string }> }>(`${prometheus}/api/v1/targets`)).activeTargets;
}

/** An alert as Alertmanager's API v2 returns it. */
export interface AlertmanagerAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly receivers: Array<{ name: string }>;
  readonly status: { state: string };
}

/** The alerts Alertmanager holds now. */
export async function alertmanagerAlerts(alertmanager: string): Promise<AlertmanagerAlert[]> {
  const response = await fetch(`${alertmanager}/api/v2/alerts`);
  if (!response.ok) throw new Error(`${alertmanager}/api/v2/alerts: ${response.status}`);
  return (await response.json()) as AlertmanagerAlert[];
}
