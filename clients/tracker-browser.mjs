// Drives trellis.js, as the service serves it, in headless Chromium on a site of another origin.
// Usage: node tracker-browser.mjs <scenario> <service-origin> <api-key>
// Scenarios: journey, offline, retry, dnt, pixel, link, prefix. Prints what the pages saw as JSON
// on stdout. The browser's clock is Playwright's, so "the next day" is a clock the test sets.
import http from 'node:http';
import { chromium } from 'playwright-core';

const [scenario, service, key] = process.argv.slice(2);
if (!scenario || !service || !key) {
  console.error('usage: node tracker-browser.mjs <scenario> <service-origin> <api-key>');
  process.exit(2);
}

// A partner site that outbound links go to (the service must allow 127.0.0.1 for /r).
const partner = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end('<!doctype html><title>Partner</title><p>partner landing</p>');
});
await new Promise((resolve) => partner.listen(0, '127.0.0.1', resolve));
const linkOrigin = 'http://127.0.0.1:' + partner.address().port;

// A proxy that serves the service under /collect/ of its own address, as a site's reverse proxy
// does, and removes that path before passing a request on (the prefix scenario loads the script
// through it). It names what it removed, the host the browser used and the browser's address.
const PREFIX = '/collect';
const proxy = http.createServer((req, res) => {
  if (!req.url.startsWith(PREFIX + '/')) {
    res.writeHead(404);
    res.end();
    return;
  }
  const target = new URL(req.url.slice(PREFIX.length), service);
  const headers = { ...req.headers, 'x-forwarded-prefix': PREFIX, 'x-forwarded-host': req.headers.host,
    'x-forwarded-for': req.socket.remoteAddress };
  const upstream = http.request(target, { method: req.method, headers }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => { res.writeHead(502); res.end(); });
  req.pipe(upstream);
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const proxied = 'http://127.0.0.1:' + proxy.address().port + PREFIX;
const scriptBase = scenario === 'prefix' ? proxied : service;

// Extra attributes of the script tag, per scenario.
const tagAttributes = {
  dnt: 'data-respect-dnt',
  link: 'data-link-hosts="127.0.0.1"',
};

function page(title, body) {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title>
<script async src="${scriptBase}/trellis.js" data-key="${key}" ${tagAttributes[scenario] || ''}></script>
</head><body><h1>${title}</h1>${body}</body></html>`;
}

const pages = {
  '/': page('Home', '<a id="pricing" href="/pricing">Pricing</a>'),
  '/pricing': page('Pricing', `<button id="features" onclick="history.pushState({}, '', '/features'); document.title='Features'">Features</button>`),
  '/signup': page('Sign up', `<button id="signup" onclick="trellis.identify('user-42', {plan: 'pro'}); trellis.track('signup', {plan: 'pro'})">Sign up</button>`),
  '/out': page('Partners', `<a id="partner" href="${linkOrigin}/landing?from=site">Partner</a>`),
};

const site = http.createServer((req, res) => {
  const html = pages[new URL(req.url, 'http://x').pathname];
  res.writeHead(html ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(html || 'not found');
});
await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
// localhost, while the service is 127.0.0.1: the tracker runs cross-origin, as on a real site.
const origin = 'http://localhost:' + site.address().port;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const loaded = (tab) => tab.waitForFunction(() => window.trellis && window.trellis.version, null, { timeout: 30000 });
const settled = (tab) => tab.waitForFunction(() => window.trellis.pending() === 0, null, { timeout: 30000 });
// Closes the tab as a user does (pagehide runs) and waits until it is gone.
const leave = async (tab) => {
  const closed = tab.waitForEvent('close');
  await tab.close({ runBeforeUnload: true });
  await closed;
};
const stored = (tab, name) => tab.evaluate((n) => JSON.parse(localStorage.getItem('trellis.' + n)), name);

// Statuses the tracker's own requests got, recorded in the page.
const recordStatuses = () => {
  window.statuses = [];
  const original = window.fetch;
  // For requests the page makes itself, which are not the tracker's.
  window.untrackedFetch = original;
  window.fetch = function (...args) {
    return original.apply(this, args).then((res) => {
      window.statuses.push(res.status);
      return res;
    });
  };
};

// The pricing page with the tracker's statuses recorded, once its first batch is answered.
const pricingSettled = async (context) => {
  await context.addInitScript(recordStatuses);
  const tab = await context.newPage();
  await tab.goto(origin + '/pricing');
  await loaded(tab);
  await settled(tab);
  return tab;
};

const scenarios = {
  // Land from an ad, browse two more pages (one an SPA route), leave, come back the next day, sign up.
  async journey(context) {
    await context.clock.install({ time: new Date('2026-11-02T10:00:00Z') });
    const tab = await context.newPage();
    await tab.goto(origin + '/?gclid=X-' + key.slice(-6) + '&utm_source=google&utm_medium=cpc');
    await loaded(tab);
    await tab.click('#pricing');
    await tab.waitForURL(origin + '/pricing');
    await loaded(tab);
    await tab.click('#features');
    await tab.waitForURL(origin + '/features');
    const day1 = { visitor: await stored(tab, 'visitor'), session: (await stored(tab, 'session')).id };
    await leave(tab);

    await context.clock.setSystemTime(new Date('2026-11-03T16:00:00Z'));
    const back = await context.newPage();
    await back.goto(origin + '/signup');
    await loaded(back);
    await back.click('#signup');
    await settled(back);
    const day2 = { visitor: await stored(back, 'visitor'), session: (await stored(back, 'session')).id };
    const now = await back.evaluate(() => new Date().toISOString());
    await leave(back);

    // 91 days after the ad click the attribution window (90 days by default) has closed.
    await context.clock.setSystemTime(new Date('2027-02-01T10:00:00Z'));
    const later = await context.newPage();
    await later.goto(origin + '/pricing');
    await loaded(later);
    await settled(later);
    return { day1, day2, now };
  },

  // Events tracked while offline wait in localStorage and go out once, when the browser is back.
  async offline(context) {
    const tab = await context.newPage();
    await tab.goto(origin + '/pricing');
    await loaded(tab);
    await settled(tab);
    await context.setOffline(true);
    await tab.evaluate(() => ['offline_a', 'offline_b', 'offline_c'].map((n) => trellis.track(n)));
    await tab.waitForFunction(() => JSON.parse(localStorage.getItem('trellis.queue') || '[]').length === 3);
    const queued = (await stored(tab, 'queue')).map((e) => e.event_id);
    await context.setOffline(false);
    await settled(tab);
    return { queued };
  },

  // The service answers 429 with Retry-After: the tracker waits as told and sends once.
  async retry(context) {
    const tab = await pricingSettled(context);
    // Another sender of the same organization spends its bucket first: a batch larger than the
    // burst passes only on a full bucket and leaves it in debt, so the tracker's batch is refused
    // however long the page took to get here (a bucket refilled meanwhile would let it through).
    const others = await tab.evaluate(async ([s, k]) => {
      const events = Array.from({ length: 6 }, () => ({ event: 'other_sender', event_id: crypto.randomUUID() }));
      for (;;) {
        const res = await window.untrackedFetch(s + '/batch?api_key=' + encodeURIComponent(k), {
          method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: JSON.stringify(events) });
        if (res.status === 200) return events.map((e) => e.event_id);
        await new Promise((r) => setTimeout(r, 200));
      }
    }, [service, key]);
    const ids = await tab.evaluate(() => ['busy_a', 'busy_b', 'busy_c'].map((n) => trellis.track(n)));
    await tab.waitForFunction(() => window.statuses.includes(429));
    const retryAt = await stored(tab, 'retry_at');
    await settled(tab);
    return { ids, others, statuses: await tab.evaluate(() => window.statuses), retryAt };
  },

  // data-respect-dnt and a browser that sends Global Privacy Control: nothing is sent or kept.
  async dnt(context) {
    await context.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
    await context.addInitScript(recordStatuses);
    const tab = await context.newPage();
    await tab.goto(origin + '/signup');
    await loaded(tab);
    await tab.click('#signup');
    // track() answers the event id it queued, null when it sent nothing.
    const after = await tab.evaluate(() => ({ tracked: trellis.track('probe'), pending: trellis.pending(),
      fetches: window.statuses.length, visitor: localStorage.getItem('trellis.visitor') }));
    return after;
  },

  // A browser with neither fetch nor sendBeacon: the pageview arrives as a pixel.
  async pixel(context) {
    await context.addInitScript(() => {
      delete window.fetch;
      delete Navigator.prototype.sendBeacon;
    });
    const tab = await context.newPage();
    await tab.goto(origin + '/pricing?fbclid=FB-1');
    await loaded(tab);
    await settled(tab);
    return { visitor: await stored(tab, 'visitor') };
  },

  // The script loaded through a proxy that serves the service under a path sends its events
  // there too, with no data-endpoint.
  async prefix(context) {
    const tab = await pricingSettled(context);
    return { visitor: await stored(tab, 'visitor'), statuses: await tab.evaluate(() => window.statuses),
      proxied };
  },

  // An outbound link to an allowed host goes through the service's /r and lands on the target.
  async link(context) {
    const tab = await context.newPage();
    await tab.goto(origin + '/out?gclid=L-1');
    await loaded(tab);
    await settled(tab);
    const visitor = await stored(tab, 'visitor');
    await tab.click('#partner');
    await tab.waitForURL(linkOrigin + '/landing?from=site');
    return { landed: tab.url(), target: linkOrigin + '/landing?from=site', visitor };
  },
};

let out;
try {
  const context = await browser.newContext();
  if (!scenarios[scenario]) throw new Error('unknown scenario ' + scenario);
  out = await scenarios[scenario](context);
  out.pageOrigin = origin;
  await context.close();
} finally {
  await browser.close();
  site.close();
  partner.close();
  proxy.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
