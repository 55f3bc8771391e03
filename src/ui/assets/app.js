// The status page. Plain ES module, no dependencies, no build step.
// Data comes from the daemon's own API with the token from sessionStorage in
// an Authorization header; live changes come from /api/stream, read with
// fetch() (EventSource cannot send headers) and resumed with Last-Event-ID.

const TOKEN_KEY = 'callbridge.token';
const LIVE_MAX = 15;
const HISTORY_MAX = 30;
const simulated = document.querySelector('meta[name="callbridge-simulated"]')?.content === '1';
const tokenRequired = document.querySelector('meta[name="callbridge-auth"]')?.content === '1';

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('data-')) node.setAttribute(k, String(v));
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

const token = () => sessionStorage.getItem(TOKEN_KEY) || '';
const authHeaders = () => (token() ? { authorization: `Bearer ${token()}` } : {});

class Unauthorized extends Error {}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...authHeaders(), ...(init.headers || {}) }, cache: 'no-store' });
  if (res.status === 401) throw new Unauthorized('unauthorized');
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`);
  return body;
}

const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const fmtClock = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');
function fmtUptime(s) {
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}
const statusSpan = (status) => el('span', { class: `status s-${status}`, text: status });

// ---- login -------------------------------------------------------------

function showLogin(message) {
  $('#login').hidden = false;
  $('#logout').hidden = true;
  $('#login-error').textContent = message || '';
  $('#token').focus();
}

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('#token').value.trim());
  $('#token').value = '';
  start();
});
$('#logout').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  stopStream();
  showLogin('');
});

// The service worker asks for the token when an <audio> element requests a recording.
const workerReady = (async () => {
  if (!('serviceWorker' in navigator)) return false;
  try {
    navigator.serviceWorker.onmessage = (e) => {
      if (e.data?.type === 'callbridge-token' && e.ports[0]) e.ports[0].postMessage({ token: token() });
    };
    await navigator.serviceWorker.register('/ui/sw.js', { scope: '/' });
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => {
        navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
        setTimeout(resolve, 3000);
      });
    }
    return Boolean(navigator.serviceWorker.controller);
  } catch {
    return false;
  }
})();

// ---- health ------------------------------------------------------------

async function refreshHealth() {
  try {
    const res = await fetch('/health', { cache: 'no-store' });
    const h = await res.json();
    const put = (key, text, ok) => {
      const li = $(`#health li[data-key="${key}"]`);
      li.querySelector('b').textContent = text;
      li.className = ok === undefined ? '' : ok ? 'ok' : 'bad';
    };
    put('ami', h.ami, h.ami === 'connected');
    put('ari', h.ari, h.ari !== 'disconnected');
    put('db', h.db_error ? `${h.db}: ${h.db_error}` : h.db, h.db === 'ok');
    put('version', h.version);
    if (typeof h.uptime === 'number') put('uptime', fmtUptime(h.uptime));
  } catch {
    $('#health li[data-key="ami"] b').textContent = 'daemon unreachable';
  }
}

// ---- live calls --------------------------------------------------------

const calls = new Map(); // call_id -> { info, chain: Map(status id -> status row) }

function noteCall(info) {
  let call = calls.get(info.call_id);
  if (!call) {
    call = { info: {}, chain: new Map() };
    calls.set(info.call_id, call);
  }
  for (const [k, v] of Object.entries(info)) if (v !== undefined && v !== null) call.info[k] = v;
  return call;
}

function renderLive() {
  const list = $('#live-calls');
  const ids = [...calls.keys()].sort((a, b) => b - a);
  for (const id of ids.slice(LIVE_MAX)) calls.delete(id);
  list.replaceChildren(
    ...ids.slice(0, LIVE_MAX).map((id) => {
      const { info, chain } = calls.get(id);
      const steps = [...chain.values()].sort((a, b) => a.id - b.id);
      const last = steps[steps.length - 1];
      const final = Boolean(last?.final ?? info.final);
      return el(
        'li',
        { class: final ? 'final' : 'open', 'data-call-id': id, 'data-status': last?.status || info.status || '' },
        el(
          'div',
          { class: 'head' },
          el('b', { text: `#${id}` }),
          el('span', { text: `${info.sip || '?'} → ${info.phone || '?'}` }),
          info.order_id ? el('span', { class: 'note', text: `order ${info.order_id}` }) : null,
          el('span', { class: 'note', text: info.direction || '' }),
          statusSpan(last?.status || info.status || ''),
        ),
        el('ol', { class: 'chain' }, ...steps.map((s) => el('li', { title: fmtTime(s.time), text: s.status }))),
      );
    }),
  );
  $('#live .empty').hidden = ids.length > 0;
}

let recentTimer;
function onStatus(ev) {
  const call = noteCall({ call_id: ev.call_id, sip: ev.sip, phone: ev.phone, order_id: ev.order_id, direction: ev.direction, status: ev.status, final: ev.final });
  call.chain.set(ev.id, ev);
  renderLive();
  if (ev.final) {
    // the recording is stored as the call ends: list it shortly after
    clearTimeout(recentTimer);
    recentTimer = setTimeout(() => void loadRecent(), 1500);
  }
}

async function loadLive() {
  const { calls: rows } = await api('/api/callList.json?per_page=10');
  for (const c of rows) noteCall({ call_id: c.call_id, sip: c.sip, phone: c.phone, order_id: c.order_id, direction: c.direction, status: c.status, final: c.final });
  await Promise.all(
    rows.map(async (c) => {
      const { history } = await api(`/api/callHistory.json?call_id=${c.call_id}`);
      const call = calls.get(c.call_id);
      for (const s of history) if (!call.chain.has(s.id)) call.chain.set(s.id, { ...s, final: s.id === history[history.length - 1].id && c.final });
    }),
  );
  renderLive();
}

// ---- SIP endpoints and operator history ---------------------------------

const sips = new Map();

function renderSips() {
  const rows = [...sips.values()].sort((a, b) => a.sip.localeCompare(b.sip, undefined, { numeric: true }));
  $('#sip-rows').replaceChildren(
    ...rows.map((s) =>
      el(
        'tr',
        { 'data-sip': s.sip, 'data-status': s.status },
        el('td', { text: s.sip }),
        el('td', {}, statusSpan(s.status)),
        el('td', { text: fmtTime(s.since) }),
        el('td', { class: 'wrap', text: s.user_agent || '' }),
        el('td', { class: 'wrap contact', text: s.contact || '' }),
      ),
    ),
  );
}

async function loadSips() {
  sips.clear();
  for (let page = 1; ; page++) {
    const body = await api(`/api/sipList.json?per_page=100&page=${page}`);
    for (const s of body.sips) sips.set(s.sip, s);
    if (page * body.per_page >= body.total) break;
  }
  renderSips();
}

const historyRow = (h) =>
  el(
    'tr',
    { 'data-history-id': h.id },
    el('td', { text: fmtClock(h.time), title: fmtTime(h.time) }),
    el('td', { text: h.sip }),
    el('td', {}, statusSpan(h.status)),
    el('td', { text: h.previous_status || '—' }),
    el('td', { class: 'wrap', text: h.reason }),
  );

const history = new Map(); // id -> operator history row

function renderHistory() {
  const ids = [...history.keys()].sort((a, b) => b - a);
  for (const id of ids.slice(HISTORY_MAX)) history.delete(id);
  $('#history-rows').replaceChildren(...ids.slice(0, HISTORY_MAX).map((id) => historyRow(history.get(id))));
}

async function loadHistory() {
  const body = await api(`/api/operatorHistory.json?per_page=${HISTORY_MAX}`);
  for (const h of body.history) history.set(h.id, h);
  renderHistory();
}

let sipTimer;
function onPresence(ev) {
  history.set(ev.id, ev);
  renderHistory();
  const s = sips.get(ev.sip) || { sip: ev.sip };
  sips.set(ev.sip, { ...s, status: ev.status, since: ev.time });
  renderSips();
  // contact and user agent are not in the event: read them again (a registration brings them a moment later)
  clearTimeout(sipTimer);
  sipTimer = setTimeout(() => void loadSips().catch(() => {}), 1500);
}

// ---- recent calls --------------------------------------------------------

function filterValues() {
  const f = new FormData($('#filters'));
  return { sip: f.get('sip').trim(), order: f.get('order_id').trim(), status: f.get('status'), date: f.get('date') };
}

function dayRange(date) {
  const [y, m, d] = date.split('-').map(Number);
  const from = new Date(y, m - 1, d).getTime();
  return { from, to: new Date(y, m - 1, d + 1).getTime() - 1 };
}

function recordingCell(records) {
  const rec = (records || [])[0];
  if (!rec) return el('td', { text: '—' });
  const audio = el('audio', { controls: true, preload: 'metadata', 'data-recording-id': rec.id });
  const duration = el('span', { class: 'duration' });
  audio.addEventListener('loadedmetadata', () => {
    if (Number.isFinite(audio.duration)) {
      duration.textContent = `${audio.duration.toFixed(1)} s`;
      audio.dataset.duration = String(audio.duration);
    }
  });
  let retried = false;
  audio.addEventListener('error', () => {
    // the file may still be being written as the call ends: try once more
    if (retried) return void (duration.textContent = 'not available');
    retried = true;
    setTimeout(() => attach(audio, rec.id), 2000);
  });
  void attach(audio, rec.id);
  return el('td', {}, audio, duration);
}

/** On the download URL itself (the service worker adds the token); a blob of it where no worker can run. */
async function attach(audio, id) {
  const url = `/recordings/${id}`;
  if (!token() || (await workerReady)) {
    audio.src = url;
    return;
  }
  try {
    const res = await fetch(url, { headers: authHeaders() });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    audio.src = URL.createObjectURL(await res.blob());
  } catch {
    audio.dispatchEvent(new Event('error'));
  }
}

async function loadRecent() {
  const f = filterValues();
  const range = f.date ? dayRange(f.date) : undefined;
  let rows;
  try {
    if (f.order) {
      // orderRecords lists an order's calls; the other filters apply to them here
      const body = await api(`/api/orderRecords.json?order_id=${encodeURIComponent(f.order)}`);
      rows = body.calls
        .map((c) => ({ ...c, order_id: body.order_id }))
        .filter((c) => !f.sip || c.sip === f.sip)
        .filter((c) => !f.status || c.status === f.status)
        .filter((c) => !range || (Date.parse(c.started_at) >= range.from && Date.parse(c.started_at) <= range.to))
        .sort((a, b) => b.call_id - a.call_id);
    } else {
      const q = new URLSearchParams({ per_page: '20' });
      if (f.sip) q.set('sip', f.sip);
      if (f.status) q.set('status', f.status);
      if (range) {
        q.set('from', String(range.from));
        q.set('to', String(range.to));
      }
      rows = (await api(`/api/callList.json?${q}`)).calls;
    }
    $('#recent-error').textContent = '';
  } catch (err) {
    if (err instanceof Unauthorized) throw err;
    $('#recent-error').textContent = err.message;
    return;
  }
  $('#recent-rows').replaceChildren(
    ...rows.map((c) =>
      el(
        'tr',
        { 'data-call-id': c.call_id },
        el('td', { text: `#${c.call_id}` }),
        el('td', { text: fmtTime(c.started_at) }),
        el('td', { text: c.direction || '' }),
        el('td', { text: c.sip || '' }),
        el('td', { text: c.phone || '' }),
        el('td', { text: c.order_id || '' }),
        el('td', {}, statusSpan(c.status)),
        el('td', { text: c.billsec ? `${c.billsec} s` : '' }),
        recordingCell(c.records),
      ),
    ),
  );
}

$('#filters').addEventListener('submit', (e) => {
  e.preventDefault();
  void loadRecent();
});
$('#filters').addEventListener('reset', () => setTimeout(() => void loadRecent(), 0));

// ---- simulator buttons -----------------------------------------------------

function simResult(text, isError) {
  const p = $('#sim-result');
  p.textContent = text;
  p.className = isError ? 'error' : 'note';
}

$('#sim-call').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    const body = await api('/api/makeCall.json', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sip: f.get('sip'), phone: f.get('phone'), order_id: f.get('order_id') }),
    });
    simResult(`call #${body.call_id} placed`);
  } catch (err) {
    simResult(err.message, true);
  }
});

$('#sim-phone').addEventListener('submit', async (e) => {
  e.preventDefault();
  const sip = new FormData(e.target).get('sip');
  const action = e.submitter?.value === 'unregister' ? 'unregister' : 'register';
  try {
    await api(`/simulator/endpoints/${encodeURIComponent(sip)}/${action}`, { method: 'POST' });
    simResult(`${sip}: ${action} sent`);
  } catch (err) {
    simResult(err.message, true);
  }
});

// ---- the event stream ------------------------------------------------------

let streamAbort;
let lastEventId = '';

function stopStream() {
  streamAbort?.abort();
  streamAbort = undefined;
}

function setStreamState(text, ok) {
  const b = $('#stream-state');
  b.textContent = text;
  b.parentElement.className = ok === undefined ? '' : ok ? 'ok' : 'bad';
}

function dispatch(block, onReady) {
  let event = 'message';
  let id;
  const data = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (id !== undefined) lastEventId = id;
  if (data.length === 0) return;
  const payload = JSON.parse(data.join('\n'));
  if (event === 'ready') onReady();
  else if (event === 'status') onStatus(payload);
  else if (event === 'presence') onPresence(payload);
}

async function runStream(onFirstReady) {
  stopStream();
  const controller = new AbortController();
  streamAbort = controller;
  let first = true;
  while (!controller.signal.aborted) {
    try {
      const headers = { ...authHeaders(), ...(lastEventId ? { 'last-event-id': lastEventId } : {}) };
      const res = await fetch('/api/stream', { headers, cache: 'no-store', signal: controller.signal });
      if (res.status === 401) {
        showLogin('The token was refused.');
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      setStreamState('live', true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          dispatch(block, () => {
            if (first) {
              first = false;
              void onFirstReady();
            }
          });
        }
      }
    } catch (err) {
      if (controller.signal.aborted) return;
      console.warn('event stream interrupted:', err?.message || err);
    }
    setStreamState('reconnecting', false);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

// ---- start -----------------------------------------------------------------

async function start() {
  $('#simulator').hidden = !simulated;
  if (tokenRequired && !token()) return showLogin('');
  try {
    await api('/api/sipList.json?per_page=1');
  } catch (err) {
    if (err instanceof Unauthorized) return showLogin(token() ? 'The token was refused.' : '');
    setStreamState('error', false);
    return;
  }
  $('#login').hidden = true;
  $('#logout').hidden = !token();
  // subscribe first, then read what is there: an event that lands in between is in both and kept once (by id)
  void runStream(async () => {
    try {
      await Promise.all([loadLive(), loadSips(), loadHistory(), loadRecent()]);
    } catch (err) {
      if (err instanceof Unauthorized) showLogin('The token was refused.');
      else console.warn('loading failed:', err.message);
    }
  });
}

void refreshHealth();
setInterval(() => void refreshHealth(), 5000);
void start();
