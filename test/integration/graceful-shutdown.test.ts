import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort } from '../../scripts/lib/redis-server.mjs';
import { buildContainer } from '../../src/app/container';
import { loadConfig } from '../../src/config/config';
import { signStandardWebhook } from '../../src/platforms/generic/standard-webhooks';
import { createLogger } from '../../src/shared/logger';
import { daysOfMonth } from '../../src/shared/shop-calendar';
import { eventually } from '../support/harness';
import { serviceArgs } from '../support/service-process';
import { openEventStream } from '../support/sse';

const ADMIN = 'adm_shutdown_test_0123456789abcdef';
const SECRETS_KEY = 'shutdown-secrets-key-0123456789abcdef';

describe('graceful shutdown', () => {
  it('loses no acknowledged message when SIGTERM lands mid-traffic', async () => {
    const prefix = `g${randomBytes(4).toString('hex')}`;
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-shutdown-'));
    const env = {
      ...process.env,
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_TOKEN: ADMIN,
      SECRETS_KEY,
      LOG_LEVEL: 'warn',
    };
    const service = spawn(process.execPath, serviceArgs('all'), {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) =>
      service.on('exit', (code) => resolve(code)),
    );
    const base = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${base}/readyz`).catch(() => null))?.ok, 20_000);

    const created = await fetch(`${base}/v1/shops`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Shutdown', platform: 'generic', timezone: 'UTC' }),
    }).then((r) => r.json());

    // An agent's console is open: its event stream must not hold the shutdown up.
    const agent = await fetch(`${base}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Night shift', shopIds: [created.id] }),
    }).then((r) => r.json());
    const console = await openEventStream(`${base}/v1/agent/events`, agent.token);
    expect(console.status).toBe(200);
    const signalledAt = { ms: 0 };

    const send = async (i: number) => {
      const id = `evt-${i}`;
      const ts = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({
        type: 'message',
        data: {
          messageId: id,
          buyer: { id: `buyer-${i}` },
          from: 'buyer',
          text: 'hi',
          sentAt: new Date().toISOString(),
        },
      });
      try {
        const res = await fetch(`${base}/webhooks/generic/${created.id}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(ts),
            'webhook-signature': signStandardWebhook(created.webhookSecret, id, ts, body),
          },
          body,
        });
        return res.status === 200 ? i : null;
      } catch {
        return null; // refused after shutdown began: not acked, the platform would retry
      }
    };

    const inFlight: Array<Promise<number | null>> = [];
    for (let i = 0; i < 300; i++) {
      inFlight.push(send(i));
      if (i === 150) {
        signalledAt.ms = Date.now();
        service.kill('SIGTERM');
      }
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    const acked = (await Promise.all(inFlight)).filter((i): i is number => i !== null);
    expect(await exited).toBe(0);
    expect(Date.now() - signalledAt.ms).toBeLessThan(10_000);
    await console.close();
    expect(acked.length).toBeGreaterThan(0);

    // A fresh worker on the same Redis finishes whatever the old one left queued.
    const config = loadConfig({
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'silent',
    });
    const container = await buildContainer(config, {
      adminToken: ADMIN,
      secretsKey: SECRETS_KEY,
      logger: createLogger('silent'),
    });
    container.startWorkers();
    try {
      const shop = await container.shops.require(created.id);
      const month = new Date().toISOString().slice(0, 7);
      await eventually(
        async () =>
          (await container.meter.countDays(shop.id, daysOfMonth(month))).reduce(
            (sum, d) => sum + d.consultations,
            0,
          ) >= acked.length,
        15_000,
      );
      const day = new Date().toISOString().slice(0, 10);
      const counted = await container.redis.smembers(
        container.meter.dayKey(shop.id, day, 'buyers'),
      );
      for (const i of acked) expect(counted).toContain(`buyer-${i}`);
    } finally {
      await container.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('drains keep-alive clients and exits 0 well within the grace period', async () => {
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-keepalive-'));
    const service = spawn(process.execPath, serviceArgs('api'), {
      env: {
        ...process.env,
        REDIS_URL: inject('redisUrl'),
        REDIS_PREFIX: `k${randomBytes(4).toString('hex')}`,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        ADMIN_TOKEN: ADMIN,
        SECRETS_KEY,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const exited = new Promise<number | null>((resolve) =>
      service.on('exit', (code) => resolve(code)),
    );
    const base = `http://127.0.0.1:${port}`;
    try {
      await eventually(async () => (await fetch(`${base}/readyz`).catch(() => null))?.ok, 20_000);
      // Eight keep-alive clients that never stop asking (fetch reuses its connections).
      let running = true;
      const clients = Array.from({ length: 8 }, async () => {
        while (running) {
          await fetch(`${base}/healthz`)
            .then((r) => r.arrayBuffer())
            .catch(() => new Promise((r) => setTimeout(r, 20)));
        }
      });
      await new Promise((r) => setTimeout(r, 500));
      const signalled = Date.now();
      service.kill('SIGTERM');
      const code = await Promise.race([
        exited,
        new Promise<'still running'>((r) => setTimeout(() => r('still running'), 12_000)),
      ]);
      running = false;
      await Promise.all(clients);
      expect(code).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(12_000);
    } finally {
      service.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
