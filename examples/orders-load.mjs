// What the framework examples share: demo-friendly options (readings every second over a 20 s
// window, fine sampling: the leak is caught in about 20 s; the defaults are for production, see the
// README) and a load loop that sends ~100 requests a second to GET /orders/<n> until heapwatch
// suspects the leak — its pino record names the function — then closes the app.
export const demoOptions = { intervalMs: 1000, windowMs: 20_000, growthThresholdBytes: 2 * 1024 * 1024, samplingIntervalBytes: 32 * 1024, debug: true };

/** The example's leak: every order view is kept, forever. */
const viewedOrders = [];
export function rememberOrderView(id) {
  viewedOrders.push({ id, at: new Date().toISOString(), lines: new Array(1000).fill(id) });
}

export function sendOrders(base, monitor, close) {
  console.error(`serving on ${base}: ${base}/metrics, and in a browser on this machine ${base}/debug/heap`);
  let sent = 0;
  const load = setInterval(() => {
    for (let i = 0; i < 5; i++) fetch(`${base}/orders/${sent++}`).then((response) => response.arrayBuffer(), () => undefined);
  }, 50);
  monitor.once('leak-suspected', async (report) => {
    clearInterval(load);
    console.error(`example: heapwatch suspected ${report.site.functionName} after ${sent} requests; closing`);
    await close();
  });
}
