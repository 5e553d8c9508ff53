// Payment links: create one, list them with their status and payments, copy an active
// link's URL (the API gives it, client secret in the fragment, with every read of the
// link, so any row can be copied in any tab), deactivate.

import { get, poll, post, query } from './api.js';
import { announce, badge, errorBox, h, money, show, table, when } from './dom.js';

const CURRENCIES = ['INR', 'USD', 'EUR', 'GBP', 'JPY', 'SGD', 'AED', 'AUD', 'CAD', 'CHF'];
const LIVE_MS = 2000;
// A replayed creation has no client secret (the idempotency record keeps none), so
// this form sends no key: a resubmission makes a second link, listed, not a lost URL.
const NO_RECORD = { idempotencyKey: null };

function field(id, label, control, help) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), control,
    help ? h('p', { class: 'help', id: `${id}-help` }, help) : null);
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    if (!button.hasAttribute('aria-label')) button.textContent = 'Copied'; // the name stays the text
    announce('Link copied to the clipboard.');
  } catch {
    const url = document.getElementById('link-url');
    if (url && url.textContent === text) window.getSelection().selectAllChildren(url);
    announce(`Copy this link: ${text}`);
  }
}

function copyButton(link) {
  // An active link's URL carries its secret (none once its keyring version was removed).
  if (!link.url.includes('#')) return null;
  const button = h('button', { type: 'button', class: 'small', 'aria-label': `Copy link of ${link.id}` }, 'Copy link');
  button.addEventListener('click', () => copy(link.url, button));
  return button;
}

function createdNotice(link) {
  const button = h('button', { type: 'button', class: 'small', id: 'link-copy' }, 'Copy link');
  button.addEventListener('click', () => copy(link.url, button));
  return h('div', { class: 'secret', role: 'alert', id: 'link-notice' },
    h('p', {}, `Payment link ${link.id} created. Send your customer this whole URL: after `,
      'the # is the link\'s client secret. Its row below copies it too.'),
    h('p', {}, h('a', { href: link.url, id: 'link-url', target: '_blank', rel: 'noopener noreferrer' }, link.url)),
    button);
}

function payments(link) {
  const manual = link.capture_method === 'manual' ? ' (manual capture)' : '';
  if (!link.payment_count) return `none${manual}`;
  const paid = link.payment_id
    ? h('a', { href: `#/payments/${link.payment_id}` }, link.payment_id) : null;
  return [`${link.payment_count} attempt${link.payment_count === 1 ? '' : 's'}`, paid ? ' · paid by ' : '', paid, manual];
}

export function render(container) {
  const amount = h('input', { id: 'link-amount', name: 'amount', required: true, inputmode: 'numeric', value: '50000', autocomplete: 'off', 'aria-describedby': 'link-amount-help' });
  const currency = h('select', { id: 'link-currency', name: 'currency' }, CURRENCIES.map((c) => h('option', { value: c }, c)));
  const description = h('input', { id: 'link-description', name: 'description', maxlength: 255, autocomplete: 'off' });
  const returnUrl = h('input', { id: 'link-return-url', name: 'return_url', type: 'url', autocomplete: 'off' });
  const captureMethod = h('select', { id: 'link-capture', name: 'capture_method', 'aria-describedby': 'link-capture-help' },
    h('option', { value: 'automatic' }, 'Automatic: charge when the customer pays'),
    h('option', { value: 'manual' }, 'Manual: authorize when the customer pays, capture later'));
  const message = h('div', { id: 'links-message' });
  const form = h('form', { class: 'card', id: 'link-form', 'aria-label': 'New payment link' },
    field('link-amount', 'Amount (minor units)', amount, '50000 INR is ₹500.00.'),
    field('link-currency', 'Currency', currency),
    field('link-description', 'Description (optional, shown to the customer)', description),
    field('link-return-url', 'Return URL (optional)', returnUrl),
    field('link-capture', 'Capture', captureMethod,
      'Manual: the payment waits, AUTHORIZED, for your capture or cancel on its page.'),
    h('button', { type: 'submit', id: 'link-create' }, 'Create payment link'));
  const listSection = h('section', { 'aria-labelledby': 'h-links' });
  show(container, h('h1', { tabindex: '-1' }, 'Payment links'), form, message, listSection);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!/^\d+$/.test(amount.value.trim())) {
      show(message, errorBox(new Error('The amount is a whole number of minor units.')));
      amount.focus();
      return;
    }
    const body = { amount: Number(amount.value.trim()), currency: currency.value };
    if (description.value.trim()) body.description = description.value.trim();
    if (returnUrl.value.trim()) body.return_url = returnUrl.value.trim();
    if (captureMethod.value === 'manual') body.capture_method = 'manual';
    try {
      const link = await post('/payment_links', body, NO_RECORD);
      show(message, createdNotice(link));
      announce(`Payment link ${link.id} created.`);
      refresh();
    } catch (error) {
      show(message, errorBox(error));
    }
  });

  async function deactivate(link) {
    try {
      await post(`/payment_links/${link.id}/deactivate`);
      show(message, h('p', { class: 'ok', role: 'status' }, `Payment link ${link.id} deactivated.`));
      announce(`Payment link ${link.id} deactivated.`);
      refresh();
    } catch (error) {
      show(message, errorBox(error));
    }
  }

  let seen = null;
  async function refresh() {
    let links;
    try {
      links = await get(`/payment_links${query({ limit: 100 })}`);
    } catch (error) {
      show(listSection, errorBox(error));
      return;
    }
    const text = JSON.stringify(links.data);
    if (seen === text) return;
    seen = text;
    show(listSection, h('h2', { id: 'h-links' }, 'Links'),
      links.data.length ? table('Payment links, newest first', ['Link', 'Amount', 'Description', 'Status', 'Payments', 'Created', 'Actions'],
        links.data.map((link) => h('tr', { 'data-id': link.id },
          h('td', {}, link.id), h('td', { class: 'num' }, money(link.amount, link.currency)),
          h('td', {}, link.description || '—'), h('td', {}, badge(link.status)),
          h('td', {}, payments(link)), h('td', {}, when(link.created_at)),
          h('td', {}, link.active
            ? [copyButton(link), ' ', h('button', { type: 'button', class: 'small', 'aria-label': `Deactivate ${link.id}`,
              onclick: () => deactivate(link) }, 'Deactivate')]
            : '—'))),
        { id: 'links-table' }) : h('p', {}, 'No payment links yet.'));
  }
  return poll(refresh, LIVE_MS);
}
