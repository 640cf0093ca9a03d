/**
 * The name the Collector's prometheus exporter gives an instrument, by its default translation:
 * characters other than letters, digits and colons become underscores, the unit becomes a suffix
 * (By → bytes, s → seconds; annotations in braces are dropped), counters end in _total. The
 * Collector cannot be installed here: this is its documented rule, applied to heapwatch's names.
 */
export function collectorName(name: string, unit: string, counter: boolean): string {
  const units: Record<string, string> = { By: 'bytes', s: 'seconds' };
  let translated = name.replace(/[^a-zA-Z0-9:]/g, '_');
  const suffix = units[unit.replace(/\{[^}]*\}/g, '')] ?? '';
  if (suffix && !translated.endsWith(`_${suffix}`)) translated += `_${suffix}`;
  return counter ? `${translated}_total` : translated;
}

/** An attribute's name as a Prometheus label (code.function.name → code_function_name). */
export const collectorLabel = (attribute: string): string => attribute.replace(/[^a-zA-Z0-9_]/g, '_');
