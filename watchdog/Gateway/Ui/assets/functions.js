import { functions } from './api.js';
import { el, link, table, message } from './dom.js';

function rate(errors, total) {
  return total ? (100 * errors / total).toFixed(1) + ' %' : '';
}

function count(value) {
  return value === null || value === undefined ? '?' : value;
}

export async function functionsPage(page) {
  const body = el('div', {}, message('Loading…'));
  page.append(el('h1', {}, 'Functions'), body);
  async function refresh() {
    try {
      const { functions: list } = await functions();
      const rows = list.map(f => el('tr', { 'data-function': f.name },
        el('td', {}, f.name),
        el('td', {}, f.kind ?? ''),
        el('td', { class: f.ready ? 'ready-yes' : 'ready-no' }, f.ready ? 'ready' : 'not ready'),
        el('td', { class: 'num' }, f.invocationCount ?? 0),
        el('td', { class: 'num' }, f.errorCount ?? 0),
        el('td', { class: 'num' }, rate(f.errorCount ?? 0, f.invocationCount ?? 0)),
        el('td', { class: 'num' }, count(f.queued)),
        el('td', { class: 'num' }, count(f.running)),
        el('td', {},
          link('#/invoke?function=' + encodeURIComponent(f.name), 'invoke'), ' · ',
          link('#/calls?function=' + encodeURIComponent(f.name), 'calls'), ' · ',
          link('#/logs/' + encodeURIComponent(f.name), 'logs'))));
      body.replaceChildren(
        list.length ? table(['Function', 'Kind', 'Readiness', 'Calls', 'Errors (≥500)', 'Error rate', 'Queued', 'Running', ''], rows, { id: 'functions' })
          : message('The stack file defines no functions.'),
        message('Calls and errors since the gateway started; queued and running are async calls (running on this gateway).'));
    } catch (error) {
      body.replaceChildren(message(String(error.message ?? error), 'error'));
    }
  }
  await refresh();
  const timer = setInterval(refresh, 5000);
  return () => clearInterval(timer);
}
