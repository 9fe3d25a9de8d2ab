// Every value from the API or a function is put in the page as text, never parsed as HTML: a
// function's output and a call's error are written by code the gateway does not trust.
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else if (name === 'value') element.value = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function link(hash, text) {
  return el('a', { href: hash }, text);
}

export function table(headings, rows, attributes = {}) {
  return el('table', attributes,
    headings ? el('thead', {}, el('tr', {}, headings.map(h => el('th', {}, h)))) : null,
    el('tbody', {}, rows));
}

export function time(value) {
  return value ? new Date(value).toLocaleString() : '';
}

export function seconds(from, to) {
  if (!from || !to) return '';
  return ((new Date(to) - new Date(from)) / 1000).toFixed(3) + ' s';
}

export function stateCell(state) {
  return el('td', { class: 'state-' + state }, state);
}

export function message(text, kind = 'muted') {
  return el('p', { class: kind }, text);
}
