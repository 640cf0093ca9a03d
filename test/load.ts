import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Sends GET `url` one request after another (10 ms apart) until `until` settles, as the host's
 * traffic would go on during a fault: resolves with how many were sent and how many were not
 * answered 200 (refused, failed, or any other status).
 */
export async function keepRequesting(url: string, until: Promise<unknown>): Promise<{ sent: number; failed: number }> {
  let done = false;
  void until.then(
    () => (done = true),
    () => (done = true),
  );
  let sent = 0;
  let failed = 0;
  do {
    const response = await fetch(url).catch(() => undefined);
    sent++;
    if (response?.status !== 200) failed++;
    await response?.text().catch(() => undefined);
    await sleep(10);
  } while (!done);
  return { sent, failed };
}
