// Small helpers the benchmarks share: --name=value flags, the median, and the command line that
// reproduces a run (printed above each result table).
import path from 'node:path';

/** `--name=value` flags over defaults; an unknown flag is an error that lists the known ones. */
export function parseFlags(argv, defaults) {
  const flags = { ...defaults };
  for (const arg of argv) {
    const match = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (!match || !(match[1] in defaults)) {
      throw new Error(`Unknown argument "${arg}" - expected one of ${Object.keys(defaults).map((name) => `--${name}=`).join(', ')}`);
    }
    flags[match[1]] = match[2];
  }
  return flags;
}

/** The median (for an even count, the mean of the two middle values). */
export function medianOf(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** `node bench/x.mjs --flag=…` as typed, relative to the working directory. */
export function shellCommand() {
  return ['node', path.relative(process.cwd(), process.argv[1]), ...process.argv.slice(2)].join(' ');
}
