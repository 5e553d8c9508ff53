// A test payment from a form: the test-mode outcomes of the simulated processor.
// On success the page moves to the new payment, which then updates live.

import { post } from './api.js';
import { errorBox, h, show } from './dom.js';

const CURRENCIES = ['INR', 'USD', 'EUR', 'GBP', 'JPY', 'SGD', 'AED', 'AUD', 'CAD', 'CHF'];
// The outcome each test detail produces (API.md, "Test mode").
const OUTCOMES = {
  success: { label: 'Success', upi: 'success@upi', card: '4242424242424242' },
  declined: { label: 'Declined', upi: 'failure@upi', card: '4000000000000002' },
  flaky: { label: 'Flaky (fails once, then succeeds)', upi: 'flaky@upi', card: '4000000000000341' },
  down: { label: 'Processor down (fails every attempt)', upi: 'down@upi', card: '4000000000000119' },
};

function field(id, label, control, help) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), control,
    help ? h('p', { class: 'help', id: `${id}-help` }, help) : null);
}

export function render(container) {
  const orderId = h('input', { id: 'new-order', name: 'order_id', required: true, maxlength: 64, value: `order_${Date.now()}`, autocomplete: 'off' });
  const amount = h('input', { id: 'new-amount', name: 'amount', required: true, inputmode: 'numeric', value: '50000', autocomplete: 'off', 'aria-describedby': 'new-amount-help' });
  const currency = h('select', { id: 'new-currency', name: 'currency' }, CURRENCIES.map((c) => h('option', { value: c }, c)));
  const methodSelect = h('select', { id: 'new-method', name: 'method' },
    h('option', { value: 'upi' }, 'UPI'), h('option', { value: 'card' }, 'Card'));
  const outcome = h('select', { id: 'new-outcome', name: 'outcome' },
    Object.entries(OUTCOMES).map(([value, o]) => h('option', { value }, o.label)));
  const captureMethod = h('select', { id: 'new-capture', name: 'capture_method' },
    h('option', { value: 'automatic' }, 'Automatic: charge when processed'),
    h('option', { value: 'manual' }, 'Manual: authorize now, capture later'));
  const description = h('input', { id: 'new-description', name: 'description', maxlength: 255, autocomplete: 'off' });
  const metaKey = h('input', { id: 'new-meta-key', name: 'meta_key', maxlength: 40, autocomplete: 'off' });
  const metaValue = h('input', { id: 'new-meta-value', name: 'meta_value', maxlength: 500, autocomplete: 'off' });
  const message = h('div', { id: 'create-message' });
  const form = h('form', { class: 'card', id: 'create-form', 'aria-label': 'New test payment' },
    field('new-order', 'Order id', orderId),
    field('new-amount', 'Amount (minor units)', amount, '50000 INR is ₹500.00.'),
    field('new-currency', 'Currency', currency),
    field('new-method', 'Method', methodSelect),
    field('new-outcome', 'Test outcome', outcome),
    field('new-capture', 'Capture', captureMethod),
    field('new-description', 'Description (optional)', description),
    h('fieldset', {}, h('legend', {}, 'One metadata entry (optional)'),
      field('new-meta-key', 'Key', metaKey), field('new-meta-value', 'Value', metaValue)),
    h('button', { type: 'submit', id: 'create-button' }, 'Create payment'),
    message);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!/^\d+$/.test(amount.value.trim())) {
      show(message, errorBox(new Error('The amount is a whole number of minor units.')));
      amount.focus();
      return;
    }
    const chosen = OUTCOMES[outcome.value];
    const body = {
      order_id: orderId.value.trim(),
      amount: Number(amount.value.trim()),
      currency: currency.value,
      method: methodSelect.value,
    };
    if (captureMethod.value === 'manual') body.capture_method = 'manual';
    if (body.method === 'upi') body.vpa = chosen.upi;
    else body.card = { number: chosen.card, exp_month: 12, exp_year: new Date().getUTCFullYear() + 3, cvc: '123' };
    if (description.value) body.description = description.value;
    if (metaKey.value) body.metadata = { [metaKey.value]: metaValue.value };
    try {
      const created = await post('/payments', body);
      location.hash = `#/payments/${created.id}`;
    } catch (error) {
      show(message, errorBox(error));
    }
  });
  show(container, h('h1', { tabindex: '-1' }, 'New test payment'), form);
}
