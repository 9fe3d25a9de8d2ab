import { here } from './api.js';
import { el, table, time, message } from './dom.js';

export async function logsPage(page, { arg: name }) {
  page.append(el('h1', {}, 'Log lines of ', name));
  const body = el('div', {}, message('Loading…'));
  page.append(body);
  let lines = [];
  try {
    const response = await fetch(here('/system/logs?name=' + encodeURIComponent(name) + '&tail=200&follow=false'), { cache: 'no-store' });
    if (response.ok) {
      lines = (await response.text()).split('\n').filter(l => l.trim()).map(l => {
        try { return JSON.parse(l); } catch { return { text: l }; }
      });
    }
  } catch {
    lines = [];
  }
  body.replaceChildren(lines.length
    ? table(['Time', 'Instance', 'Text'], lines.map(l => el('tr', {}, el('td', { class: 'time' }, time(l.timestamp)), el('td', {}, l.instance ?? ''), el('td', {}, el('code', {}, l.text ?? '')))), { id: 'logs' })
    : message('No log lines.'));
}
