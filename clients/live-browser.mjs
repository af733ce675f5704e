// Drives the live view (/live on the admin port) in headless Chromium while events are sent to
// the capture port over HTTP. Usage:
//   node live-browser.mjs <admin-origin> <capture-origin> <key-of-acme> <key-of-globex> <screenshot.png>
// Prints what the page showed as JSON on stdout.
import { chromium } from 'playwright-core';

const [admin, capture, acmeKey, globexKey, screenshot] = process.argv.slice(2);
if (!admin || !capture || !acmeKey || !globexKey || !screenshot) {
  console.error('usage: node live-browser.mjs <admin-origin> <capture-origin> <acme-key> <globex-key> <screenshot.png>');
  process.exit(2);
}

async function send(key, path, body, query = '') {
  const res = await fetch(capture + path + query, {
    method: 'POST',
    headers: { 'Authorization': 'Bearer ' + key, 'Content-Type': 'application/json', 'User-Agent': 'Mozilla/5.0 (demo)' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(path + ' answered ' + res.status + ': ' + await res.text());
  return (await res.json()).event_id;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const out = {};
try {
  const tab = await (await browser.newContext({ viewport: { width: 1400, height: 720 } })).newPage();
  await tab.goto(admin + '/live');
  const live = () => tab.waitForFunction(() => document.getElementById('status').textContent === 'live', null, { timeout: 30000 });
  const rowCount = (n) => tab.waitForFunction((k) => document.querySelectorAll('#rows tr.event').length >= k, n, { timeout: 30000 });
  const rows = () => tab.$$eval('#rows tr.event', (trs) => trs.map((tr) => ({
    id: tr.dataset.eventId,
    cells: [...tr.children].map((td) => td.textContent),
  })));
  await live();

  // Three events of two organizations, on three endpoints.
  const ids = [];
  ids.push(await send(acmeKey, '/events', { event: 'pageview', url: 'https://shop.example/?gclid=Cj0-demo&utm_source=google', session_id: 's-1' }));
  ids.push(await send(globexKey, '/events', { event: 'signup', plan: 'pro', fbclid: 'IwAR-demo', utm_source: 'facebook' }));
  const batch = await fetch(capture + '/batch', {
    method: 'POST', headers: { 'Authorization': 'Bearer ' + acmeKey },
    body: JSON.stringify([{ event: 'add_to_cart', sku: 'A-1', msclkid: 'ms-demo' }, { event: 'purchase', total: 42.5 }]),
  });
  ids.push(...(await batch.json()).event_ids);
  await rowCount(4);
  out.sent = ids;
  out.rows = await rows();

  // One event's full record.
  await tab.click(`#rows tr.event[data-event-id="${ids[1]}"]`);
  await tab.waitForFunction(() => document.getElementById('detail').classList.contains('open'));
  out.detail = await tab.textContent('#record');
  await tab.screenshot({ path: screenshot });
  await tab.click('#close-detail');

  // Filter by organization: the page reconnects with the filter; only globex events come.
  await tab.fill('#org', 'globex');
  await tab.waitForFunction(() => document.querySelectorAll('#rows tr.event').length === 0);
  await live();
  const a = await send(acmeKey, '/events', { event: 'hidden_by_filter' });
  const g = await send(globexKey, '/events', { event: 'login' });
  await rowCount(1);
  // The acme event was sent first: were it let through, it would be on the page by now.
  const g2 = await send(globexKey, '/events', { event: 'logout' });
  await rowCount(2);
  out.filtered = await rows();
  out.filteredSent = { acme: a, globex: [g, g2] };

  // Pause: events keep arriving but are held; resume shows them.
  await tab.click('#pause');
  const p = await send(globexKey, '/events', { event: 'while_paused' });
  await tab.waitForFunction(() => document.getElementById('pause').textContent.includes('1 new'), null, { timeout: 30000 });
  out.pausedRows = (await rows()).length;
  out.pauseLabel = await tab.textContent('#pause');
  await tab.click('#pause');
  await rowCount(3);
  out.resumed = await rows();
  out.pausedId = p;
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
