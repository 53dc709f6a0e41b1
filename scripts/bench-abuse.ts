// `npm run bench:abuse`: the hostile loads of issue 15, on loopback only, each
// bounded in count and time, against the real service (its build, as `npm start`
// runs it, in a child process) and a private Redis. Prints one figure per finding.
// Some scenarios run twice: with a protection switched off by configuration
// (the old behaviour) and on (the default), so before and after are measured
// on the same machine in the same run.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { MAX_HISTORY_ENTRIES, MAX_MESSAGE_CHARS } from '../src/assist/assist-request-schema';
import { conversationId } from '../src/conversations/conversation-store';
import { ConsultationMeter } from '../src/metering/consultation-meter';
import { signStandardWebhook } from '../src/platforms/generic/standard-webhooks';
import { RedisKeys } from '../src/shared/redis-keys';
// @ts-expect-error plain .mjs shared with `npm start`
import { buildService } from './lib/build-service.mjs';
import { readOptions, wholeNumber, wholeNumbers } from './lib/cli-options';
// @ts-expect-error plain .mjs shared with `npm start`
import { SERVICE_NODE_FLAGS } from './lib/node-flags.mjs';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort, startRedis } from './lib/redis-server.mjs';

const USAGE =
  'npm run bench:abuse -- [--flood 10000] [--slowloris 2000] [--seconds 8] [--only 1,2,…9]';
const values = readOptions(USAGE, {
  flood: { type: 'string', default: '10000' },
  slowloris: { type: 'string', default: '2000' },
  seconds: { type: 'string', default: '8' },
  only: { type: 'string' },
});
const FLOOD_EVENTS = wholeNumber('flood', values.flood, { min: 1, max: 20_000 }, USAGE);
const SLOW_CONNECTIONS = wholeNumber('slowloris', values.slowloris, { min: 1, max: 5000 }, USAGE);
const ATTACK_SECONDS = wholeNumber('seconds', values.seconds, { min: 1, max: 30 }, USAGE);
// The scenarios to run, by number (all without --only).
const ONLY = values.only && wholeNumbers('only', values.only, { min: 1, max: 9 }, USAGE);

const ADMIN = `adm_${randomBytes(16).toString('hex')}`;
const SECRETS_KEY = randomBytes(32).toString('hex');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-abuse-'));
const redisServer = await startRedis({ port: await freePort(), dir, persist: true });
const results: Array<[string, string]> = [];
const report = (name: string, figure: string) => {
  results.push([name, figure]);
  console.log(`  ${name}: ${figure}`);
};

interface Service {
  base: string;
  prefix: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

// The service's build with its flags, as `npm start` runs it (scripts/lib/build-service.mjs).
const serviceScript: string = await buildService();

async function startService(env: Record<string, string> = {}): Promise<Service> {
  const port = await freePort();
  const prefix = `ab${randomBytes(4).toString('hex')}`;
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, serviceScript, 'all'], {
    env: {
      ...process.env,
      REDIS_URL: redisServer.url,
      REDIS_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      ADMIN_TOKEN: ADMIN,
      SECRETS_KEY,
      LOG_LEVEL: 'silent',
      TRUST_PROXY: 'true',
      OUTBOUND_DEV_HOSTS: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${base}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await sleep(200);
  }
  return {
    base,
    prefix,
    child,
    exited,
    async stop() {
      child.kill('SIGKILL');
      return exited;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function api(service: Service, pathName: string, body?: unknown, token = ADMIN) {
  const res = await fetch(`${service.base}${pathName}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads a few fields of varied JSON answers
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

async function genericShop(service: Service, credentials: Record<string, unknown> = {}) {
  const res = await api(service, '/v1/shops', {
    name: 'bench',
    platform: 'generic',
    timezone: 'UTC',
    credentials,
  });
  return res.body as { id: string; webhookSecret: string; ownerKey: string };
}

async function sendGeneric(
  service: Service,
  shop: { id: string; webhookSecret: string },
  buyer: string,
  from = '192.0.2.10',
): Promise<{ status: number; ms: number }> {
  const id = `msg_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    type: 'message',
    data: {
      messageId: id,
      buyer: { id: buyer },
      from: 'buyer',
      text: 'hello?',
      sentAt: new Date().toISOString(),
    },
  });
  const started = performance.now();
  const res = await fetch(`${service.base}/webhooks/generic/${shop.id}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-forwarded-for': from,
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandardWebhook(shop.webhookSecret, id, ts, body),
    },
    body,
  }).catch(() => null);
  await res?.arrayBuffer().catch(() => undefined);
  return { status: res?.status ?? 0, ms: performance.now() - started };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a');

/** A victim shop sending one signed message every 100 ms while `attack` runs. */
async function victimDuring(service: Service, attack: (stop: () => boolean) => Promise<void>) {
  const shop = await genericShop(service);
  let done = false;
  const latencies: number[] = [];
  let failures = 0;
  const victim = (async () => {
    let i = 0;
    while (!done) {
      const { status, ms: took } = await sendGeneric(service, shop, `victim-${i++}`);
      if (status === 200) latencies.push(took);
      else failures += 1;
      await sleep(100);
    }
  })();
  const started = Date.now();
  await attack(() => done || Date.now() - started > ATTACK_SECONDS * 1000);
  done = true;
  await victim;
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    ok: latencies.length,
    failures,
  };
}

// 1. Unauthenticated CPU burn: junk to a WeChat safe-mode shop.
async function wechatJunk(label: string, env: Record<string, string>, junkBytes: number) {
  const service = await startService(env);
  try {
    const shop = await api(service, '/v1/shops', {
      name: 'wechat',
      platform: 'wechat',
      timezone: 'UTC',
      credentials: {
        appId: 'wx2c2769f8efd9abc2',
        appSecret: 'secret',
        token: 'spamtest',
        encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
      },
    });
    // Deeply repeated elements, the kind of body an XML parser spends its time on.
    const unit = '<a><b>x</b></a>';
    const junk = Buffer.from(
      `<xml>${unit.repeat(Math.floor((junkBytes - 64) / unit.length))}<Encrypt>AAAA</Encrypt></xml>`,
    );
    const statuses = new Map<number, number>();
    const baseline = await victimDuring(service, async (stop) => {
      while (!stop()) await sleep(50);
    });
    const during = await victimDuring(service, async (stop) => {
      await Promise.all(
        [1, 2, 3, 4].map(async (n) => {
          while (!stop()) {
            const ts = Math.floor(Date.now() / 1000);
            const res = await fetch(
              `${service.base}/webhooks/wechat/${shop.body.id}?timestamp=${ts}&nonce=1&encrypt_type=aes&msg_signature=${randomBytes(20).toString('hex')}`,
              {
                method: 'POST',
                headers: { 'content-type': 'text/xml', 'x-forwarded-for': `198.51.100.${n}` },
                body: junk,
              },
            ).catch(() => null);
            await res?.arrayBuffer().catch(() => undefined);
            const status = res?.status ?? 0;
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
        }),
      );
    });
    report(
      `1. WeChat safe mode, 4 junk clients, ${label}`,
      `victim p50 ${ms(baseline.p50)} → ${ms(during.p50)} under attack (p99 ${ms(during.p99)}); junk answered ${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')}; forged accepted ${statuses.get(200) ?? 0}`,
    );
  } finally {
    await service.stop();
  }
}

// 2. Slow-body connections.
async function slowloris() {
  const service = await startService({
    HTTP_REQUEST_TIMEOUT_MS: '5000',
    HTTP_HEADERS_TIMEOUT_MS: '3000',
  });
  const sockets: net.Socket[] = [];
  try {
    const shop = await genericShop(service);
    const { port } = new URL(service.base);
    for (let i = 0; i < SLOW_CONNECTIONS; i++) {
      const socket = net.connect(Number(port), '127.0.0.1', () =>
        socket.write(
          `POST /webhooks/generic/${shop.id} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`,
        ),
      );
      socket.on('error', () => undefined);
      socket.resume();
      sockets.push(socket);
    }
    await sleep(1000);
    const during = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sendGeneric(service, shop, `slow-victim-${i}`)),
    );
    await sleep(6500);
    const open = sockets.filter((s) => !s.closed).length;
    report(
      `2. ${SLOW_CONNECTIONS} slow-body connections`,
      `still open after 7.5 s: ${open} (request timeout 5 s in this run, 30 s by default; Node's default held them 300 s); victim during: ${during.filter((r) => r.status === 200).length}/20 accepted, p50 ${ms(
        percentile(
          during.map((r) => r.ms),
          50,
        ),
      )}`,
    );
  } finally {
    for (const socket of sockets) socket.destroy();
    await service.stop();
  }
}

// 3. Inbound noisy neighbour: one shop's flood of WhatsApp batches, another shop's next message.
async function inboundFlood(label: string, env: Record<string, string>) {
  const service = await startService({ WEBHOOK_RATE_PER_MINUTE: '1000000', ...env });
  const redis = new Redis(redisServer.url);
  try {
    const secret = 'bench-wa-secret';
    const wa = await api(service, '/v1/shops', {
      name: 'flooder',
      platform: 'whatsapp',
      timezone: 'UTC',
      credentials: { appSecret: secret, verifyToken: 'v', accessToken: 't', phoneNumberId: '1065' },
    });
    const victim = await genericShop(service);
    const { createHmac } = await import('node:crypto');
    const batches = Math.ceil(FLOOD_EVENTS / 1000);
    for (let b = 0; b < batches; b++) {
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: 'waba',
            changes: [
              {
                field: 'messages',
                value: {
                  metadata: { phone_number_id: '1065' },
                  messages: Array.from({ length: 1000 }, (_, i) => ({
                    from: `1555${b}${i}`,
                    id: `wamid.${randomUUID()}`,
                    timestamp: String(Math.floor(Date.now() / 1000)),
                    type: 'text',
                    text: { body: 'spam' },
                  })),
                },
              },
            ],
          },
        ],
      });
      await fetch(`${service.base}/webhooks/whatsapp/${wa.body.id}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
        },
        body,
      }).then((r) => r.arrayBuffer());
    }
    const sent = await sendGeneric(service, victim, 'next-buyer');
    const acked = Date.now();
    const key = new RedisKeys(service.prefix).conversation(victim.id, 'next-buyer', 'messages');
    let stored = Number.NaN;
    while (Date.now() - acked < 90_000) {
      if ((await redis.exists(key)) === 1) {
        stored = Date.now() - acked;
        break;
      }
      await sleep(20);
    }
    report(
      `3. ${batches} signed WhatsApp batches × 1,000 messages, then another shop's message, ${label}`,
      `victim ack ${sent.status} in ${ms(sent.ms)}; stored ${ms(stored)} after its ack`,
    );
  } finally {
    redis.disconnect();
    await service.stop();
  }
}

// 3b. The event quota with default settings: how much of the same flood is accepted.
async function floodQuota() {
  const service = await startService();
  try {
    const { createHmac } = await import('node:crypto');
    const secret = 'bench-wa-secret';
    const wa = await api(service, '/v1/shops', {
      name: 'flooder',
      platform: 'whatsapp',
      timezone: 'UTC',
      credentials: { appSecret: secret, verifyToken: 'v', accessToken: 't', phoneNumberId: '1065' },
    });
    const statuses: number[] = [];
    for (const size of [1000, 1000, 1000, 1001]) {
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: 'waba',
            changes: [
              {
                field: 'messages',
                value: {
                  metadata: { phone_number_id: '1065' },
                  messages: Array.from({ length: size }, (_, i) => ({
                    from: `1555${i}`,
                    id: `wamid.${randomUUID()}`,
                    timestamp: String(Math.floor(Date.now() / 1000)),
                    type: 'text',
                    text: { body: 'spam' },
                  })),
                },
              },
            ],
          },
        ],
      });
      const res = await fetch(`${service.base}/webhooks/whatsapp/${wa.body.id}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
        },
        body,
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    report(
      '3b. default quota (600 events/min): batches of 1000, 1000, 1000 and 1001',
      `answered ${statuses.join(', ')} (requests counted, before: all 200 up to 600 requests = 600,000 events/min)`,
    );
  } finally {
    await service.stop();
  }
}

// 4. Outbound: one shop's reply URL hangs; another shop's reply.
async function slowReplyUrl(label: string, env: Record<string, string>) {
  const hanging = new Set<http.ServerResponse>();
  const slowServer = http.createServer((req, res) => {
    req.resume();
    hanging.add(res);
  });
  const fastServer = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end('{}'));
  });
  for (const server of [slowServer, fastServer]) {
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
  }
  const url = (server: http.Server) =>
    `http://127.0.0.1:${(server.address() as AddressInfo).port}/replies`;
  const service = await startService(env);
  try {
    const slow = await genericShop(service, { replyUrl: url(slowServer) });
    const fast = await genericShop(service, { replyUrl: url(fastServer) });
    const slowAgent = (await api(service, '/v1/agents', { name: 'S', shopIds: [slow.id] })).body;
    const fastAgent = (await api(service, '/v1/agents', { name: 'F', shopIds: [fast.id] })).body;
    const buyers = Array.from({ length: 40 }, (_, i) => `slow-${i}`);
    for (const buyer of buyers) await sendGeneric(service, slow, buyer);
    await sendGeneric(service, fast, 'fast-1');
    await sleep(1500);
    for (const buyer of buyers)
      await api(
        service,
        `/v1/agent/conversations/${conversationId(slow.id, buyer)}/replies`,
        { text: 'one moment' },
        slowAgent.token,
      );
    await sleep(300);
    const id = conversationId(fast.id, 'fast-1');
    const started = Date.now();
    const sent = await api(
      service,
      `/v1/agent/conversations/${id}/replies`,
      { text: 'hi' },
      fastAgent.token,
    );
    let took = Number.NaN;
    while (Date.now() - started < 60_000) {
      const res = await api(
        service,
        `/v1/agent/conversations/${id}/replies/${sent.body.replyId}`,
        undefined,
        fastAgent.token,
      );
      if (res.body?.status === 'sent') {
        took = Date.now() - started;
        break;
      }
      await sleep(50);
    }
    report(
      `4. 40 replies to a hanging reply URL, then another shop's reply, ${label}`,
      `other shop's reply sent after ${ms(took)}`,
    );
  } finally {
    await service.stop();
    for (const res of hanging) res.destroy();
    await Promise.all([slowServer, fastServer].map((s) => new Promise((r) => s.close(r))));
  }
}

// 5. SSRF: hostile reply URLs offered at shop creation.
async function ssrfTable() {
  const service = await startService({ OUTBOUND_DEV_HOSTS: '' });
  try {
    const hostile = [
      'http://example.com/r',
      'file:///etc/passwd',
      'data:text/plain,ok',
      'gopher://127.0.0.1:6379/_x',
      'https://127.0.0.1/',
      'https://127.1/',
      'https://0x7f.1/',
      'https://2130706433/',
      'https://017700000001/',
      'https://0.0.0.0/',
      'https://[::1]/',
      'https://[::]/',
      'https://[::ffff:127.0.0.1]/',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fd00:ec2::254]/',
      'https://100.100.100.200/',
      'https://10.0.0.5/',
      'https://172.16.3.4/',
      'https://192.168.1.1/',
      'https://100.64.0.1/',
      'https://224.0.0.1/',
      'https://[fe80::1]/',
      'https://[ff02::1]/',
      'https://[64:ff9b::7f00:1]/',
      'https://user:pw@example.com/',
      'ftp://example.com/',
    ];
    let accepted = 0;
    for (const replyUrl of hostile) {
      const res = await api(service, '/v1/shops', {
        name: 's',
        platform: 'generic',
        timezone: 'UTC',
        credentials: { replyUrl },
      });
      if (res.status < 300) accepted += 1;
    }
    report(
      `5. ${hostile.length} hostile reply URLs at shop creation`,
      `accepted ${accepted} (before: 22 of 24)`,
    );
  } finally {
    await service.stop();
  }
}

// 6. SIGTERM under keep-alive load.
async function sigtermKeepAlive() {
  const service = await startService();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  let running = true;
  const loops = Array.from({ length: 16 }, async () => {
    while (running) {
      await new Promise<void>((resolve) => {
        const req = http.get(`${service.base}/healthz`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', () => setTimeout(resolve, 20));
      });
    }
  });
  await sleep(1000);
  const signalled = Date.now();
  service.child.kill('SIGTERM');
  const code = await Promise.race([service.exited, sleep(30_000).then(() => 'no exit' as const)]);
  const took = Date.now() - signalled;
  running = false;
  await Promise.all(loops);
  agent.destroy();
  if (code === 'no exit') await service.stop();
  report(
    '6. SIGTERM under 16 keep-alive clients',
    `exit code ${code} after ${ms(took)} (before: served 25 s, exit 1)`,
  );
}

// 7. One agent token opening thousands of event streams.
async function streamFlood(attempts: number) {
  const service = await startService();
  const redis = new Redis(redisServer.url);
  try {
    const shop = await genericShop(service);
    const agent = await api(service, '/v1/agents', { name: 'flood', shopIds: [shop.id] });
    const clientsBefore = Number(/connected_clients:(\d+)/.exec(await redis.info('clients'))?.[1]);
    const statuses = new Map<number, number>();
    // Responses are kept: an unreferenced fetch body is collected and its stream closed.
    const open: Array<{ controller: AbortController; res: Response }> = [];
    for (let i = 0; i < attempts; i++) {
      const controller = new AbortController();
      const res = await fetch(`${service.base}/v1/agent/events`, {
        headers: { authorization: `Bearer ${agent.body.token}` },
        signal: controller.signal,
      }).catch(() => null);
      const status = res?.status ?? 0;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (res && status === 200) open.push({ controller, res });
      else await res?.arrayBuffer().catch(() => undefined);
    }
    const clientsAfter = Number(/connected_clients:(\d+)/.exec(await redis.info('clients'))?.[1]);
    const victim = await sendGeneric(service, shop, 'victim');
    for (const { controller } of open) controller.abort();
    report(
      `7. one agent token opening ${attempts} event streams`,
      `${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')}; Redis clients ${clientsBefore} → ${clientsAfter}; a webhook meanwhile ${victim.status} in ${ms(victim.ms)} (before: 9,987 streams, 10,000 Redis clients, API and Redis down)`,
    );
  } finally {
    redis.disconnect();
    await service.stop();
  }
}

// 8. Maximum-size suggestion requests in a loop, another shop's webhooks meanwhile.
async function suggestLoops(label: string, env: Record<string, string>) {
  const service = await startService(env);
  try {
    const shop = await genericShop(service);
    const agent = await api(service, '/v1/agents', { name: 'loop', shopIds: [shop.id] });
    const history = Array.from({ length: MAX_HISTORY_ENTRIES }, (_, i) => ({
      from: i % 2 ? 'agent' : 'buyer',
      text: '这个多少钱？有没有优惠？'.repeat(Math.floor(MAX_MESSAGE_CHARS / 12)),
    }));
    const statuses = new Map<number, number>();
    const baseline = await victimDuring(service, async (stop) => {
      while (!stop()) await sleep(50);
    });
    const during = await victimDuring(service, async (stop) => {
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (!stop()) {
            const res = await api(
              service,
              '/v1/assist/suggest',
              { shopId: shop.id, history },
              agent.body.token,
            );
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          }
        }),
      );
    });
    report(
      `8. 8 loops of maximum-size suggestion requests, ${label}`,
      `another shop's webhook p50 ${ms(baseline.p50)} → ${ms(during.p50)} (p99 ${ms(during.p99)}); suggestions answered ${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')}`,
    );
  } finally {
    await service.stop();
  }
}

// 9. Buyer ids forged from the index separators: does any change another buyer's figures?
async function forgedIndexIds(count: number) {
  const redis = new Redis(redisServer.url);
  try {
    const keys = new RedisKeys(`ab${randomBytes(4).toString('hex')}`);
    const meter = new ConsultationMeter(redis, keys);
    const t0 = Date.UTC(2026, 10, 2, 10, 0);
    const pad = (n: number) => String(n).padStart(15, '0');
    const victims = Array.from({ length: 10 }, (_, i) => `b${i}`);
    for (const v of victims) await meter.recordBuyerMessage('shp', 'UTC', v, t0, {});
    let forged = 0;
    for (let i = 0; forged < count; i++) {
      const v = victims[i % victims.length]!;
      const at = t0 + 1000 + i;
      // The shapes that would read as the victim's reply under a separator layout.
      for (const id of [`${v}|${pad(at)}`, `${v.length}:${v}|${pad(at)}`, `${v}:${pad(at)}`]) {
        await meter.recordAgentReply('shp', 'UTC', id, 'agt', at);
        forged += 1;
      }
    }
    const answered = (await meter.consultationsOn('shp', '2026-11-02')).filter(
      (c) => victims.includes(c.buyerId) && c.firstResponseMs !== null,
    ).length;
    report(
      `9. ${forged} replies to buyer ids forged from the index separators`,
      `${answered} of ${victims.length} other buyers' consultations marked answered (before: a NUL id overwrote another buyer's first response)`,
    );
  } finally {
    redis.disconnect();
  }
}

console.log('bench:abuse (loopback only)');
const run = (n: string) => !ONLY || ONLY.includes(Number(n));
try {
  if (run('1')) {
    await wechatJunk('1 MiB junk', {}, 1024 * 1024);
    await wechatJunk(
      '30 KiB junk (under the cap), failure budget off',
      {
        WEBHOOK_FAILED_VERIFICATIONS_PER_MINUTE: '1000000',
      },
      30 * 1024,
    );
    await wechatJunk('30 KiB junk, failure budget 20/min per address (default)', {}, 30 * 1024);
  }
  if (run('2')) await slowloris();
  if (run('3')) {
    await inboundFlood('fair share off (FIFO, the old behaviour)', {
      WEBHOOK_FAIR_SHARE_PER_MINUTE: '1000000',
    });
    await inboundFlood('fair share 60/min (default)', {});
    await floodQuota();
  }
  if (run('4')) {
    await slowReplyUrl('no per-shop send cap (the old behaviour)', {
      OUTBOUND_SENDS_PER_SHOP: '1000',
    });
    await slowReplyUrl('4 sends per shop (default)', {});
  }
  if (run('5')) await ssrfTable();
  if (run('6')) await sigtermKeepAlive();
  if (run('7')) await streamFlood(2000);
  if (run('8')) {
    await suggestLoops('no per-token limit (the old behaviour)', {
      ASSIST_SUGGESTS_PER_MINUTE: '1000000',
    });
    await suggestLoops('30 per token per minute (default)', {});
  }
  if (run('9')) await forgedIndexIds(3000);
} finally {
  await redisServer.stop?.();
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log('\nsummary');
for (const [name, figure] of results) console.log(`- ${name}: ${figure}`);
process.exit(0);
