// Writes the generated dashboards into dashboards/: `npm run dashboards`. The JSON is committed;
// test/dashboards/dashboards.test.ts fails when it differs from what the generators build.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dashboardFile, dashboards } from './index.js';

// Compiled into .test-build/dashboards/src/: the repository's dashboards/ is three levels up.
const folder = fileURLToPath(new URL('../../../dashboards/', import.meta.url));
for (const [name, dashboard] of Object.entries(dashboards())) {
  writeFileSync(`${folder}${name}`, dashboardFile(dashboard));
  console.log(`dashboards/${name}`);
}
