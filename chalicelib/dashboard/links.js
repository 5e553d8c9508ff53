// Payment links: create one (its URL, with the client secret, is shown and copyable
// once, as the API returns it), list them with their status and payments, deactivate.

import { get, poll, post, query } from './api.js';
import { announce, badge, errorBox, h, money, show, table, when } from './dom.js';

const CURRENCIES = ['INR', 'USD', 'EUR', 'GBP', 'JPY', 'SGD', 'AED', 'AUD', 'CAD', 'CHF'];
const LIVE_MS = 2000;
const NO_RECORD = { idempotencyKey: null }; // an answer with a client secret is not kept
// The full URLs (client secret in the fragment) of the links created in this tab: the
// API shows a secret once, so only these rows can copy a payable URL. Memory only.
const createdUrls = new Map();

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
  const url = createdUrls.get(link.id);
  if (!url) return null;
  const button = h('button', { type: 'button', class: 'small', 'aria-label': `Copy link of ${link.id}` }, 'Copy link');
  button.addEventListener('click', () => copy(url, button));
  return button;
}

function createdNotice(link) {
  const button = h('button', { type: 'button', class: 'small', id: 'link-copy' }, 'Copy link');
  button.addEventListener('click', () => copy(link.url, button));
  return h('div', { class: 'secret', role: 'alert', id: 'link-notice' },
    h('p', {}, `Payment link ${link.id} created. Send your customer this URL; it holds the `,
      'link\'s client secret and is shown only now.'),
    h('p', {}, h('a', { href: link.url, id: 'link-url', target: '_blank', rel: 'noopener noreferrer' }, link.url)),
    button);
}

function payments(link) {
  if (!link.payment_count) return 'none';
  const paid = link.payment_id
    ? h('a', { href: `#/payments/${link.payment_id}` }, link.payment_id) : null;
  return [`${link.payment_count} attempt${link.payment_count === 1 ? '' : 's'}`, paid ? ' · paid by ' : '', paid];
}

export function render(container) {
  const amount = h('input', { id: 'link-amount', name: 'amount', required: true, inputmode: 'numeric', value: '50000', autocomplete: 'off', 'aria-describedby': 'link-amount-help' });
  const currency = h('select', { id: 'link-currency', name: 'currency' }, CURRENCIES.map((c) => h('option', { value: c }, c)));
  const description = h('input', { id: 'link-description', name: 'description', maxlength: 255, autocomplete: 'off' });
  const returnUrl = h('input', { id: 'link-return-url', name: 'return_url', type: 'url', autocomplete: 'off' });
  const message = h('div', { id: 'links-message' });
  const form = h('form', { class: 'card', id: 'link-form', 'aria-label': 'New payment link' },
    field('link-amount', 'Amount (minor units)', amount, '50000 INR is ₹500.00.'),
    field('link-currency', 'Currency', currency),
    field('link-description', 'Description (optional, shown to the customer)', description),
    field('link-return-url', 'Return URL (optional)', returnUrl),
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
    try {
      const link = await post('/payment_links', body, NO_RECORD);
      createdUrls.set(link.id, link.url);
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
