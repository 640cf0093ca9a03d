import { ErrorCode, HeapwatchError } from '../errors.js';

/** Renders a received value for an error message: strings quoted, everything else as JS would print it. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `an array`;
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function invalidOption(name: string, expected: string, received: unknown): HeapwatchError {
  return new HeapwatchError(
    ErrorCode.INVALID_OPTION,
    `Invalid option "${name}": expected ${expected}, received ${describeValue(received)}`,
  );
}

/** Checks `value` is an integer in [min, max]; returns it, so defaults can be applied in one expression. */
export function integerOption(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw invalidOption(name, `an integer ${range}`, value);
  }
  return value;
}

/** Checks `value` is a finite number in [min, max]; returns it. */
export function numberOption(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidOption(name, `a number between ${min} and ${max}`, value);
  }
  return value;
}

/** `true` or `false`, or `fallback` when absent. */
export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(name, 'true or false', value);
  return value;
}

export function oneOfOption<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidOption(name, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
  }
  return value as T;
}

export function stringArrayOption(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.length > 0)) {
    throw invalidOption(name, 'an array of non-empty strings', value);
  }
  return [...value] as string[];
}

/** Rejects keys the caller misspelt: a silently ignored `samplingInterval` would leave the default in force. */
export function rejectUnknownKeys(options: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new HeapwatchError(
        ErrorCode.INVALID_OPTION,
        `Unknown option "${key}" for ${where}: expected one of ${known.join(', ')}`,
      );
    }
  }
}

export function objectOption(name: string, value: unknown): object {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOption(name, 'an options object', value);
  }
  return value;
}
