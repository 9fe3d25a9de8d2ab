// Talks to the gateway's own routes (same origin: the browser sends basic_auth credentials it holds).

export class ApiError extends Error {
  constructor(status, text) {
    super(`${status}: ${text.trim()}`);
    this.status = status;
  }
}

// Requests name the origin alone: relative to a page opened with user:password@ in its address,
// a URL would carry the credentials, and fetch refuses such URLs. The browser still sends the
// credentials it holds for this origin.
export function here(path) {
  return window.location.origin + path;
}

async function check(response) {
  if (!response.ok) throw new ApiError(response.status, await response.text());
  return response;
}

export async function getJson(url) {
  return (await check(await fetch(here(url), { cache: 'no-store', headers: { Accept: 'application/json' } }))).json();
}

export async function postJson(url) {
  const response = await fetch(here(url), { method: 'POST' });
  const text = await response.text();
  if (!response.ok && response.status !== 429) throw new ApiError(response.status, text);
  return JSON.parse(text);
}

// A call is opened by its token (from its 202) or by the operator's credentials. The tokens of
// calls queued from this tab are kept for the tab's life (sessionStorage), nowhere else.
const prefix = '/async-calls/';

export function rememberCall(location) {
  const handle = new URL(location, window.location.href).pathname.slice(prefix.length);
  const id = decodeURIComponent(handle.split('~')[0]);
  sessionStorage.setItem('call:' + id, handle);
  return id;
}

export function holdsToken(id) {
  return sessionStorage.getItem('call:' + id) !== null;
}

export function callUrl(id, action = '') {
  const handle = sessionStorage.getItem('call:' + id) ?? encodeURIComponent(id);
  return prefix + handle + (action ? '/' + action : '');
}

export async function functions() {
  const [listed, numbers] = await Promise.all([getJson('/system/functions'), getJson('/ui/api/functions')]);
  const byName = new Map(numbers.functions.map(f => [f.name, f]));
  return {
    basicAuth: numbers.basicAuth,
    functions: listed.map(f => ({ ...f, ...(byName.get(f.name) ?? {}) })),
  };
}

// Reads at most `limit` bytes of a body and decodes them as UTF-8 (broken sequences become U+FFFD).
export async function readPrefix(response, limit) {
  const reader = response.body.getReader();
  const chunks = [];
  let length = 0;
  while (length < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  const truncated = length >= limit;
  await reader.cancel().catch(() => {});
  const bytes = new Uint8Array(Math.min(length, limit));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
    if (offset >= bytes.length) break;
  }
  return { text: new TextDecoder().decode(bytes), truncated };
}
