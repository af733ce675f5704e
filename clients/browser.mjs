// Loads a page from a second origin in headless Chromium; the page sends an <img> pixel, a
// sendBeacon, a fetch with JSON and Authorization (CORS preflight), and a form post to the service.
// Usage: node browser.mjs <service-origin> <api-key> <run-id>
// Prints what the page saw as JSON on stdout. CHROMIUM_PATH overrides /usr/bin/chromium.
import http from 'node:http';
import { chromium } from 'playwright-core';

const [service, key, runId] = process.argv.slice(2);
if (!service || !key || !runId) {
  console.error('usage: node browser.mjs <service-origin> <api-key> <run-id>');
  process.exit(2);
}

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>shop</title></head><body>
<iframe name="sink" id="sink" style="display:none"></iframe>
<script>
const S = ${JSON.stringify(service)}, K = ${JSON.stringify(key)}, R = ${JSON.stringify(runId)};
window.results = {};
async function run() {
  const r = window.results;
  r.pixel = await new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve({ loaded: true, width: img.naturalWidth });
    img.onerror = () => resolve({ loaded: false });
    img.src = S + '/pixel?api_key=' + K + '&event=img_pixel&run=' + R + '&utm_source=img';
  });
  r.beacon = navigator.sendBeacon(S + '/events?api_key=' + K,
      JSON.stringify({ event: 'beacon_unload', run: R, utm_source: 'beacon' }));
  try {
    const res = await fetch(S + '/events', {
      method: 'POST', mode: 'cors', credentials: 'include',
      headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + K },
      body: JSON.stringify({ event: 'fetch_json', run: R, gclid: 'G-' + R }),
    });
    r.fetch = { status: res.status, body: await res.json() };
  } catch (e) {
    r.fetch = { error: String(e) };
  }
  r.form = await new Promise((resolve) => {
    const f = document.createElement('form');
    f.method = 'POST'; f.action = S + '/events'; f.target = 'sink';
    f.enctype = 'application/x-www-form-urlencoded';
    for (const [n, v] of [['data', JSON.stringify({ event: 'form_post', run: R })], ['api_key', K]]) {
      const i = document.createElement('input'); i.type = 'hidden'; i.name = n; i.value = v; f.appendChild(i);
    }
    document.body.appendChild(f);
    document.getElementById('sink').onload = () => resolve({ submitted: true });
    f.submit();
  });
  r.done = true;
}
run();
</script></body></html>`;

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(page);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const pageUrl = 'http://localhost:' + server.address().port + '/shop.html';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let out;
try {
  const tab = await browser.newPage();
  await tab.goto(pageUrl);
  await tab.waitForFunction(() => window.results && window.results.done, null, { timeout: 30000 });
  out = await tab.evaluate(() => window.results);
  out.pageOrigin = new URL(pageUrl).origin;
} finally {
  await browser.close();
  server.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
