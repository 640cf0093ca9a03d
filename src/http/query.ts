import { describeValue } from '../options/validate.js';

/** A request parameter that is missing its mark: answered with a 400 and this message. */
export class BadRequest extends Error {
  override readonly name = 'BadRequest';
}

/**
 * The query of `url`, checked: only `allowed` names, each at most once. Unknown parameters are
 * refused rather than ignored, so that a misspelt `?secnds=30` does not silently mean "now".
 */
export function parseQuery(url: string, allowed: readonly string[]): URLSearchParams {
  const question = url.indexOf('?');
  const params = new URLSearchParams(question === -1 ? '' : url.slice(question + 1));
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (!allowed.includes(name)) {
      const expected = allowed.length === 0 ? 'no parameters' : `only ${allowed.join(', ')}`;
      throw new BadRequest(`unknown parameter ${describeValue(name)}: expected ${expected}`);
    }
    if (seen.has(name)) throw new BadRequest(`parameter "${name}" given more than once`);
    seen.add(name);
  }
  return params;
}

/** An integer parameter in [min, max], or `fallback` when absent. */
export function integerParam(params: URLSearchParams, name: string, min: number, max: number, fallback: number | undefined): number | undefined {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const value = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new BadRequest(`parameter "${name}" must be an integer between ${min} and ${max}, received ${describeValue(raw)}`);
  }
  return value;
}

/** One of `allowed`, or the first of them when absent. */
export function choiceParam<T extends string>(params: URLSearchParams, name: string, allowed: readonly [T, ...T[]]): T {
  const raw = params.get(name);
  if (raw === null) return allowed[0];
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new BadRequest(`parameter "${name}" must be one of ${allowed.join(', ')}, received ${describeValue(raw)}`);
  }
  return raw as T;
}

/** The path of a request URL, without its query. */
export function pathOf(url: string): string {
  const question = url.indexOf('?');
  return question === -1 ? url : url.slice(0, question);
}
