// Where a long benchmark writes its files: bench/results/<UTC stamp>/, the layout of
// bench/run-all.sh (`date -u +%Y-%m-%dT%H%MZ`), so that one run's files sit together.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** `2026-11-28T0738Z` for a date: minutes are enough to tell runs apart. */
export function utcStamp(date = new Date()) {
  const iso = date.toISOString();
  return `${iso.slice(0, 13)}${iso.slice(14, 16)}Z`;
}

/** Creates (if needed) and returns `dir`, or bench/results/<UTC stamp of now> when `dir` is empty. */
export function resultsDir(dir) {
  const path = dir || join('bench', 'results', utcStamp());
  mkdirSync(path, { recursive: true });
  return path;
}
