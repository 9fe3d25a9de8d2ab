import { functions, rememberCall, readPrefix, here } from './api.js';
import { el, link, table, message } from './dom.js';

const shownBytes = 64 * 1024;

function parseHeaders(text) {
  const headers = new Headers();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`header line "${line}" has no name: write Name: value`);
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return headers;
}

export async function invokePage(page, { params }) {
  const { functions: list } = await functions();
  const chosen = params.get('function') ?? list[0]?.name ?? '';
  const name = el('select', { id: 'invoke-function' }, list.map(f => el('option', { value: f.name, selected: f.name === chosen }, f.name)));
  const mode = el('select', { id: 'invoke-mode' }, el('option', { value: 'sync' }, 'sync (/function)'), el('option', { value: 'async' }, 'async (/async-function)'));
  const method = el('select', { id: 'invoke-method' }, ['POST', 'GET', 'PUT', 'PATCH', 'DELETE'].map(m => el('option', { value: m }, m)));
  const suffix = el('input', { id: 'invoke-path', placeholder: '/path?query', size: 20 });
  const headers = el('textarea', { id: 'invoke-headers', rows: 3, placeholder: 'Content-Type: text/plain' });
  const body = el('textarea', { id: 'invoke-body', rows: 6 });
  const result = el('div', { id: 'invoke-result' });
  const send = el('button', { id: 'invoke-send', onclick: () => invoke() }, 'Send');
  page.append(el('h1', {}, 'Invoke a function'),
    el('div', { class: 'row' }, el('label', {}, 'Function', name), el('label', {}, 'Mode', mode), el('label', {}, 'Method', method), el('label', {}, 'Path', suffix)),
    el('label', {}, 'Headers (one per line)', headers), el('label', {}, 'Body', body),
    el('div', { class: 'actions' }, send), result);

  async function invoke() {
    result.replaceChildren(message('Sending…'));
    const async = mode.value === 'async';
    const url = (async ? '/async-function/' : '/function/') + encodeURIComponent(name.value) + suffix.value;
    const started = performance.now();
    try {
      const init = { method: method.value, headers: parseHeaders(headers.value), cache: 'no-store' };
      if (!['GET', 'HEAD'].includes(method.value)) init.body = body.value;
      const response = await fetch(here(url), init);
      const { text, truncated } = await readPrefix(response, shownBytes);
      const elapsed = ((performance.now() - started) / 1000).toFixed(3);
      const parts = [
        el('h2', {}, 'Answer'),
        el('p', {}, 'Status ', el('strong', { id: 'invoke-status' }, response.status), ' ', response.statusText, ` in ${elapsed} s`),
      ];
      const location = response.headers.get('Location');
      if (async && response.status === 202 && location) {
        const id = rememberCall(location);
        parts.push(el('p', { id: 'invoke-call' }, 'Queued as call ', link('#/call/' + encodeURIComponent(id), id)));
      }
      parts.push(
        table(['Header', 'Value'], [...response.headers].map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, v)))),
        el('h2', {}, 'Body', truncated ? ` (first ${shownBytes / 1024} KiB)` : ''),
        el('pre', { id: 'invoke-body-out' }, text));
      result.replaceChildren(...parts);
    } catch (error) {
      result.replaceChildren(message(String(error.message ?? error), 'error'));
    }
  }
}
