// Webhooks: endpoints (create, rotate secret, delete) and recent deliveries with
// every attempt and response code. A signing secret is shown once, when the API
// returns it, and is never stored by the page.

import { del, get, poll, post, query } from './api.js';
import { announce, badge, errorBox, h, show, table, when } from './dom.js';

const EVENT_TYPES = ['payment.authorized', 'payment.captured', 'payment.succeeded', 'payment.failed', 'payment.cancelled', 'payment.charge_reversed', 'refund.succeeded', 'refund.failed'];
const LIVE_MS = 2000;
const RECENT_EVENTS = 10;
const NO_RECORD = { idempotencyKey: null }; // answers with a secret: no idempotency record

function secretNotice(endpoint) {
  return h('div', { class: 'secret', role: 'alert', id: 'secret-notice' },
    h('p', {}, `Signing secret of ${endpoint.id}. Copy it now: it will not be shown again.`),
    h('code', { id: 'secret-value' }, endpoint.secret));
}

function attemptsList(deliveries) {
  if (!deliveries.length) return h('p', {}, 'No delivery attempts (no endpoint subscribed).');
  return h('ul', { class: 'plain attempts' }, deliveries.map((d) => h('li', {},
    `${d.endpoint_id} · attempt ${d.attempt} · `, badge(d.status),
    ` · HTTP ${d.response_status ?? '—'}`,
    d.error && d.error !== `HTTP ${d.response_status}` ? ` · ${d.error}` : '',
    d.duration_ms !== null ? ` · ${d.duration_ms} ms` : '',
    ` · ${when(d.at)}`)));
}

export function render(container) {
  const message = h('div', { id: 'webhook-message' });
  const urlInput = h('input', { id: 'endpoint-url', name: 'url', type: 'url', required: true, autocomplete: 'off' });
  const boxes = EVENT_TYPES.map((type) => h('input', { type: 'checkbox', id: `ev-${type}`, value: type, checked: true }));
  const form = h('form', { class: 'card', id: 'endpoint-form', 'aria-label': 'New webhook endpoint' },
    h('label', { for: 'endpoint-url' }, 'Endpoint URL'), urlInput,
    h('fieldset', {}, h('legend', {}, 'Events'),
      boxes.map((box) => h('div', {}, box, h('label', { for: box.id }, box.value)))),
    h('button', { type: 'submit', id: 'endpoint-create' }, 'Add endpoint'));
  const endpointsSection = h('section', { 'aria-labelledby': 'h-endpoints' });
  const deliveriesSection = h('section', { 'aria-labelledby': 'h-deliveries' });
  show(container, h('h1', { tabindex: '-1' }, 'Webhooks'), form, message, endpointsSection, deliveriesSection);

  async function act(promise, label) {
    try {
      const result = await promise;
      const notice = result && result.secret ? secretNotice(result) : h('p', { class: 'ok', role: 'status' }, label(result));
      show(message, notice);
      announce(label(result));
      refresh();
    } catch (error) {
      show(message, errorBox(error));
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const events = boxes.filter((b) => b.checked).map((b) => b.value);
    act(post('/webhook_endpoints', { url: urlInput.value.trim(), events }, NO_RECORD), (e) => `Endpoint ${e.id} added.`);
  });

  const seen = {};
  async function refresh() {
    let endpoints, events;
    try {
      [endpoints, events] = await Promise.all([
        get(`/webhook_endpoints${query({ limit: 100 })}`),
        get(`/events${query({ limit: RECENT_EVENTS })}`),
      ]);
    } catch (error) {
      show(endpointsSection, errorBox(error));
      return;
    }
    const detailed = await Promise.all(events.data.map((e) => get(`/events/${e.id}`).catch(() => ({ ...e, deliveries: [] }))));
    const endpointsText = JSON.stringify(endpoints.data);
    if (seen.endpoints !== endpointsText) {
      seen.endpoints = endpointsText;
      show(endpointsSection, h('h2', { id: 'h-endpoints' }, 'Endpoints'),
        endpoints.data.length ? table('Webhook endpoints', ['Endpoint', 'URL', 'Events', 'Status', 'Created', 'Actions'],
          endpoints.data.map((ep) => h('tr', { 'data-id': ep.id },
            h('td', {}, ep.id), h('td', {}, ep.url), h('td', {}, ep.events.join(', ')),
            h('td', {}, badge(ep.status)), h('td', {}, when(ep.created_at)),
            h('td', {},
              h('button', { type: 'button', class: 'small', 'aria-label': `Rotate secret of ${ep.id}`,
                onclick: () => act(post(`/webhook_endpoints/${ep.id}/rotate_secret`, undefined, NO_RECORD), () => 'Secret rotated.') }, 'Rotate secret'),
              ' ',
              h('button', { type: 'button', class: 'small', 'aria-label': `Delete ${ep.id}`,
                onclick: () => act(del(`/webhook_endpoints/${ep.id}`), () => `Endpoint ${ep.id} deleted.`) }, 'Delete')))),
          { id: 'endpoints-table' }) : h('p', {}, 'No endpoints yet.'));
    }
    const deliveriesText = JSON.stringify(detailed);
    if (seen.deliveries !== deliveriesText) {
      seen.deliveries = deliveriesText;
      show(deliveriesSection, h('h2', { id: 'h-deliveries' }, `Deliveries of the latest ${RECENT_EVENTS} events`),
        detailed.length ? h('ul', { class: 'plain deliveries', id: 'deliveries' }, detailed.map((e) => h('li', { 'data-event': e.id },
          h('p', {}, h('strong', {}, e.type), ` · ${e.id} · ${when(e.created_at)} `,
            h('button', { type: 'button', class: 'small', 'aria-label': `Redeliver ${e.type} ${e.id}`,
              onclick: () => act(post(`/events/${e.id}/redeliver`), (r) => `Redelivered to ${r.redelivered} endpoint(s).`) }, 'Redeliver')),
          attemptsList(e.deliveries || [])))) : h('p', {}, 'No events yet.'));
    }
  }
  return poll(refresh, LIVE_MS);
}
