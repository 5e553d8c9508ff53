// A small hand-drawn SVG line chart (no library): a few series over a shared x axis.
// Colours are paired with a legend in words and a text summary for screen readers.

import { h, svg } from './dom.js';

const W = 640;
const H = 200;
const PAD = { left: 40, right: 24, top: 10, bottom: 24 };

/**
 * series: [{name, colour, values: number[]}]; labels: x labels (same length).
 * Returns a <figure> with the chart, its legend and a caption.
 */
export function lineChart(title, labels, series, summary) {
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const n = Math.max(1, labels.length - 1);
  const x = (i) => PAD.left + (i * (W - PAD.left - PAD.right)) / n;
  const y = (v) => H - PAD.bottom - (v * (H - PAD.top - PAD.bottom)) / max;
  const grid = [0, 0.5, 1].map((f) => {
    const value = Math.round(max * f);
    return [
      svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(value), y2: y(value), stroke: '#d0d4da', 'stroke-width': 1 }),
      svg('text', { x: PAD.left - 6, y: y(value) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#333' }, value),
    ];
  });
  const ticks = labels.map((label, i) => (i % 15 === 0 || i === labels.length - 1)
    ? svg('text', { x: x(i), y: H - 6, 'text-anchor': 'middle', 'font-size': 11, fill: '#333' }, label) : null);
  const lines = series.map((s) => svg('polyline', {
    fill: 'none', stroke: s.colour, 'stroke-width': 2,
    points: s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' '),
  }));
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title}. ${summary}`, class: 'chart' },
    svg('title', {}, title), grid, ticks, lines);
  const legend = h('ul', { class: 'legend' }, series.map((s) => h('li', {},
    svg('svg', { width: 14, height: 14, 'aria-hidden': 'true' }, svg('rect', { width: 14, height: 14, fill: s.colour })),
    ` ${s.name}`)));
  return h('figure', {}, chart, legend, h('figcaption', {}, summary));
}
