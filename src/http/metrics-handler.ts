import type { ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { send, sendFailure } from './respond.js';

/** Serves the registry's page: heapwatch's metrics beside the application's own. */
export async function serveMetrics(res: ServerResponse, registry: Registry): Promise<void> {
  try {
    const page = await registry.metrics();
    send(res, 200, registry.contentType, page);
  } catch (error) {
    sendFailure(res, 'collecting metrics', error);
  }
}
