const UNITS = ['B', 'KiB', 'MiB', 'GiB'] as const;

/**
 * Formats bytes the way tracemalloc does (`_format_size`): whole numbers up to 10 KiB-worth of a
 * unit, one decimal below 100 of a larger unit; `+` in front of a positive difference.
 * 1258291 → "1.2 MiB", 2449408 → "2392 KiB", 120 → "120 B".
 */
export function formatSize(bytes: number, signed = false): string {
  let value = bytes;
  for (const unit of UNITS) {
    const magnitude = Math.abs(value);
    if (magnitude < 100 && unit !== 'B') return `${sign(value, signed)}${value.toFixed(1)} ${unit}`;
    if (magnitude < 10 * 1024 || unit === 'GiB') return `${sign(value, signed)}${value.toFixed(0)} ${unit}`;
    value /= 1024;
  }
  return `${bytes} B`; // unreachable: the loop returns at GiB
}

function sign(value: number, signed: boolean): string {
  return signed && value >= 0 ? '+' : '';
}

/** A count difference with its sign, as tracemalloc prints it (`%+i`). */
export function formatSignedCount(count: number): string {
  return count >= 0 ? `+${count}` : String(count);
}
