import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';
import { buildContainer, type Container, closeServer } from '../../src/app/container';
import { loadConfig } from '../../src/config/config';
import { signStandardWebhook } from '../../src/platforms/generic/standard-webhooks';
import { type Clock, systemClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';

export const ADMIN_TOKEN = 'adm_test_token_0123456789abcdef';

export interface Harness {
  url: string;
  container: Container;
  server: Server;
  api(
    path: string,
    init?: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers; text: string }>;
  createGenericShop(
    input?: Record<string, unknown>,
  ): Promise<{ id: string; ownerKey: string; webhookSecret: string }>;
  sendGeneric(
    shop: { id: string; webhookSecret: string },
    message: GenericMessage,
    options?: { id?: string; timestamp?: number },
  ): Promise<Response>;
  /** States the agent's presence (PUT /v1/agent/presence); online makes them eligible for buyers. */
  setPresence(token: string, status: 'online' | 'away' | 'offline'): Promise<void>;
  close(): Promise<void>;
}

export interface GenericMessage {
  type?: 'message' | 'order' | 'rating';
  data: Record<string, unknown>;
}

/**
 * A real Seatmate (HTTP + optionally workers) on a free port, against the test
 * run's real Redis (or, in the `cluster` project, its Redis Cluster), under a
 * key prefix of its own so test files never meet.
 */
export async function startHarness(
  options: { clock?: Clock; workers?: boolean; env?: Record<string, string> } = {},
): Promise<Harness> {
  // The `cluster` project runs the same suites on a Redis Cluster, its inbound queue in partitions.
  const clusterNodes = inject('redisClusterNodes');
  const config = loadConfig({
    ...(clusterNodes
      ? { REDIS_CLUSTER_NODES: clusterNodes, INBOUND_PARTITIONS: '3' }
      : { REDIS_URL: inject('redisUrl') }),
    REDIS_PREFIX: `t${randomBytes(5).toString('hex')}`,
    PORT: '0',
    LOG_LEVEL: 'silent',
    WORKER_CONCURRENCY: '8',
    // Stand-ins on loopback and nock hosts under .test; everything else must be https and public.
    OUTBOUND_DEV_HOSTS: '127.0.0.1,.test',
    // Per-token budgets are tested on their own (principal-limits.test.ts); other tests run free.
    ASSIST_SUGGESTS_PER_MINUTE: '100000',
    AGENT_REPLIES_PER_MINUTE: '100000',
    OWNER_READS_PER_MINUTE: '100000',
    AGENT_MEDIA_PER_MINUTE: '100000',
    // Suggestions in-process: a thread per harness would add a second or so to each test file.
    // The thread has tests of its own (assist-thread.test.ts, threaded-assistant.test.ts), and
    // the processes the multi-process tests start run it by default.
    ASSIST_THREAD: 'false',
    ...options.env,
  });
  const clock = options.clock ?? systemClock;
  const container = await buildContainer(config, {
    adminToken: ADMIN_TOKEN,
    secretsKey: 'test-secrets-key-0123456789abcdef0123',
    clock,
    logger: createLogger(process.env.HARNESS_LOG ?? 'silent'),
  });
  if (options.workers !== false) container.startWorkers();
  const server = await container.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const api: Harness['api'] = async (path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    const token = init.token === undefined ? ADMIN_TOKEN : init.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      body:
        init.body === undefined
          ? undefined
          : typeof init.body === 'string'
            ? init.body
            : JSON.stringify(init.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON (CSV, HTML, metrics): keep the text.
    }
    return { status: response.status, body, headers: response.headers, text };
  };

  return {
    url,
    container,
    server,
    api,
    async createGenericShop(input = {}) {
      const res = await api('/v1/shops', {
        body: { name: 'Test shop', platform: 'generic', ...input },
      });
      if (res.status !== 201) throw new Error(`shop create failed: ${res.status} ${res.text}`);
      return res.body;
    },
    async sendGeneric(shop, message, opts = {}) {
      const id = opts.id ?? `msg_${randomUUID()}`;
      const timestamp = opts.timestamp ?? Math.floor(clock.now() / 1000);
      const body = JSON.stringify({ type: message.type ?? 'message', data: message.data });
      return fetch(`${url}/webhooks/generic/${shop.id}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signStandardWebhook(shop.webhookSecret, id, timestamp, body),
        },
        body,
      });
    },
    async setPresence(token, status) {
      const res = await api('/v1/agent/presence', { method: 'PUT', token, body: { status } });
      if (res.status !== 200) throw new Error(`presence failed: ${res.status} ${res.text}`);
    },
    async close() {
      container.stopStreams();
      await closeServer(server);
      await container.close();
    },
  };
}

/** A buyer message body for the generic platform. */
export function buyerMessage(
  buyerId: string,
  text: string,
  sentAt: string | number,
  extra: Record<string, unknown> = {},
): GenericMessage {
  return {
    data: {
      messageId: `m_${randomUUID()}`,
      buyer: { id: buyerId },
      from: 'buyer',
      text,
      sentAt: typeof sentAt === 'number' ? new Date(sentAt).toISOString() : sentAt,
      ...extra,
    },
  };
}

/** Polls until `check` returns a truthy value (the worker is asynchronous). */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}
