/** One media range of an Accept header, with its weight. */
interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
}

function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [range = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const [type, subtype] = range.split('/');
    if (!type || !subtype) continue;
    const qParam = params.find((param) => param.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    ranges.push({ type, subtype, q: Number.isFinite(q) ? Math.min(1, Math.max(0, q)) : 0 });
  }
  return ranges;
}

/** The weight `ranges` give `type/subtype`: that of the most specific range that matches it (RFC 9110 §12.5.1), 0 when none does. */
function weightOf(ranges: readonly MediaRange[], type: string, subtype: string): number {
  let best: MediaRange | undefined;
  let bestSpecificity = -1;
  for (const range of ranges) {
    const specificity = range.type === type && range.subtype === subtype ? 2 : range.type === type && range.subtype === '*' ? 1 : range.type === '*' ? 0 : -1;
    if (specificity > bestSpecificity) {
      best = range;
      bestSpecificity = specificity;
    }
  }
  return best?.q ?? 0;
}

/**
 * Whether an `Accept` header prefers HTML to the two other answers of `/debug/heap` (plain text
 * and JSON): a browser's navigation does (`text/html,…,*\/*;q=0.8`); curl's `*\/*` and a missing
 * header do not, so scripts keep getting text.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const ranges = parseAccept(accept);
  const html = weightOf(ranges, 'text', 'html');
  return html > 0 && html > weightOf(ranges, 'text', 'plain') && html > weightOf(ranges, 'application', 'json');
}
