// The dashboard's router: one view per hash route, sign-in, sign-out.
// Each view module exports `render(container, ...params)`, which may return a
// function that stops its live updates when the person leaves the view.

import { ApiError, get, session } from './api.js';
import { errorBox, h, show } from './dom.js';
import * as create from './create.js';
import * as links from './links.js';
import * as operator from './operator.js';
import * as payment from './payment.js';
import * as payments from './payments.js';
import * as webhooks from './webhooks.js';

const ROUTES = [
  [/^#\/payments$/, payments.render],
  [/^#\/payments\/(pay_[A-Za-z0-9]+)$/, payment.render],
  [/^#\/new$/, create.render],
  [/^#\/webhooks$/, webhooks.render],
  [/^#\/links$/, links.render],
  [/^#\/operator$/, operator.render],
];

let stopView = null;

function signIn(container) {
  const input = h('input', {
    id: 'api-key', name: 'api-key', type: 'password', autocomplete: 'off',
    spellcheck: 'false', required: true, 'aria-describedby': 'api-key-help',
  });
  const message = h('div');
  const form = h('form', { class: 'card', novalidate: true },
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('p', { id: 'api-key-help', class: 'help' },
      'A merchant key (sk_test_…) or an operator key (ok_test_…). It is kept in this tab only ',
      '(sessionStorage) and sent to the API as a Bearer header.'),
    h('button', { type: 'submit' }, 'Sign in'),
    message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      show(message, errorBox(new Error('Enter an API key.')));
      input.focus();
      return;
    }
    session.set(key);
    try {
      await get(session.isOperator ? '/operator/queue' : '/payments?limit=1');
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        session.clear();
        show(message, errorBox(error));
        input.focus();
        return;
      }
    }
    input.value = '';
    location.hash = session.isOperator ? '#/operator' : '#/payments';
  });
  show(container, h('h1', { tabindex: '-1' }, 'Sign in'), form);
  input.focus();
}

function header() {
  const who = document.getElementById('who');
  const signout = document.getElementById('signout');
  if (session.key) {
    who.textContent = session.isOperator ? 'Signed in with an operator key' : 'Signed in with a merchant key';
    signout.hidden = false;
  } else {
    who.textContent = 'Not signed in';
    signout.hidden = true;
  }
  for (const link of document.querySelectorAll('#nav a')) {
    const current = location.hash.startsWith(link.getAttribute('href'));
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function route(event) {
  const hash = location.hash;
  if (hash && !hash.startsWith('#/')) return; // in-page links such as the skip link
  if (stopView) { stopView(); stopView = null; }
  const container = document.getElementById('view');
  header();
  if (!session.key) { signIn(container); return; }
  for (const [pattern, render] of ROUTES) {
    const match = pattern.exec(hash);
    if (match) {
      stopView = render(container, ...match.slice(1)) || null;
      const heading = container.querySelector('h1');
      // After a navigation inside the page, focus moves to the new view's heading (as a
      // page load would reset it); on the first load focus stays at the top, skip link first.
      if (heading && event) heading.focus({ preventScroll: true });
      return;
    }
  }
  location.replace(session.isOperator ? '#/operator' : '#/payments');
}

document.getElementById('signout').addEventListener('click', () => {
  session.clear();
  location.hash = '#/signin';
  route();
});
document.getElementById('skip').addEventListener('click', (event) => {
  event.preventDefault();
  document.getElementById('main').focus();
});
window.addEventListener('hashchange', route);
route();
