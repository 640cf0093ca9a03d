// A line chart as an SVG string, by hand: a long run draws its own figure without a plotting
// dependency. Several series share one x axis (minutes) and one y axis (MiB), from zero up, so
// that a flat line looks flat and a small series is not stretched to fill the height.

const WIDTH = 720;
const HEIGHT = 360;
const MARGIN = { left: 64, right: 180, top: 28, bottom: 44 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round step that gives about `count` ticks over [0, max]. */
function tickStep(max, count) {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw);
}

/**
 * `series`: `[{ name, points: [{ x, y }] }]`. Returns the SVG document: axes with ticks, one
 * polyline and one legend entry per series.
 */
export function lineChartSvg({ title, xLabel, yLabel, series }) {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const xMax = Math.max(1, ...xs);
  const yStep = tickStep(Math.max(1, ...ys) * 1.05, 6);
  const yMax = Math.ceil((Math.max(1, ...ys) * 1.05) / yStep) * yStep;
  const xStep = tickStep(xMax, 8);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x) => (MARGIN.left + (x / xMax) * plotW).toFixed(1);
  const py = (y) => (MARGIN.top + plotH - (y / yMax) * plotH).toFixed(1);

  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="16" text-anchor="middle" font-size="13">${escape(title)}</text>`,
  ];
  for (let y = 0; y <= yMax + 1e-9; y += yStep) {
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${py(y)}" dy="4" text-anchor="end">${Number(y.toPrecision(6))}</text>`);
  }
  for (let x = 0; x <= xMax + 1e-9; x += xStep) {
    parts.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 4}" stroke="#333"/>`);
    parts.push(`<text x="${px(x)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${Number(x.toPrecision(6))}</text>`);
  }
  parts.push(`<polyline points="${MARGIN.left},${MARGIN.top} ${MARGIN.left},${MARGIN.top + plotH} ${MARGIN.left + plotW},${MARGIN.top + plotH}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">${escape(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`);
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const points = s.points.map((p) => `${px(p.x)},${py(p.y)}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    const ly = MARGIN.top + 10 + i * 18;
    parts.push(`<line x1="${WIDTH - MARGIN.right + 12}" x2="${WIDTH - MARGIN.right + 32}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<text x="${WIDTH - MARGIN.right + 38}" y="${ly}" dy="4">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
