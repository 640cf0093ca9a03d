// pm2 start examples/pm2/ecosystem.config.cjs   (PM2 7; `pm2` installed beside the app for metrics.mjs)
module.exports = {
  apps: [
    { name: 'orders', script: 'app.mjs', exec_mode: 'cluster', instances: 2, env: { PORT: '8080' } },
    { name: 'orders-metrics', script: 'metrics.mjs', exec_mode: 'fork', env: { APP_NAME: 'orders', METRICS_PORT: '9100' } },
  ],
};
