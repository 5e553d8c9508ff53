// The operator view: every merchant's queue at a glance, polled every second from
// GET /api/v1/operator/queue; throughput over the last hour as a chart; the dead
// letters with replay; volume and success rate per merchant.

import { get, poll, post, query } from './api.js';
import { announce, errorBox, fields, h, money, show, table } from './dom.js';
import { lineChart } from './chart.js';

const LIVE_MS = 1000;
const SLOW_EVERY = 5; // throughput, merchants and dead letters every 5th tick

function seconds(value) {
  return value === null || value === undefined ? '—' : `${Number(value).toFixed(1)} s`;
}

function metricsList(m) {
  return fields([
    ['Queue depth', h('span', { id: 'm-length' }, m.length)],
    ['Pending entries', h('span', { id: 'm-pending' }, m.pending)],
    ['Oldest pending age', seconds(m.oldest_pending_age_s)],
    ['Lag (oldest due payment)', h('span', { id: 'm-lag' }, seconds(m.lag_s))],
    ['Retries scheduled', h('span', { id: 'm-retry' }, m.retry_scheduled)],
    ['Dead letters', h('span', { id: 'm-dead' }, m.dead_letters)],
    ['Unknown outcomes (flagged)', h('span', { id: 'm-unknown' }, `${m.unknown_outcomes} (${m.flagged_unknown_outcomes})`)],
    ['Orphan charges open / reversed', h('span', { id: 'm-orphans' }, `${m.orphan_charges_open} / ${m.orphan_charges_reversed}`)],
  ]);
}

function throughputChart(t) {
  const labels = t.data.map((p) => p.at.slice(11, 16));
  const total = (name) => t.data.reduce((sum, p) => sum + p[name], 0);
  const summary = `In the last ${t.data.length} minutes: ${total('accepted')} accepted, `
    + `${total('succeeded')} succeeded, ${total('failed')} failed.`;
  return lineChart('Payments per minute (UTC)', labels, [
    { name: 'accepted', colour: '#1f5fbf', values: t.data.map((p) => p.accepted) },
    { name: 'succeeded', colour: '#1b7f3b', values: t.data.map((p) => p.succeeded) },
    { name: 'failed', colour: '#b3261e', values: t.data.map((p) => p.failed) },
  ], summary);
}

export function render(container) {
  const message = h('div', { id: 'operator-message' });
  const metrics = h('section', { 'aria-labelledby': 'h-queue', id: 'queue' }, h('h2', { id: 'h-queue' }, 'Payments queue'));
  const throughput = h('section', { 'aria-labelledby': 'h-throughput' }, h('h2', { id: 'h-throughput' }, 'Throughput, last hour'));
  const dead = h('section', { 'aria-labelledby': 'h-dead' }, h('h2', { id: 'h-dead' }, 'Dead letters'));
  const merchants = h('section', { 'aria-labelledby': 'h-merchants' }, h('h2', { id: 'h-merchants' }, 'Merchants, last 24 hours'));
  show(container, h('h1', { tabindex: '-1' }, 'Operator'), message, metrics, throughput, dead, merchants);

  async function replay(ids) {
    try {
      const result = await post('/operator/dead_letters/replay', ids ? { ids } : {});
      const text = `Replayed ${result.replayed}; removed ${result.removed} dead letter(s).`;
      show(message, h('p', { class: 'ok', role: 'status' }, text));
      announce(text);
      tick = 0;
      refresh();
    } catch (error) {
      show(message, errorBox(error));
    }
  }

  const seen = {};
  function redraw(name, data, section, build) {
    const text = JSON.stringify(data);
    if (seen[name] === text) return;
    seen[name] = text;
    show(section, section.firstChild, build());
  }

  let tick = 0;
  async function refresh() {
    const slow = tick % SLOW_EVERY === 0;
    tick += 1;
    let m;
    try {
      m = await get('/operator/queue');
    } catch (error) {
      if (seen.error !== error.message) {
        seen.error = error.message;
        show(message, errorBox(error));
      }
      return;
    }
    const { at, ...figures } = m;
    redraw('metrics', figures, metrics, () => metricsList(m));
    metrics.setAttribute('data-at', at);
    if (!slow) return;
    const [t, letters, volume] = await Promise.all([
      get('/operator/throughput'),
      get(`/operator/dead_letters${query({ limit: 100 })}`),
      get(`/operator/merchants${query({ limit: 20 })}`),
    ]);
    redraw('throughput', t, throughput, () => throughputChart(t));
    redraw('dead', letters.data, dead, () => [
      letters.data.length
        ? [table('Dead-lettered entries, oldest first', ['Dead letter', 'Stream', 'Object', 'Deliveries', 'Error', 'Action'],
          letters.data.map((d) => h('tr', { 'data-id': d.id },
            h('td', {}, d.id), h('td', {}, d.stream), h('td', {}, d.object_id), h('td', { class: 'num' }, d.deliveries),
            h('td', {}, d.error),
            h('td', {}, h('button', { type: 'button', class: 'small', 'aria-label': `Replay ${d.object_id}`, onclick: () => replay([d.id]) }, 'Replay')))),
          { id: 'dead-letters' }),
        h('button', { type: 'button', id: 'replay-all', onclick: () => replay(null) }, 'Replay all')]
        : h('p', { id: 'no-dead-letters' }, 'No dead letters.')]);
    redraw('merchants', volume.data, merchants, () => volume.data.length
      ? table('Busiest merchants', ['Merchant', 'Name', 'Payments', 'Succeeded', 'Failed', 'Success rate', 'Volume'],
        volume.data.map((v) => h('tr', {},
          h('td', {}, v.merchant_id), h('td', {}, v.name), h('td', { class: 'num' }, v.payments),
          h('td', { class: 'num' }, v.succeeded), h('td', { class: 'num' }, v.failed),
          h('td', { class: 'num' }, v.success_rate === null ? '—' : `${(v.success_rate * 100).toFixed(1)} %`),
          h('td', {}, v.volume.map((c) => money(c.amount, c.currency)).join(', ') || '—'))),
        { id: 'merchant-volume' })
      : h('p', {}, 'No payments in the last 24 hours.'));
  }
  return poll(refresh, LIVE_MS);
}
