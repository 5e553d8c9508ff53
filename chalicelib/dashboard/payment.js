// One payment: its fields, its history as a timeline (each attempt's outcome and
// latency), its refunds and events, and the actions that apply to its status: capture
// (full or partial) and void while AUTHORIZED, cancel while PENDING, refund while SUCCESS
// with something captured left to refund, redeliver.
// Everything is fetched again every second; a section is redrawn only when its
// data changed, so a form being filled in or a focused button is left alone.

import { get, poll, post, query } from './api.js';
import { announce, badge, errorBox, fields, h, money, show, table, when } from './dom.js';

const LIVE_MS = 1000;

function method(p) {
  if (p.card) return `card: ${p.card.brand} ending ${p.card.last4}, expires ${p.card.exp_month}/${p.card.exp_year}`;
  if (p.vpa) return `upi: ${p.vpa}`;
  if (p.bank) return `netbanking: ${p.bank}`;
  if (p.wallet) return `wallet: ${p.wallet}`;
  return p.method;
}

function metadata(meta) {
  const entries = Object.entries(meta || {});
  if (!entries.length) return '—';
  return h('ul', { class: 'plain', id: 'metadata' },
    entries.map(([k, v]) => h('li', {}, h('span', { class: 'key' }, k), ': ', h('span', { class: 'value' }, v))));
}

function manualCapture(p) {
  if (p.capture_method !== 'manual') return [];
  return [
    ['Capture', 'manual'],
    ['Authorized', h('span', { id: 'amount-authorized' }, money(p.amount, p.currency))],
    ['Capturable', h('span', { id: 'amount-capturable' }, money(p.amount_capturable, p.currency))],
    ['Captured', h('span', { id: 'amount-captured' }, money(p.amount_captured, p.currency))],
    ['Capture before', h('span', { id: 'capture-before' }, p.capture_before ? when(p.capture_before) : '—')],
  ];
}

/** What the payment can take now: which actions are shown. */
export function actionsFor(p) {
  return {
    capture: p.status === 'AUTHORIZED',
    void: p.status === 'AUTHORIZED',
    cancel: p.status === 'PENDING',
    refund: p.status === 'SUCCESS' && p.amount_captured > p.amount_refunded,
  };
}

function details(p) {
  return fields([
    ['Status', badge(p.status)],
    ['Amount', money(p.amount, p.currency)],
    ...manualCapture(p),
    ['Refunded', money(p.amount_refunded, p.currency)],
    ...(p.cancellation_reason ? [['Cancelled', p.cancellation_reason]] : []),
    ['Order id', p.order_id],
    ['Payment link', p.payment_link_id ? h('a', { href: '#/links' }, p.payment_link_id) : '—'],
    ['Method', method(p)],
    ['Description', h('span', { id: 'description' }, p.description ?? '—')],
    ['Metadata', metadata(p.metadata)],
    ['Attempts', p.attempts],
    ['Next attempt', when(p.next_attempt_at)],
    ['Failure', p.failure_code ? `${p.failure_code}: ${p.failure_message ?? ''}` : '—'],
    ['Created', when(p.created_at)],
    ['Updated', when(p.updated_at)],
  ]);
}

function timeline(entries) {
  return h('ol', { class: 'timeline', id: 'history' }, entries.map((e) => h('li', {},
    h('span', { class: 'when' }, when(e.at)), ' ',
    h('span', { class: 'transition' }, `${e.from_status ?? 'created'} → ${e.to_status}`),
    e.attempt ? h('span', { class: 'attempt' },
      ` · attempt ${e.attempt}: ${e.outcome}`,
      e.failure_code ? ` (${e.failure_code})` : '',
      e.latency_ms !== null ? ` · ${e.latency_ms} ms` : '') : '')));
}

function refundRows(refunds) {
  return refunds.map((r) => h('tr', {},
    h('td', {}, r.id), h('td', { class: 'num' }, money(r.amount, r.currency)),
    h('td', {}, badge(r.status)), h('td', {}, r.reason ?? '—'), h('td', {}, when(r.created_at))));
}

export function render(container, paymentId) {
  const message = h('div', { id: 'action-message' });
  const sections = {
    details: h('section', { 'aria-labelledby': 'h-details' }),
    history: h('section', { 'aria-labelledby': 'h-history' }),
    refunds: h('section', { 'aria-labelledby': 'h-refunds' }),
    events: h('section', { 'aria-labelledby': 'h-events' }),
  };
  const seen = {};

  const amountInput = h('input', { id: 'refund-amount', name: 'amount', inputmode: 'numeric', autocomplete: 'off', 'aria-describedby': 'refund-help' });
  const reasonInput = h('input', { id: 'refund-reason', name: 'reason', maxlength: 255, autocomplete: 'off' });
  const refundForm = h('form', { class: 'inline', 'aria-label': 'Refund' },
    h('label', { for: 'refund-amount' }, 'Refund amount (minor units)'), amountInput,
    h('label', { for: 'refund-reason' }, 'Reason'), reasonInput,
    h('button', { type: 'submit', id: 'refund-button' }, 'Refund'),
    h('p', { id: 'refund-help', class: 'help' }, 'Leave the amount empty to refund everything that is left.'));
  const cancelButton = h('button', { type: 'button', id: 'cancel-button' }, 'Cancel payment');
  const captureInput = h('input', { id: 'capture-amount', name: 'amount', inputmode: 'numeric', autocomplete: 'off', 'aria-describedby': 'capture-help' });
  const captureForm = h('form', { class: 'inline', 'aria-label': 'Capture' },
    h('label', { for: 'capture-amount' }, 'Capture amount (minor units)'), captureInput,
    h('button', { type: 'submit', id: 'capture-button' }, 'Capture'),
    h('p', { id: 'capture-help', class: 'help' }, 'Leave the amount empty to capture all of it; a smaller amount releases the rest.'));
  const voidButton = h('button', { type: 'button', id: 'void-button' }, 'Void authorization');
  const actions = h('section', { 'aria-labelledby': 'h-actions' });

  async function act(label, promise) {
    try {
      const result = await promise;
      show(message, h('p', { class: 'ok', role: 'status' }, label(result)));
      announce(label(result));
      refresh();
    } catch (error) {
      show(message, errorBox(error));
    }
  }

  refundForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = {};
    const amount = amountInput.value.trim();
    if (amount) {
      if (!/^\d+$/.test(amount)) { show(message, errorBox(new Error('The amount is a whole number of minor units.'))); return; }
      body.amount = Number(amount);
    }
    if (reasonInput.value.trim()) body.reason = reasonInput.value.trim();
    act((r) => `Refund ${r.id} of ${money(r.amount, r.currency)} requested.`,
      post(`/payments/${paymentId}/refunds`, body));
  });
  cancelButton.addEventListener('click', () => act(() => 'The payment was cancelled.', post(`/payments/${paymentId}/cancel`)));
  captureForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = {};
    const amount = captureInput.value.trim();
    if (amount) {
      if (!/^\d+$/.test(amount)) { show(message, errorBox(new Error('The amount is a whole number of minor units.'))); return; }
      body.amount = Number(amount);
    }
    act(() => `Capture of ${amount ? amount : 'the whole amount'} requested.`,
      post(`/payments/${paymentId}/capture`, body));
  });
  voidButton.addEventListener('click', () => act(() => 'The void of the authorization was requested.', post(`/payments/${paymentId}/cancel`)));

  function drawActions(can) {
    const shown = [
      can.capture && captureForm, can.void && voidButton, can.refund && refundForm, can.cancel && cancelButton,
    ].filter(Boolean);
    show(actions, h('h2', { id: 'h-actions' }, 'Actions'),
      shown.length ? shown : h('p', { id: 'no-actions' }, 'Nothing can be done with this payment now.'));
  }

  show(container,
    h('p', {}, h('a', { href: '#/payments' }, '← All payments')),
    h('h1', { tabindex: '-1' }, `Payment ${paymentId}`),
    message,
    sections.details,
    sections.history,
    actions,
    sections.refunds, sections.events);

  function redraw(name, data, build) {
    const text = JSON.stringify(data);
    if (seen[name] === text) return;
    seen[name] = text;
    build();
  }

  async function refresh() {
    let p, history, refunds, events;
    try {
      [p, history, refunds, events] = await Promise.all([
        get(`/payments/${paymentId}`),
        get(`/payments/${paymentId}/history`),
        get(`/payments/${paymentId}/refunds${query({ limit: 100 })}`),
        get(`/events${query({ limit: 100 })}`),
      ]);
    } catch (error) {
      redraw('details', { error: error.message }, () => show(sections.details, errorBox(error)));
      return;
    }
    redraw('details', p, () => show(sections.details, h('h2', { id: 'h-details' }, 'Details'), details(p)));
    const can = actionsFor(p);
    redraw('actions', can, () => drawActions(can));
    redraw('history', history.data, () => show(sections.history,
      h('h2', { id: 'h-history' }, 'History'), timeline(history.data)));
    redraw('refunds', refunds.data, () => show(sections.refunds,
      h('h2', { id: 'h-refunds' }, 'Refunds'),
      refunds.data.length
        ? table('Refunds of this payment', ['Refund', 'Amount', 'Status', 'Reason', 'Created'], refundRows(refunds.data), { id: 'refunds-table' })
        : h('p', {}, 'No refunds.')));
    const mine = events.data.filter((e) => e.data && (e.data.id === paymentId || e.data.payment_id === paymentId));
    redraw('events', mine, () => show(sections.events,
      h('h2', { id: 'h-events' }, 'Events'),
      mine.length ? h('ul', { class: 'plain', id: 'events' }, mine.map((e) => h('li', {},
        `${when(e.created_at)} · ${e.type} · ${e.id} `,
        h('button', {
          type: 'button', class: 'small', 'aria-label': `Redeliver ${e.type} ${e.id}`,
          onclick: () => act((r) => `Redelivered to ${r.redelivered} endpoint(s).`, post(`/events/${e.id}/redeliver`)),
        }, 'Redeliver'))))
        : h('p', {}, 'No events yet (among the latest 100).')));
  }

  return poll(refresh, LIVE_MS);
}
