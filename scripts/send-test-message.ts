// Sends one signed generic-platform message to a running Seatmate, the way a
// bridge or a platform would (Standard Webhooks). Usage:
//   npm run send:test -- --shop shp_xxx --secret whsec_xxx [--text "..."] [--buyer buyer-1] [--from buyer|agent] [--url http://localhost:3000]
// Without --url: SEATMATE_URL, else the local service on PORT (as `npm start` was given it), else 3000.
import { randomUUID } from 'node:crypto';
import { signStandardWebhook } from '../src/platforms/generic/standard-webhooks';
import { readOptions, usageError } from './lib/cli-options';

const USAGE =
  'npm run send:test -- --shop <shopId> --secret <whsec_...> [--text "..."] [--buyer <id>] [--from buyer|agent] [--url http://localhost:3000]';
const values = readOptions(USAGE, {
  shop: { type: 'string' },
  secret: { type: 'string' },
  text: { type: 'string', default: '您好，这款有灰色吗？' },
  buyer: { type: 'string', default: 'buyer-1' },
  from: { type: 'string', default: 'buyer' },
  url: {
    type: 'string',
    default: process.env.SEATMATE_URL || `http://localhost:${process.env.PORT || 3000}`,
  },
});

if (!values.shop || !values.secret) usageError('--shop and --secret are required', USAGE);

if (!values.secret.startsWith('whsec_')) {
  console.error(
    "--secret must be the shop's webhookSecret as shown at creation, starting with whsec_",
  );
  process.exit(2);
}

const id = `msg_${randomUUID()}`;
const timestamp = Math.floor(Date.now() / 1000);
const body = JSON.stringify({
  type: 'message',
  data: {
    messageId: id,
    buyer: { id: values.buyer },
    from: values.from,
    text: values.text,
    sentAt: new Date().toISOString(),
  },
});
const response = await fetch(`${values.url}/webhooks/generic/${values.shop}`, {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook(values.secret, id, timestamp, body),
  },
  body,
}).catch((error: Error & { cause?: { code?: string } }) => {
  // One line that says where it knocked and what to change, not undici's stack.
  console.error(
    `could not reach Seatmate at ${values.url} (${error.cause?.code ?? error.message}): is it running? Pass --url, or set PORT or SEATMATE_URL.`,
  );
  process.exit(1);
});
console.log(`${response.status} ${await response.text()}`);
process.exit(response.ok ? 0 : 1);
