import { getJson, callUrl, holdsToken, readPrefix, ApiError, here } from './api.js';
import { el, link, table, time, seconds, stateCell, message } from './dom.js';

const previewBytes = 16 * 1024;
const finished = ['succeeded', 'failed', 'dead', 'cancelled'];

function row(name, ...value) {
  return el('tr', {}, el('th', {}, name), el('td', {}, ...value));
}

export async function callPage(page, { arg: id }) {
  page.append(el('h1', {}, 'Call ', id));
  const body = el('div', { id: 'call' }, message('Loading…'));
  const actions = el('p', { id: 'call-action' });
  page.append(body, actions);
  let done = false;
  let last = '';

  async function load() {
    let status;
    try {
      status = await getJson(callUrl(id));
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 404) && !holdsToken(id)) {
        body.replaceChildren(message('This call cannot be opened here: a call id alone opens nothing. It opens with the token from its 202 '
          + '(this tab holds the tokens of the calls it queued) or with the gateway\'s basic_auth credentials.', 'error'));
      } else {
        body.replaceChildren(message(String(error.message ?? error), 'error'));
      }
      done = true;
      return;
    }
    const snapshot = JSON.stringify(status);
    if (snapshot !== last) {
      last = snapshot;
      body.replaceChildren(...await render(status));
    }
    done = finished.includes(status.state);
  }

  async function render(s) {
    const facts = table(null, [
      row('Function', s.function),
      row('State', el('span', { id: 'call-state', class: 'state-' + s.state }, s.state)),
      row('Attempts', `${s.attempts} of ${s.maxAttempts}`),
      row('Accepted', time(s.createdAt)),
      row('Started', time(s.startedAt)),
      row('Finished', time(s.finishedAt)),
      row('Next attempt', time(s.nextAttemptAt)),
      row('Accepted to started', seconds(s.createdAt, s.startedAt)),
      row('Started to finished', seconds(s.startedAt, s.finishedAt)),
      row('Status code', s.statusCode ?? ''),
      row('Error', el('span', { id: 'call-error' }, s.error ?? '')),
      row('Trace id', el('span', { id: 'call-trace' }, s.traceId ?? '')),
      row('Parent call', s.parentCallId ? link('#/call/' + encodeURIComponent(s.parentCallId), s.parentCallId) : ''),
      row('Callback', s.callback
        ? `${s.callback.state} after ${s.callback.attempts} attempt(s)` + (s.callback.statusCode ? `, answered ${s.callback.statusCode}` : '') + (s.callback.error ? `: ${s.callback.error}` : '')
        : 'none asked for'),
    ]);
    const parts = [facts, el('h2', {}, 'Attempts')];
    if (Array.isArray(s.history) && s.history.length) {
      parts.push(table(['Attempt', 'Started', 'Finished', 'Took', 'Status', 'Error'], s.history.map(a => el('tr', {},
        el('td', { class: 'num' }, a.attempt), el('td', {}, time(a.startedAt)), el('td', {}, time(a.finishedAt)),
        el('td', {}, seconds(a.startedAt, a.finishedAt)), el('td', { class: 'num' }, a.statusCode ?? ''), el('td', {}, a.error ?? ''))), { id: 'call-history' }));
    } else {
      parts.push(message(`${s.attempts} attempt(s); no per-attempt history is kept for this call, so the last one's status code and error are shown above.`));
    }
    parts.push(el('h2', {}, 'Result'));
    if (s.result) {
      try {
        const response = await fetch(here(callUrl(id, 'result')), { cache: 'no-store' });
        const { text, truncated } = await readPrefix(response, previewBytes);
        parts.push(message(`${s.resultContentType ?? 'no content type'}, ${s.resultLength} bytes` + (truncated ? `; the first ${previewBytes / 1024} KiB as text:` : ', as text:')),
          el('pre', { id: 'call-result' }, text));
      } catch (error) {
        parts.push(message(String(error.message ?? error), 'error'));
      }
    } else {
      parts.push(message('No result (yet).'));
    }
    const buttons = [];
    if (['failed', 'dead', 'cancelled'].includes(s.state)) buttons.push(el('button', { id: 'call-replay', onclick: () => act('POST', 'retry') }, 'Replay'));
    if (['queued', 'running'].includes(s.state)) buttons.push(el('button', { id: 'call-cancel', onclick: () => act('DELETE', '') }, 'Cancel'));
    parts.push(el('div', { class: 'actions' }, buttons));
    return parts;
  }

  async function act(method, action) {
    const response = await fetch(here(callUrl(id, action)), { method });
    actions.textContent = response.ok ? (method === 'DELETE' ? 'Cancelled.' : 'Queued again.') : `${response.status}: ${(await response.text()).trim()}`;
    done = false;
    await load();
  }

  await load();
  const timer = setInterval(() => { if (!done) load(); }, 1000);
  return () => clearInterval(timer);
}
