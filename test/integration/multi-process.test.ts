import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
// @ts-expect-error plain .mjs shared with `npm start`, no type declarations
import { freePort } from '../../scripts/lib/redis-server.mjs';
import { conversationId } from '../../src/conversations/conversation-store';
import { signStandardWebhook } from '../../src/platforms/generic/standard-webhooks';
import { monthOf } from '../../src/shared/shop-calendar';
import { eventually } from '../support/harness';
import { serviceArgs } from '../support/service-process';
import { openEventStream } from '../support/sse';

/**
 * Two API and two worker processes (the real entry point, built as `npm start` runs it)
 * against one Redis (or, in the `cluster` project, one Redis Cluster): redeliveries through either API are counted once, each
 * conversation keeps its sent-time order whichever worker took a message,
 * and an agent's stream on one API instance carries events of messages that
 * came in through the other.
 */
const ADMIN = `adm_${randomBytes(16).toString('hex')}`;
const root = path.resolve(__dirname, '../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-multi-'));
const prefix = `mp${randomBytes(4).toString('hex')}`;
const children: ChildProcess[] = [];
const apis: string[] = [];
/** Each worker's probes and metrics (OPS_PORT). */
const workerOps: string[] = [];
const clusterNodes = inject('redisClusterNodes');

async function start(role: 'api' | 'worker', name: string): Promise<void> {
  const port = role === 'api' ? ((await freePort()) as number) : 0;
  const opsPort = role === 'worker' ? ((await freePort()) as number) : undefined;
  const child = spawn(process.execPath, serviceArgs(role), {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      // In the `cluster` project: the run's Redis Cluster, the inbound queue in three partitions.
      ...(clusterNodes
        ? { REDIS_CLUSTER_NODES: clusterNodes, INBOUND_PARTITIONS: '3' }
        : { REDIS_URL: inject('redisUrl') }),
      REDIS_PREFIX: prefix,
      PORT: String(port),
      ...(opsPort ? { OPS_PORT: String(opsPort) } : {}),
      HOST: '127.0.0.1',
      ADMIN_TOKEN: ADMIN,
      SECRETS_KEY: 'multi-process-secrets-key-0123456789ab',
      DATA_DIR: path.join(dataDir, name),
      LOG_LEVEL: 'silent',
      WORKER_CONCURRENCY: '4',
    },
  });
  children.push(child);
  if (role === 'api') {
    const url = `http://127.0.0.1:${port}`;
    await eventually(() => fetch(`${url}/readyz`).then((r) => r.ok), 30_000);
    apis.push(url);
  } else {
    const url = `http://127.0.0.1:${opsPort}`;
    await eventually(() => fetch(`${url}/readyz`).then((r) => r.ok), 30_000);
    workerOps.push(url);
  }
}

/** A worker's count of one pipeline stage, from its /metrics. */
async function stageCount(url: string, stage: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const line = new RegExp(
    `^seatmate_pipeline_stage_seconds_count\\{stage="${stage}"\\} (\\d+)$`,
    'm',
  );
  return Number(line.exec(text)?.[1] ?? 0);
}

beforeAll(async () => {
  await Promise.all([
    start('api', 'api-1'),
    start('api', 'api-2'),
    start('worker', 'worker-1'),
    start('worker', 'worker-2'),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

async function call(url: string, pathname: string, body?: unknown, token = ADMIN) {
  const res = await fetch(`${url}${pathname}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

function deliver(
  url: string,
  shop: { id: string; webhookSecret: string },
  eventId: string,
  data: Record<string, unknown>,
) {
  const body = JSON.stringify({ type: 'message', data });
  const ts = Math.floor(Date.now() / 1000);
  return fetch(`${url}/webhooks/generic/${shop.id}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': eventId,
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandardWebhook(shop.webhookSecret, eventId, ts, body),
    },
    body,
  });
}

describe('two API and two worker processes on one Redis', () => {
  it('count each event once, keep each conversation in sent-time order, and serve any agent from any API', async () => {
    const [api1, api2] = apis as [string, string];
    const shop = (await call(api1, '/v1/shops', { name: 'Multi', platform: 'generic' })).body;
    const agent = (await call(api2, '/v1/agents', { name: 'Ana', shopIds: [shop.id] })).body;
    // The agent listens on the second API instance only.
    const stream = await openEventStream(`${api2}/v1/agent/events`, agent.token);

    const buyers = ['b1', 'b2', 'b3', 'b4', 'b5'];
    const base = Date.now() - 60_000;
    const sent: Array<{ buyer: string; messageId: string; at: number }> = [];
    const deliveries: Promise<Response>[] = [];
    buyers.forEach((buyer, b) => {
      for (let i = 0; i < 6; i++) {
        const at = base + i * 1000 + b;
        const messageId = `m_${randomUUID()}`;
        sent.push({ buyer, messageId, at });
        const data = {
          messageId,
          buyer: { id: buyer },
          from: 'buyer',
          text: `message ${i} from ${buyer}`,
          sentAt: new Date(at).toISOString(),
        };
        // Every event is delivered twice, once through each API instance.
        deliveries.push(deliver(api1, shop, messageId, data), deliver(api2, shop, messageId, data));
      }
    });
    const responses = await Promise.all(deliveries);
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));

    // The shop's month, in its own time zone (Asia/Shanghai by default): the UTC month differs
    // from it for eight hours at every month's end.
    const month = monthOf(base, shop.timezone);
    await eventually(
      async () =>
        (await call(api1, `/v1/shops/${shop.id}/usage?month=${month}`)).body.consultations === 5,
      20_000,
    );
    // Every message's suggestion reached the stream served by the other instance.
    for (const { messageId } of sent)
      await stream.waitFor(
        (e) => e.event === 'suggestion' && e.data.forMessageId === messageId,
        20_000,
      );
    const suggestions = stream.events.filter((e) => e.event === 'suggestion');
    const messages = stream.events.filter((e) => e.event === 'message');
    expect(new Set(messages.map((e) => e.data.message.id)).size).toBe(sent.length);

    for (const buyer of buyers) {
      const detail = await call(
        api1,
        `/v1/agent/conversations/${conversationId(shop.id, buyer)}`,
        undefined,
        agent.token,
      );
      const ids = detail.body.lastMessages.map((m: { id: string }) => m.id);
      expect(ids).toEqual(sent.filter((s) => s.buyer === buyer).map((s) => s.messageId));
    }
    // No double count, however the two workers split the jobs.
    const usage = (await call(api2, `/v1/shops/${shop.id}/usage?month=${month}`)).body;
    expect(usage.consultations).toBe(5);
    expect(suggestions.length).toBeGreaterThanOrEqual(sent.length);
    await stream.close();

    // The workers' own metrics are scraped from their OPS_PORT: between them, every message
    // stored (each redelivery was absorbed at ingest), whichever worker took it.
    const stored = await Promise.all(workerOps.map((url) => stageCount(url, 'store')));
    expect(stored.reduce((a, b) => a + b, 0)).toBe(sent.length);
  }, 60_000);

  it("serves each worker's probes and metrics on OPS_PORT, and nothing of the API there", async () => {
    for (const url of workerOps) {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({ status: 'ready' });
      const metrics = await fetch(`${url}/metrics`);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await metrics.text()).toMatch(/^seatmate_queue_depth\{/m);
      for (const pathname of ['/v1/shops', '/openapi.json', '/console', '/webhooks/generic/x'])
        expect((await fetch(`${url}${pathname}`, { method: 'GET' })).status).toBe(404);
    }
  });
});
