// Building the page from data: every value becomes a text node, never markup.
// Nothing in the dashboard parses a string as HTML, so a payment's metadata such as
// `<img src=x onerror=alert(1)>` is shown as those characters and nothing else.

const SVG_NS = 'http://www.w3.org/2000/svg';

function fill(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An HTML element: h('td', {class: 'x'}, 'text', otherNode). */
export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element, for the chart. */
export function svg(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replace a container's children (text nodes and elements only). */
export function show(container, ...children) {
  container.replaceChildren();
  fill(container, {}, children);
}

/** An amount in minor units, in its currency's major unit (JPY has none). */
export function money(amount, currency) {
  try {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency });
    const digits = format.resolvedOptions().maximumFractionDigits;
    return format.format(amount / 10 ** digits);
  } catch {
    return `${amount} ${currency} (minor units)`;
  }
}

/** A timestamp for people, in UTC so every reader sees the same time. */
export function when(iso) {
  if (!iso) return '—';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC');
}

/** A status as a labelled badge; the word carries the meaning, the colour only helps. */
export function badge(status) {
  return h('span', { class: `badge badge-${String(status).toLowerCase()}` }, status);
}

/** An alert region for an error message from the API (or the network). */
export function errorBox(error) {
  return h('p', { class: 'error', role: 'alert' }, error.message || String(error));
}

/** Announce a change to screen readers without moving focus. */
export function announce(text) {
  const region = document.getElementById('announce');
  if (region) region.textContent = text;
}

/** A definition list from [label, value] pairs. */
export function fields(pairs) {
  return h('dl', { class: 'fields' },
    pairs.map(([label, value]) => [h('dt', {}, label), h('dd', {}, value ?? '—')]));
}

/** A table with a caption, column headers and rows of cells. */
export function table(caption, headers, rows, attrs = {}) {
  return h('table', attrs,
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((name) => h('th', { scope: 'col' }, name)))),
    h('tbody', {}, rows));
}
