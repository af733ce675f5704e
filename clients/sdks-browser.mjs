// Runs the browser SDKs of Segment (analytics.js), RudderStack, PostHog and Snowplow, unchanged,
// in one headless Chromium: each in its own page on a second origin, configured with nothing but
// the service's URL and the key. Each page sends every call type its library has.
// Usage: node sdks-browser.mjs <service-origin> <run-id> <library>=<api-key> ...
// (libraries: segment, rudder, posthog, snowplow)
// Prints {library: {calls, requests, errors}} as JSON on stdout; `requests` is every request the
// page made to the service with its answer's status. CHROMIUM_PATH overrides /usr/bin/chromium.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const [service, runId, ...pairs] = process.argv.slice(2);
const keys = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
if (!service || !runId || !pairs.length) {
  console.error('usage: node sdks-browser.mjs <service-origin> <run-id> <library>=<api-key> ...');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const LIBS = {
  '/lib/segment.js': 'node_modules/@segment/analytics-next/dist/umd/index.js',
  '/lib/rudder.js': 'node_modules/@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js',
  '/lib/posthog.js': 'node_modules/posthog-js/dist/array.js',
  '/lib/snowplow.js': 'node_modules/@snowplow/browser-tracker/dist/index.umd.min.js',
};

// Each page's script: the library's documented set-up with only the host and key, then every call
// type. window.results.calls gets what the page can tell about each call (message ids).
const SCRIPTS = {
  segment: `
    // The settings come from the service, as they would from Segment's CDN.
    const [analytics] = await AnalyticsNext.AnalyticsBrowser.load({ writeKey: K, cdnURL: S });
    const calls = {};
    const ctxs = await Promise.all([
      analytics.track('Order Completed', { runId: R, total: 42.5 }),
      analytics.page('Docs', 'Pricing', { runId: R, url: location.origin + '/pricing?gclid=G-page-' + R + '&utm_source=seg' }),
      analytics.identify('user-' + R, { runId: R, plan: 'pro' }),
      analytics.group('group-' + R, { runId: R }),
      analytics.alias('user-' + R, 'anon-' + R),
      analytics.screen('Home', { runId: R }),
    ]);
    ['track', 'page', 'identify', 'group', 'alias', 'screen'].forEach((t, i) => calls[t] = ctxs[i].event.messageId);
    return calls;`,
  rudder: `
    const ra = new rudderanalytics.RudderAnalytics();
    await new Promise((resolve) => {
      ra.load(K, S, { configUrl: S, onLoaded: resolve, logLevel: 'ERROR' });
    });
    const done = [];
    const cb = () => { let r; done.push(new Promise((x) => r = x)); return () => r(); };
    ra.track('Order Completed', { runId: R, total: 42.5 }, cb());
    ra.page('Docs', 'Pricing', { runId: R }, cb());
    ra.identify('user-' + R, { runId: R, plan: 'pro' }, cb());
    ra.group('group-' + R, { runId: R }, cb());
    ra.alias('user-' + R, 'anon-' + R, cb());
    await Promise.all(done);
    return {};`,
  posthog: `
    // opt_out_useragent_filter: PostHog drops events from automated browsers (navigator.webdriver),
    // which this test drives; a site leaves it out.
    await new Promise((resolve) => posthog.init(K, { api_host: S, loaded: resolve, opt_out_useragent_filter: true }));
    // The remote config says there are no flags; an app that asks anyway gets none.
    const flags = await new Promise((resolve) => {
      posthog.onFeatureFlags((f) => resolve(f));
      posthog.reloadFeatureFlags();
    });
    const session_id = posthog.get_session_id();
    posthog.capture('order_completed', { runId: R, total: 42.5 });
    posthog.identify('user-' + R, { runId: R, plan: 'pro' });
    posthog.group('company', 'group-' + R, { runId: R });
    posthog.alias('alias-' + R);
    posthog.capture('$pageleave', { runId: R });
    // PostHog sends its queue every few seconds: wait for that request's answer.
    await until(() => seen.some((r) => r.url.startsWith(S + '/e/')));
    return { distinct_id: posthog.get_distinct_id(), session_id, flags };`,
  snowplow: `
    const sp = snowplowBrowserTracking;
    // What the tracker says it delivered: the event codes of every acknowledged request.
    const delivered = [];
    sp.newTracker('post', S + '/snowplow/' + K, { appId: 'shop', platform: 'web',
      onRequestSuccess: (batch) => batch.forEach((e) => delivered.push(e.e)) });
    sp.newTracker('get', S + '/snowplow/' + K, { appId: 'shop', platform: 'web', eventMethod: 'get' });
    // Page pings: one a second once the visitor has been active for a second.
    sp.enableActivityTracking({ minimumVisitLength: 1, heartbeatDelay: 1 }, ['post']);
    // A custom entity on every event, beside the tracker's own web_page entity.
    const context = [{ schema: 'iglu:com.acme/cart/jsonschema/1-0-0', data: { runId: R, items: 2 } }];
    sp.trackPageView({ title: 'Pricing', context }, ['post']);
    sp.trackStructEvent({ category: 'shop', action: 'add-to-basket', label: R, property: 'sku-1',
        value: 2, context }, ['post']);
    sp.trackSelfDescribingEvent({ event: { schema: 'iglu:com.acme/checkout/jsonschema/1-0-0',
        data: { runId: R, total: 42.5 } }, context }, ['post']);
    sp.trackPageView({ title: 'Pixel', context }, ['get']);
    // The visitor moves the mouse until the tracker has delivered a page ping.
    await new Promise((resolve) => {
      const t = setInterval(() => {
        if (delivered.includes('pp')) { clearInterval(t); resolve(); return; }
        document.dispatchEvent(new MouseEvent('mousemove', { clientX: 10, clientY: 10 }));
      }, 100);
    });
    return { delivered };`,
};

const wanted = Object.keys(keys);
// The pages present the browser's usual user agent rather than HeadlessChrome's.
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36';

function page(lib) {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>shop ${lib}</title>
<script>
const S = ${JSON.stringify(service)}, K = ${JSON.stringify(keys[lib])}, R = ${JSON.stringify(runId)};
// Every request the library makes to the service, with its answer's status, seen from the page.
const seen = [];
let pending = 0;
const fetch0 = window.fetch;
window.fetch = async (...args) => {
  const url = String(args[0] && args[0].url || args[0]);
  if (!url.startsWith(S)) return fetch0(...args);
  pending++;
  let res;
  try {
    res = await fetch0(...args);
  } catch (e) {
    seen.push({ url, status: 0, error: String(e) });
    pending--;
    throw e;
  }
  seen.push({ url, status: res.status });
  // A fetch resolves at the answer's headers; a library counts the request as delivered only once
  // it has read the body. Leaving the page in between makes it send the events again by beacon, so
  // the request stays pending until the body is in and the library's own callbacks have run.
  res.clone().arrayBuffer().catch(() => {}).finally(() => setTimeout(() => pending--, 0));
  return res;
};
const open0 = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (method, url, ...rest) {
  const u = new URL(url, location.href).href;
  if (u.startsWith(S)) {
    pending++;
    this.addEventListener('loadend', () => { seen.push({ url: u, status: this.status }); pending--; });
  }
  return open0.call(this, method, url, ...rest);
};
window.serviceRequests = () => ({ seen, pending });
function until(cond) {
  return new Promise((resolve) => { const t = setInterval(() => { if (cond()) { clearInterval(t); resolve(); } }, 50); });
}
</script>
<script src="/lib/${lib}.js"></script></head><body>
<script>
window.results = {};
(async () => { ${SCRIPTS[lib]} })().then(
  (calls) => { window.results = { calls, done: true }; },
  (e) => { window.results = { error: String(e && e.stack || e), done: true }; });
</script></body></html>`;
}

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (LIBS[u.pathname]) {
    res.writeHead(200, { 'Content-Type': 'text/javascript' });
    fs.createReadStream(path.join(here, LIBS[u.pathname])).pipe(res);
    return;
  }
  if (u.pathname === '/favicon.ico') {
    // Not the SDKs' doing: answered so that the console holds only what the SDKs log.
    res.writeHead(204);
    res.end();
    return;
  }
  const lib = u.pathname.replace(/^\//, '').replace(/\.html$/, '');
  if (!SCRIPTS[lib]) {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(page(lib));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = 'http://localhost:' + server.address().port;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const out = {};
try {
  // One page after the other: the service, just started, answers within the SDKs' timeouts.
  for (const lib of wanted) {
    const context = await browser.newContext({ userAgent: USER_AGENT });
    const tab = await context.newPage();
    const requests = [];
    const others = [];
    const errors = [];
    tab.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    tab.on('pageerror', (e) => errors.push(String(e)));
    tab.on('requestfinished', async (r) => {
      if (!r.url().startsWith(service)) {
        if (!r.url().startsWith(origin) && !r.url().startsWith('about:')) others.push(r.url());
        return;
      }
      const res = await r.response();
      requests.push({ method: r.method(), url: r.url(), status: res ? res.status() : 0 });
    });
    tab.on('requestfailed', (r) => {
      if (r.url().startsWith(service)) {
        requests.push({ method: r.method(), url: r.url(), status: 0, failure: r.failure()?.errorText });
      } else {
        others.push(r.url() + ' ' + r.failure()?.errorText);
      }
    });
    await tab.goto(origin + '/' + lib + '.html?utm_campaign=spring&gclid=G-' + lib + '-' + runId);
    let r;
    try {
      await tab.waitForFunction(() => window.results && window.results.done, null, { timeout: 30000 });
      r = await tab.evaluate(() => window.results);
    } catch (e) {
      r = { error: 'the page did not finish: ' + e.message };
    }
    // Every request to the service answered, then the visitor leaves.
    try {
      await tab.waitForFunction(() => window.serviceRequests().pending === 0, null, { timeout: 15000 });
    } catch (e) {
      errors.push('requests still pending: ' + e.message);
    }
    const seen = await tab.evaluate(() => window.serviceRequests().seen);
    await tab.goto('about:blank');
    await context.close();
    out[lib] = { calls: r.calls || {}, error: r.error, errors, requests: seen, network: requests, others };
  }
} finally {
  await browser.close();
  server.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
