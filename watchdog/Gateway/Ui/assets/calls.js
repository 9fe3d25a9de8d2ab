import { functions, getJson, postJson } from './api.js';
import { el, link, table, time, stateCell, message } from './dom.js';

const states = ['queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled'];
const maxBulkPages = 100;

function query(filters, extra = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, ...extra })) if (v) q.set(k, v);
  return q.toString();
}

export async function callsPage(page, { params }) {
  const filters = { function: params.get('function') ?? '', state: params.get('state') ?? '', since: params.get('since') ?? '' };
  const { functions: list } = await functions();
  const fn = el('select', { id: 'calls-function' }, el('option', { value: '' }, 'any'), list.map(f => el('option', { value: f.name, selected: f.name === filters.function }, f.name)));
  const state = el('select', { id: 'calls-state' }, el('option', { value: '' }, 'any'), states.map(s => el('option', { value: s, selected: s === filters.state }, s)));
  const since = el('input', { id: 'calls-since', value: filters.since, placeholder: '1h or 2026-01-01T00:00:00Z', size: 24 });
  const apply = el('button', { id: 'calls-apply', onclick: () => { window.location.hash = '#/calls?' + query({ function: fn.value, state: state.value, since: since.value }); } }, 'Apply');
  const live = el('input', { id: 'calls-live', type: 'checkbox', checked: true });
  const listing = el('div', { id: 'calls-list' }, message('Loading…'));
  const newer = el('button', { id: 'calls-newer', disabled: true, onclick: () => { cursor = cursors.pop() ?? null; load(); } }, '← Newer');
  const older = el('button', { id: 'calls-older', disabled: true, onclick: () => { cursors.push(cursor); cursor = nextCursor; load(); } }, 'Older →');
  const bulkResult = el('p', { id: 'bulk-result' });
  page.append(el('h1', {}, 'Calls'),
    el('div', { class: 'row' }, el('label', {}, 'Function', fn), el('label', {}, 'State', state), el('label', {}, 'Since', since), apply,
      el('label', { class: 'inline' }, live, 'Live (every 2 s)')),
    listing, el('div', { class: 'actions' }, newer, older),
    el('h2', {}, 'By the current filter'),
    el('p', { class: 'muted' }, 'Replay: the matching dead calls (or failed and cancelled ones, when the filter names that state) run again from attempt 1. Cancel: the matching queued calls; running ones run on.'),
    el('div', { class: 'actions' },
      el('button', { id: 'bulk-replay', onclick: () => bulk('replay') }, 'Replay matching calls'),
      el('button', { id: 'bulk-cancel', onclick: () => bulk('cancel') }, 'Cancel matching queued calls')),
    bulkResult);

  let cursor = null;
  let nextCursor = null;
  const cursors = [];

  async function load() {
    try {
      const result = await getJson('/async-calls?' + query(filters, { limit: 50, cursor }));
      nextCursor = result.nextCursor ?? null;
      older.disabled = !nextCursor;
      newer.disabled = cursors.length === 0;
      const rows = result.calls.map(c => el('tr', { 'data-call': c.callId },
        el('td', { class: 'id' }, link('#/call/' + encodeURIComponent(c.callId), c.callId)),
        el('td', {}, c.function),
        stateCell(c.state),
        el('td', { class: 'num' }, `${c.attempts}/${c.maxAttempts}`),
        el('td', { class: 'time' }, time(c.createdAt)),
        el('td', { class: 'time' }, time(c.finishedAt)),
        el('td', { class: 'num' }, c.statusCode ?? ''),
        el('td', {}, c.error ?? '')));
      listing.replaceChildren(rows.length
        ? table(['Call', 'Function', 'State', 'Attempts', 'Accepted', 'Finished', 'Status', 'Error'], rows, { id: 'calls' })
        : message('No calls match.'));
      if (result.olderUnlisted) listing.append(message('Older calls exist that this listing did not read (NATS reads a bounded window).'));
    } catch (error) {
      listing.replaceChildren(message(String(error.message ?? error), 'error'));
    }
  }

  async function bulk(action) {
    const what = action === 'replay' ? 'Replay the calls that match the filter?' : 'Cancel the queued calls that match the filter?';
    if (!window.confirm(what)) return;
    bulkResult.textContent = 'Working…';
    const total = { matched: 0, done: 0, skipped: 0, refused: 0, reason: null };
    try {
      let url = `/async-calls/${action}?` + query(filters);
      for (let i = 0; url && i < maxBulkPages; i++) {
        const body = await postJson(url);
        total.matched += body.matched;
        total.done += (action === 'replay' ? body.replayed : body.cancelled) ?? 0;
        total.skipped += body.skipped;
        total.refused += body.refused ?? 0;
        total.reason ??= body.reason ?? null;
        url = body.more ? body.next : null;
      }
      bulkResult.textContent = `${action === 'replay' ? 'Replayed' : 'Cancelled'} ${total.done} of ${total.matched} matching; `
        + `${total.skipped} left as they were` + (total.refused ? `; ${total.refused} refused: ${total.reason}` : '') + '.';
    } catch (error) {
      bulkResult.textContent = String(error.message ?? error);
    }
    load();
  }

  await load();
  const timer = setInterval(() => { if (live.checked) load(); }, 2000);
  return () => clearInterval(timer);
}
