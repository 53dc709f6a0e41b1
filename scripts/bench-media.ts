// `npm run bench:media`: the agents' media proxy against a local stand-in for
// WhatsApp's Graph API and media CDN (loopback only, a private Redis). Prints
// the latency of first fetches (Graph lookup + download through the guarded
// fetch, size and type checks) and of repeated fetches served from the
// process cache, and the throughput of the latter.
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildContainer } from '../src/app/container';
import { loadConfig } from '../src/config/config';
import { conversationId } from '../src/conversations/conversation-store';
import { readOptions, wholeNumber } from './lib/cli-options';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort, startRedis } from './lib/redis-server.mjs';

const USAGE =
  'npm run bench:media -- [--files 50] [--bytes 200000] [--repeats 500] [--concurrency 10]';
const values = readOptions(USAGE, {
  files: { type: 'string', default: '50' },
  bytes: { type: 'string', default: '200000' },
  repeats: { type: 'string', default: '500' },
  concurrency: { type: 'string', default: '10' },
});
const FILES = wholeNumber('files', values.files, { min: 1, max: 500 }, USAGE);
const BYTES = wholeNumber('bytes', values.bytes, { min: 1, max: 20_000_000 }, USAGE);
const REPEATS = wholeNumber('repeats', values.repeats, { min: 1, max: 20_000 }, USAGE);
const CONCURRENCY = wholeNumber('concurrency', values.concurrency, { min: 1, max: 100 }, USAGE);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-media-'));
const redis = await startRedis({ port: await freePort(), dir, persist: false });

// Graph (GET /v21.0/<id> → {url}) and the CDN (the file) on one loopback server.
const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(BYTES - 4)]);
let upstreamRequests = 0;
const standIn = http.createServer((req, res) => {
  upstreamRequests += 1;
  const media = /^\/v21\.0\/(\d+)$/.exec(req.url ?? '');
  if (media) {
    const { port } = standIn.address() as AddressInfo;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: `http://127.0.0.1:${port}/cdn/${media[1]}`, id: media[1] }));
    return;
  }
  res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(jpeg.length) });
  res.end(jpeg);
});
standIn.listen(0, '127.0.0.1');
await new Promise((resolve) => standIn.once('listening', resolve));
const upstream = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;

const ADMIN = `adm_${randomBytes(16).toString('hex')}`;
const config = loadConfig({
  REDIS_URL: redis.url,
  REDIS_PREFIX: `bm${randomBytes(4).toString('hex')}`,
  PORT: '0',
  LOG_LEVEL: 'silent',
  OUTBOUND_DEV_HOSTS: '127.0.0.1',
  META_GRAPH_API_BASE: `${upstream}/v21.0`,
  AGENT_MEDIA_PER_MINUTE: '1000000',
});
const container = await buildContainer(config, {
  adminToken: ADMIN,
  secretsKey: randomBytes(32).toString('hex'),
});
container.startWorkers();
const server = await container.listen(0, '127.0.0.1');
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function api(pathname: string, token: string, body?: unknown) {
  const res = await fetch(`${base}${pathname}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // The fields read here: a shop's or agent's id and token, a conversation's messages.
  return res.json() as Promise<{ id: string; token: string; lastMessages?: Array<{ id: string }> }>;
}

const appSecret = 'bench-app-secret';
const shop = await api('/v1/shops', ADMIN, {
  name: 'Bench',
  platform: 'whatsapp',
  timezone: 'UTC',
  credentials: { appSecret, verifyToken: 'v', accessToken: 'EAAG-bench', phoneNumberId: '1065' },
});
const agent = await api('/v1/agents', ADMIN, { name: 'Bench', shopIds: [shop.id] });
const buyer = '8613800000000';
const now = Math.floor(Date.now() / 1000);
const messages = Array.from({ length: FILES }, (_, i) => ({
  from: buyer,
  id: `wamid.B${i}`,
  timestamp: String(now),
  type: 'image',
  image: { mime_type: 'image/jpeg', sha256: 'x', id: String(900_000 + i) },
}));
const body = JSON.stringify({
  object: 'whatsapp_business_account',
  entry: [
    {
      id: '1',
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '1', phone_number_id: '1065' },
            messages,
          },
        },
      ],
    },
  ],
});
await fetch(`${base}/webhooks/whatsapp/${shop.id}`, {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    'x-hub-signature-256': `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`,
  },
  body,
});
const id = conversationId(shop.id, buyer);
for (let i = 0; i < 200; i++) {
  const conversation = await api(`/v1/agent/conversations/${id}`, agent.token);
  if ((conversation.lastMessages?.length ?? 0) >= Math.min(FILES, 50)) break;
  await new Promise((r) => setTimeout(r, 100));
}

const stored = (await api(`/v1/agent/conversations/${id}`, agent.token)).lastMessages as Array<{
  id: string;
}>;
async function fetchMedia(messageId: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${base}/v1/agent/conversations/${id}/media/${messageId}`, {
    headers: { authorization: `Bearer ${agent.token}` },
  });
  const received = (await res.arrayBuffer()).byteLength;
  if (res.status !== 200 || received !== jpeg.length)
    throw new Error(`media answered ${res.status}`);
  return performance.now() - started;
}
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);

const first: number[] = [];
for (const message of stored) first.push(await fetchMedia(message.id));
first.sort((a, b) => a - b);
const upstreamForFirst = upstreamRequests;

const repeated: number[] = [];
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < REPEATS) {
      next += 1;
      repeated.push(await fetchMedia(stored[next % stored.length]!.id));
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
repeated.sort((a, b) => a - b);

console.log(
  `media proxy, ${stored.length} files of ${BYTES} bytes, Node ${process.version}, ${os.cpus().length} cores`,
);
console.log(
  `  first fetch (Graph lookup + download): p50 ${quantile(first, 0.5)} ms, p95 ${quantile(first, 0.95)} ms, ${upstreamForFirst} upstream requests`,
);
console.log(
  `  cached fetch (${CONCURRENCY} concurrent): p50 ${quantile(repeated, 0.5)} ms, p95 ${quantile(repeated, 0.95)} ms, ${(REPEATS / seconds).toFixed(0)} fetches/s, ${upstreamRequests - upstreamForFirst} upstream requests`,
);
console.log(`  process RSS ${(process.memoryUsage().rss / 1_048_576).toFixed(0)} MB`);

container.stopStreams();
await new Promise((resolve) => server.close(resolve));
await container.close();
standIn.close();
await redis.stop();
fs.rmSync(dir, { recursive: true, force: true });
