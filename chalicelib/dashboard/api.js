// The public API, as the page calls it: the key from sessionStorage as a Bearer
// header, JSON in and out, and the contract's error message on failure.
// The key is kept in sessionStorage only: never in a URL, a cookie or a log.

const STORAGE_KEY = 'gateway.apiKey';
const BASE = 'api/v1'; // relative to the page, so it works under an API Gateway stage too

export const session = {
  get key() { return sessionStorage.getItem(STORAGE_KEY); },
  set(key) { sessionStorage.setItem(STORAGE_KEY, key); },
  clear() { sessionStorage.removeItem(STORAGE_KEY); },
  get isOperator() { return (this.key || '').startsWith('ok_test_'); },
};

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The API answered ${status}.`);
    this.status = status;
    this.code = error.code || null;
    this.param = error.param || null;
  }
}

function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return 'dash-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Call the API; resolves to the parsed body, rejects with an ApiError. */
export async function call(method, path, body, { idempotencyKey } = {}) {
  const headers = { Authorization: `Bearer ${session.key || ''}` };
  const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  // Every POST carries an Idempotency-Key, so a retried click never creates twice, except
  // when the caller passes null: an answer holding a webhook secret is not worth
  // keeping in an idempotency record for a day.
  if (method === 'POST' && idempotencyKey !== null) headers['Idempotency-Key'] = idempotencyKey || newIdempotencyKey();
  let response;
  try {
    response = await fetch(`${BASE}${path}`, init);
  } catch {
    throw new ApiError(0, { error: { message: 'The gateway could not be reached.' } });
  }
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path) => call('GET', path);
export const post = (path, body, options) => call('POST', path, body, options);
export const del = (path) => call('DELETE', path);

/** A query string from an object, skipping empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Run `task` now and then every `ms` after each run ends (never two at once),
 * until the returned stop function is called. Live views poll the API this way.
 */
export function poll(task, ms) {
  let stopped = false;
  let timer = null;
  const loop = async () => {
    if (stopped) return;
    try { await task(); } catch { /* the view shows its own errors */ }
    if (!stopped) timer = setTimeout(loop, ms);
  };
  loop();
  return () => { stopped = true; clearTimeout(timer); };
}
