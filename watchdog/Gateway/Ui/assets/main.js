import { functionsPage } from './functions.js';
import { invokePage } from './invoke.js';
import { callsPage } from './calls.js';
import { callPage } from './call.js';
import { logsPage } from './logs.js';
import { getJson } from './api.js';
import { message } from './dom.js';

const pages = { functions: functionsPage, invoke: invokePage, calls: callsPage, call: callPage, logs: logsPage };

// #/page/argument?query
function route() {
  const hash = window.location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  const [name, ...rest] = path.split('/');
  return { name: pages[name] ? name : 'functions', arg: decodeURIComponent(rest.join('/')), params: new URLSearchParams(query) };
}

let stop = null;
let generation = 0;

async function render() {
  const mine = ++generation;
  if (stop) stop();
  stop = null;
  const page = document.getElementById('page');
  page.replaceChildren();
  const current = route();
  try {
    const cleanup = await pages[current.name](page, current);
    if (mine === generation) stop = cleanup ?? null;
    else if (cleanup) cleanup();
  } catch (error) {
    if (mine === generation) page.replaceChildren(message(String(error.message ?? error), 'error'));
  }
}

async function showAccess() {
  const note = document.getElementById('access');
  try {
    const { basicAuth } = await getJson('/ui/api/functions');
    note.textContent = basicAuth
      ? 'Signed in with the gateway\'s basic_auth credentials: you can open, replay and cancel any call.'
      : 'basic_auth is off: anyone who reaches this port can use this console, list calls and replay or cancel them in bulk. '
        + 'A single call (its result, replay, cancel) opens only with its token, which this tab holds for the calls it queued; '
        + 'turn basic_auth on to open any call here (see docs/security.md).';
  } catch (error) {
    note.textContent = String(error.message ?? error);
  }
}

window.addEventListener('hashchange', render);
showAccess();
render();
