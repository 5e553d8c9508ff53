// Payments: filter by status and order id, page by cursor, statuses live.
// The current page is fetched again every second; rows whose status changed are
// updated in place so that keyboard focus stays where it is.

import { get, poll, query } from './api.js';
import { badge, errorBox, h, money, show, when } from './dom.js';

const STATUSES = ['PENDING', 'PROCESSING', 'AUTHORIZED', 'SUCCESS', 'FAILED', 'CANCELLED'];
const PAGE_SIZE = 20;
const LIVE_MS = 1000;

function row(p) {
  return h('tr', { 'data-id': p.id },
    h('td', {}, h('a', { href: `#/payments/${p.id}` }, p.id)),
    h('td', {}, p.order_id),
    h('td', { class: 'num' }, money(p.amount, p.currency)),
    h('td', {}, p.method),
    h('td', { class: 'status' }, badge(p.status)),
    h('td', {}, when(p.created_at)));
}

export function render(container) {
  const state = { status: '', order_id: '', cursors: [null], firstPaint: true };
  const statusSelect = h('select', { id: 'filter-status', name: 'status' },
    h('option', { value: '' }, 'Any status'),
    STATUSES.map((s) => h('option', { value: s }, s)));
  const orderInput = h('input', { id: 'filter-order', name: 'order_id', maxlength: 64, autocomplete: 'off' });
  const filters = h('form', { class: 'filters', 'aria-label': 'Filter payments' },
    h('label', { for: 'filter-status' }, 'Status'), statusSelect,
    h('label', { for: 'filter-order' }, 'Order id'), orderInput,
    h('button', { type: 'submit' }, 'Apply'));
  const tbody = h('tbody', { id: 'payments-rows' });
  const tableEl = h('table', { id: 'payments-table' },
    h('caption', {}, 'Payments, newest first'),
    h('thead', {}, h('tr', {}, ['Payment', 'Order', 'Amount', 'Method', 'Status', 'Created']
      .map((name) => h('th', { scope: 'col' }, name)))),
    tbody);
  const message = h('div', { id: 'payments-message' });
  const pageLabel = h('span', { id: 'page-label' }, 'Page 1');
  const prev = h('button', { type: 'button', id: 'prev-page', disabled: true }, 'Previous page');
  const next = h('button', { type: 'button', id: 'next-page', disabled: true }, 'Next page');
  show(container,
    h('h1', { tabindex: '-1' }, 'Payments'),
    filters, message, tableEl,
    h('nav', { class: 'pager', 'aria-label': 'Pages of payments' }, prev, pageLabel, next));

  let shownIds = '';
  async function load() {
    const cursor = state.cursors[state.cursors.length - 1];
    const params = { limit: PAGE_SIZE, status: state.status, order_id: state.order_id, starting_after: cursor };
    let list;
    try {
      list = await get(`/payments${query(params)}`);
    } catch (error) {
      show(message, errorBox(error));
      return;
    }
    performance.mark('payments:answer');
    show(message);
    const ids = list.data.map((p) => p.id).join(',');
    if (ids === shownIds) {
      for (const p of list.data) {
        const cell = tbody.querySelector(`tr[data-id="${p.id}"] td.status`);
        if (cell && cell.textContent !== p.status) show(cell, badge(p.status));
      }
    } else {
      tbody.replaceChildren(...list.data.map(row));
      if (!list.data.length) tbody.append(h('tr', {}, h('td', { colspan: 6 }, 'No payments match.')));
      shownIds = ids;
    }
    next.disabled = !list.has_more;
    next.dataset.cursor = list.data.length ? list.data[list.data.length - 1].id : '';
    prev.disabled = state.cursors.length <= 1;
    pageLabel.textContent = `Page ${state.cursors.length}`;
    performance.mark('payments:rendered');
    if (state.firstPaint) {
      state.firstPaint = false;
      performance.measure('payments:first-page', 'payments:answer', 'payments:rendered');
    }
    tableEl.setAttribute('data-loaded', String(Date.now()));
  }

  let stop = poll(load, LIVE_MS);
  function restart() {
    stop();
    shownIds = '';
    stop = poll(load, LIVE_MS);
  }
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    state.status = statusSelect.value;
    state.order_id = orderInput.value.trim();
    state.cursors = [null];
    restart();
  });
  next.addEventListener('click', () => {
    if (!next.dataset.cursor) return;
    state.cursors.push(next.dataset.cursor);
    restart();
  });
  prev.addEventListener('click', () => {
    if (state.cursors.length > 1) state.cursors.pop();
    restart();
  });
  return () => stop();
}
