// trellis.js: the first-party browser tracker served by Trellis Ingress at GET /trellis.js.
//
//   <script async src="https://ingress.example.com/trellis.js" data-key="trk_…"></script>
//
// Sends a pageview on load and on single-page navigations, keeps the landing page's click ids and
// UTM parameters for the attribution window and attaches them to every later event, keeps an
// anonymous visitor id and a session id, and queues events in localStorage while the service
// cannot take them. Built with esbuild into src/main/resources/tracker/trellis.js (npm run
// build:tracker in clients/); a test checks that the committed build matches this source.

const VERSION = '1';

// The ad platforms' click ids the service extracts (capture.ClickIds), plus the generic names.
const CLICK_IDS = [
  'click_id', 'clickid', 'gclid', 'gbraid', 'wbraid', 'dclid', 'fbclid', 'msclkid', 'ttclid',
  'li_fat_id', 'twclid', 'epik', 'ScCid', 'sccid', 'rdt_cid', 'yclid', 'qclid', 'tblci',
  'irclickid', 'ef_id', 's_kwcid', '_kx', 'mc_eid', 'obclid',
];
const UTM = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'utm_id'];

const DAY = 86400000;
const MINUTE = 60000;
// Keepalive requests share a 64 KiB budget per page; a batch stays well below it.
const BATCH_BYTES = 32768;
const BATCH_EVENTS = 50;
// Beyond this many queued events the oldest are dropped, so storage never fills up.
const QUEUE_MAX = 500;
const PREFIX = 'trellis.';

const w = window;
const doc = document;
const nav = navigator;
const script = doc.currentScript;

function attr(name, fallback) {
  const v = script && script.getAttribute('data-' + name);
  return v == null || v === '' ? fallback : v;
}

const key = attr('key', '');
// Where the script was loaded from, without its file name: the service's own address, with the
// path a proxy serves it under (https://shop.example/collect/trellis.js sends to /collect/batch).
const endpoint = attr('endpoint', script && script.src ? new URL('.', script.src).href.replace(/\/$/, '') : '');
const attributionMs = Number(attr('attribution-days', 90)) * DAY;
const sessionMs = Number(attr('session-minutes', 30)) * MINUTE;
const respectDnt = !!script && script.hasAttribute('data-respect-dnt') && attr('respect-dnt', '') !== 'false';
const linkHosts = attr('link-hosts', '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
const autoPageview = attr('auto-pageview', 'true') !== 'false';

// ---- storage: localStorage, or memory where the browser refuses it ----

const memory = {};
function load(name) {
  try {
    const v = w.localStorage.getItem(PREFIX + name);
    return v == null ? memory[name] : JSON.parse(v);
  } catch (e) {
    return memory[name];
  }
}
function save(name, value) {
  memory[name] = value;
  try {
    w.localStorage.setItem(PREFIX + name, JSON.stringify(value));
  } catch (e) {
    // Private modes and full storage: the value lives in memory for this page.
  }
}

function uuid() {
  const b = new Uint8Array(16);
  w.crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += (b[i] + 0x100).toString(16).slice(1);
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}

// ---- identity: visitor, session, user, attribution ----

function visitorId() {
  let v = load('visitor');
  if (!v) {
    v = uuid();
    save('visitor', v);
  }
  return v;
}

function sessionId(now) {
  let s = load('session');
  if (!s || !s.id || now - s.last > sessionMs) {
    s = { id: uuid(), start: now };
  }
  s.last = now;
  save('session', s);
  return s.id;
}

// Last touch wins: a landing URL with any click id or UTM parameter replaces what was kept.
function captureAttribution(now) {
  const params = new URLSearchParams(w.location.search);
  const found = {};
  let any = false;
  for (const name of CLICK_IDS.concat(UTM)) {
    const v = params.get(name);
    if (v) {
      found[name] = v;
      any = true;
    }
  }
  if (any) {
    save('attribution', {
      params: found,
      landing_url: w.location.href,
      landed_at: new Date(now).toISOString(),
      expires: now + attributionMs,
    });
  }
}

function attribution(now) {
  const a = load('attribution');
  return a && a.expires > now ? a : null;
}

// ---- the queue: every event is stored before it is sent, and removed once handed off ----

let retryAt = 0;
let backoff = 0;
let timer = 0;
let sending = false;
let inflight = 0;

function queue() {
  const q = load('queue');
  return Array.isArray(q) ? q : [];
}

function enqueue(event) {
  const q = queue();
  q.push(event);
  save('queue', q.length > QUEUE_MAX ? q.slice(q.length - QUEUE_MAX) : q);
}

// Takes events off the stored queue, up to the batch size, so no other page sends them too.
function take() {
  const q = queue();
  const batch = [];
  let bytes = 2;
  while (q.length && batch.length < BATCH_EVENTS) {
    const size = JSON.stringify(q[0]).length + 1;
    if (batch.length && bytes + size > BATCH_BYTES) break;
    batch.push(q.shift());
    bytes += size;
  }
  save('queue', q);
  return batch;
}

// Puts events that could not be sent back at the front, in their order.
function putBack(batch) {
  save('queue', batch.concat(queue()));
}

function url() {
  return endpoint + '/batch?api_key=' + encodeURIComponent(key);
}

function schedule(delay) {
  if (timer) return;
  timer = setTimeout(() => {
    timer = 0;
    flush();
  }, delay);
}

function flush() {
  const now = Date.now();
  const stored = load('retry_at') || 0;
  retryAt = Math.max(retryAt, stored);
  if (sending || !nav.onLine) return;
  if (now < retryAt) {
    schedule(retryAt - now);
    return;
  }
  const batch = take();
  if (!batch.length) return;
  if (!w.fetch) {
    batch.forEach(pixel);
    return;
  }
  sending = true;
  inflight = batch.length;
  let request;
  try {
    request = w.fetch(url(), {
      method: 'POST',
      body: JSON.stringify(batch),
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      keepalive: true,
      credentials: 'omit',
      mode: 'cors',
    });
  } catch (e) {
    request = Promise.reject(e);
  }
  request.then(
    (res) => {
      sending = false;
      inflight = 0;
      if (res.ok) {
        backoff = 0;
        flush();
      } else if (res.status === 429 || res.status >= 500) {
        putBack(batch);
        const after = Number(res.headers.get('Retry-After'));
        retry(after > 0 ? after * 1000 : nextBackoff(), true);
      } else {
        // 400, 401, 413: the same events would be refused again.
        if (w.console) w.console.warn('trellis: events refused with status ' + res.status);
        flush();
      }
    },
    () => {
      sending = false;
      inflight = 0;
      putBack(batch);
      // Offline: the online event sends them; otherwise back off and try again.
      if (nav.onLine) retry(nextBackoff(), false);
    },
  );
}

function nextBackoff() {
  backoff = Math.min(backoff ? backoff * 2 : 1000, 60000);
  return backoff;
}

function retry(delay, persist) {
  retryAt = Date.now() + delay;
  if (persist) save('retry_at', retryAt);
  schedule(delay);
}

// The page is going away: hand what is queued to the browser, unless the service asked to wait.
function flushOnExit() {
  if (!nav.sendBeacon || !nav.onLine || Date.now() < Math.max(retryAt, load('retry_at') || 0)) {
    return;
  }
  for (;;) {
    const batch = take();
    if (!batch.length) return;
    let queued = false;
    try {
      queued = nav.sendBeacon(url(), new Blob([JSON.stringify(batch)], { type: 'text/plain' }));
    } catch (e) {
      queued = false;
    }
    if (!queued) {
      putBack(batch);
      return;
    }
  }
}

// Browsers with neither fetch nor sendBeacon: one GET /pixel per event, fields in the query.
function pixel(event) {
  const q = ['api_key=' + encodeURIComponent(key)];
  for (const name in event) {
    const v = event[name];
    q.push(encodeURIComponent(name) + '=' + encodeURIComponent(typeof v === 'object' ? JSON.stringify(v) : v));
  }
  new Image(1, 1).src = endpoint + '/pixel?' + q.join('&');
}

// ---- events ----

function optedOut() {
  return respectDnt && (nav.doNotTrack === '1' || w.doNotTrack === '1' || nav.globalPrivacyControl === true);
}

function send(name, extra) {
  if (!key || optedOut()) return null;
  const now = Date.now();
  const event = {
    event: name,
    event_id: uuid(),
    visitor_id: visitorId(),
    session_id: sessionId(now),
    sent_at: new Date(now).toISOString(),
    url: w.location.href,
    title: doc.title,
    referrer: doc.referrer,
    screen: w.screen ? w.screen.width + 'x' + w.screen.height : '',
    language: nav.language,
    lib: 'trellis.js/' + VERSION,
  };
  const user = load('user');
  if (user) event.user_id = user;
  const a = attribution(now);
  if (a) {
    Object.assign(event, a.params);
    event.landing_url = a.landing_url;
    event.landed_at = a.landed_at;
  }
  Object.assign(event, extra);
  enqueue(event);
  // Events of one tick go out together.
  schedule(0);
  return event.event_id;
}

let lastUrl = '';
function pageview() {
  // replaceState with the same URL (routers do it often) is not a new page.
  if (w.location.href === lastUrl) return null;
  const previous = lastUrl;
  lastUrl = w.location.href;
  return send('pageview', previous ? { referrer: previous } : {});
}

function track(name, properties) {
  return send(String(name), { properties: properties || {} });
}

function identify(userId, traits) {
  if (userId != null) save('user', String(userId));
  return send('identify', { traits: traits || {} });
}

// ---- outbound links through /r, for allowed hosts ----

function allowedHost(host) {
  host = host.toLowerCase();
  return linkHosts.some((h) => (h.startsWith('*.') ? host.endsWith(h.slice(1)) : host === h));
}

function rewrite(e) {
  let a = e.target;
  while (a && a.tagName !== 'A') a = a.parentElement;
  if (!a || !a.href || a.getAttribute('data-trellis-link') === 'done' || optedOut()) return;
  let target;
  try {
    target = new URL(a.href);
  } catch (err) {
    return;
  }
  if (target.host === w.location.host || !/^https?:$/.test(target.protocol) || !allowedHost(target.hostname)) {
    return;
  }
  const now = Date.now();
  const q = new URLSearchParams({
    api_key: key,
    u: target.href,
    event: 'outbound_click',
    visitor_id: visitorId(),
    session_id: sessionId(now),
    page: w.location.href,
  });
  const at = attribution(now);
  if (at) for (const n in at.params) q.set(n, at.params[n]);
  a.href = endpoint + '/r?' + q.toString();
  a.setAttribute('data-trellis-link', 'done');
}

// ---- start ----

function start() {
  const now = Date.now();
  captureAttribution(now);
  for (const m of ['pushState', 'replaceState']) {
    const original = w.history[m];
    w.history[m] = function () {
      const r = original.apply(this, arguments);
      if (autoPageview) pageview();
      return r;
    };
  }
  w.addEventListener('popstate', () => autoPageview && pageview());
  w.addEventListener('online', () => flush());
  w.addEventListener('pagehide', flushOnExit);
  doc.addEventListener('visibilitychange', () => {
    if (doc.visibilityState === 'hidden') flushOnExit();
  });
  if (linkHosts.length) {
    doc.addEventListener('mousedown', rewrite, true);
    doc.addEventListener('click', rewrite, true);
    doc.addEventListener('keydown', (e) => e.key === 'Enter' && rewrite(e), true);
  }
  const api = {
    track,
    identify,
    page: pageview,
    flush,
    // Calls queued before the script loaded: window.trellis = [['track', 'signup', {...}]].
    push: (call) => api[call[0]] && api[call[0]].apply(api, call.slice(1)),
    visitorId,
    // Events not yet acknowledged or handed to the browser: queued plus in flight.
    pending: () => queue().length + inflight,
    version: VERSION,
  };
  const early = Array.isArray(w.trellis) ? w.trellis : [];
  w.trellis = api;
  if (autoPageview) pageview();
  early.forEach(api.push);
  // Events queued on an earlier visit (offline, or the service asked to wait).
  schedule(0);
}

if (!w.trellis || Array.isArray(w.trellis)) start();
