// Runs the server-side SDKs of RudderStack, PostHog and Snowplow, unchanged, against the service:
// each configured with nothing but the service's URL and the key, each sending every call type it
// has, with the browser's IP and user agent relayed the way each documents.
// Usage: node sdks-node.mjs <service-url> <run-id> <library>=<api-key> ...
// (libraries: rudder, posthog, snowplow)
// Prints {library: {ids, errors}} as JSON on stdout; ids are the events' own ids (messageId, uuid,
// eid) by call type.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [host, runId, ...pairs] = process.argv.slice(2);
const keys = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
if (!host || !runId || !pairs.length) {
  console.error('usage: node sdks-node.mjs <service-url> <run-id> <library>=<api-key> ...');
  process.exit(2);
}
const BROWSER_IP = '203.0.113.7';
const BROWSER_UA = 'Mozilla/5.0 (relayed) Shop/' + runId;
const pageUrl = 'https://shop.example/pricing?gclid=G-' + runId + '&utm_source=newsletter';

async function rudder(key) {
  const Analytics = require('@rudderstack/rudder-sdk-node');
  const errors = [];
  const client = new Analytics(key, {
    dataPlaneUrl: host, flushAt: 6, flushInterval: 200, retryCount: 1,
    errorHandler: (e) => errors.push(String(e)),
  });
  const userId = 'user-' + runId;
  const context = { ip: BROWSER_IP, userAgent: BROWSER_UA, page: { url: pageUrl }, sessionId: 'rs-' + runId };
  const ids = {};
  const done = [];
  const cb = (type) => {
    let resolve;
    done.push(new Promise((r) => { resolve = r; }));
    return (err, data) => {
      if (err) errors.push(type + ': ' + String(err));
      resolve();
    };
  };
  const call = (type, msg) => {
    const messageId = crypto.randomUUID();
    ids[type] = messageId;
    client[type]({ ...msg, messageId, context }, cb(type));
  };
  call('track', { userId, event: 'Order Completed', properties: { runId, total: 42.5 } });
  call('page', { userId, name: 'Pricing', properties: { runId, url: pageUrl } });
  call('screen', { userId, name: 'Dashboard', properties: { runId } });
  call('identify', { userId, traits: { runId, plan: 'pro' } });
  call('group', { userId, groupId: 'group-' + runId, traits: { runId } });
  call('alias', { userId, previousId: 'anon-' + runId });
  await Promise.all(done);
  await client.flush();
  return { ids, errors };
}

async function posthog(key) {
  const { PostHog } = require('posthog-node');
  const errors = [];
  const client = new PostHog(key, { host, flushAt: 20, flushInterval: 0, fetchRetryCount: 1 });
  client.on('error', (e) => errors.push(String(e && (e.message || e))));
  const distinctId = 'user-' + runId;
  const props = { runId, $ip: BROWSER_IP, $raw_user_agent: BROWSER_UA, $session_id: 'ph-' + runId };
  const ids = {};
  const capture = (name, event, extra) => {
    const uuid = crypto.randomUUID();
    ids[name] = uuid;
    client.capture({ distinctId, event, uuid, properties: { ...props, ...extra } });
  };
  capture('capture', 'order_completed', { total: 42.5 });
  capture('pageview', '$pageview', { $current_url: pageUrl, $referrer: 'https://search.example/' });
  capture('pageleave', '$pageleave', { $current_url: pageUrl });
  client.identify({ distinctId, properties: { runId, plan: 'pro' } });
  client.alias({ distinctId, alias: 'alias-' + runId });
  client.groupIdentify({ groupType: 'company', groupKey: 'group-' + runId, properties: { runId } });
  await client.shutdown(20000);
  return { ids, errors };
}

async function snowplow(key) {
  const sp = require('@snowplow/node-tracker');
  const errors = [];
  const tracker = sp.newTracker(
    { namespace: 'node', appId: 'shop', encodeBase64: false },
    {
      endpoint: host + '/snowplow/' + key, eventMethod: 'post', bufferSize: 1,
      onRequestFailure: (r) => errors.push('status ' + r.status + ' ' + r.message),
    });
  tracker.setIpAddress(BROWSER_IP);
  tracker.setUseragent(BROWSER_UA);
  tracker.setDomainUserId('duid-' + runId);
  tracker.setSessionId('sid-' + runId);
  const ids = {};
  // A custom entity on every event.
  const context = [{ schema: 'iglu:com.acme/cart/jsonschema/1-0-0', data: { runId, items: 2 } }];
  const track = (name, builder) => {
    const payload = tracker.track(builder, context);
    ids[name] = payload && payload.eid;
  };
  track('page_view', sp.buildPageView({ pageUrl, pageTitle: 'Pricing', referrer: 'https://search.example/' }));
  track('page_ping', sp.buildPagePing({ pageUrl, pageTitle: 'Pricing', referrer: 'https://search.example/',
    minXOffset: 5, maxXOffset: 10, minYOffset: 20, maxYOffset: 300 }));
  track('structured', sp.buildStructEvent({ category: 'shop', action: 'add-to-basket', label: runId,
    property: 'sku-1', value: 2 }));
  track('self_describing', sp.buildSelfDescribingEvent({
    event: { schema: 'iglu:com.acme/checkout/jsonschema/1-0-0', data: { runId, total: 42.5 } },
  }));
  await tracker.flush?.();
  return { ids, errors };
}

const LIBS = { rudder, posthog, snowplow };
const out = {};
for (const [name, key] of Object.entries(keys)) {
  try {
    out[name] = await LIBS[name](key);
  } catch (e) {
    out[name] = { error: String(e && e.stack || e) };
  }
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);
