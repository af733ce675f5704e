// Sends one call of every Segment type through Segment's own Node SDK, unchanged, to the service.
// Usage: node segment-node.mjs <service-url> <write-key> <run-id>
// Prints {"messageIds": {...}, "statuses": [...], "errors": [...]} on stdout.
import { Analytics } from '@segment/analytics-node';

const [host, writeKey, runId] = process.argv.slice(2);
if (!host || !writeKey || !runId) {
  console.error('usage: node segment-node.mjs <service-url> <write-key> <run-id>');
  process.exit(2);
}

const analytics = new Analytics({ writeKey, host, flushAt: 3, flushInterval: 200, maxRetries: 1 });
const statuses = [];
const errors = [];
analytics.on('http_response', (r) => statuses.push(r.status));
analytics.on('error', (e) => errors.push(String(e && (e.reason || e.message || e.code) || e)));

const messageIds = {};
const done = [];
// A callback that records the messageId the SDK gave the call once the service acknowledged it.
function cb(type) {
  let resolve;
  done.push(new Promise((r) => { resolve = r; }));
  return (err, ctx) => {
    if (err) {
      errors.push(type + ': ' + String(err));
    } else {
      messageIds[type] = ctx.event.messageId;
    }
    resolve();
  };
}

const userId = 'user-' + runId;
analytics.track({ userId, event: 'Order Completed', properties: { runId, total: 42.5 } }, cb('track'));
analytics.page({ userId, name: 'Pricing', properties: { runId, url: 'https://shop.example/pricing?utm_source=sdk' } }, cb('page'));
analytics.identify({ userId, traits: { runId, plan: 'pro' } }, cb('identify'));
analytics.screen({ userId, name: 'Dashboard', properties: { runId } }, cb('screen'));
analytics.group({ userId, groupId: 'group-' + runId, traits: { runId } }, cb('group'));
analytics.alias({ userId, previousId: 'anon-' + runId }, cb('alias'));

await Promise.all(done);
await analytics.closeAndFlush({ timeout: 20000 });
process.stdout.write(JSON.stringify({ messageIds, statuses, errors }) + '\n');
