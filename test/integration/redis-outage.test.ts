import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort, startRedis } from '../../scripts/lib/redis-server.mjs';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

type RedisProcess = { url: string; stop(): Promise<void> };

let dir: string;
let port: number;
let redis: RedisProcess;
let h: Harness;

beforeAll(async () => {
  // A Redis of this file's own, so stopping it cannot disturb other tests.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-outage-'));
  port = await freePort();
  redis = await startRedis({ port, dir, persist: true });
  h = await startHarness({ env: { REDIS_URL: redis.url } });
});

afterAll(async () => {
  await h.close();
  await redis.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('when Redis goes away', () => {
  it('answers 503 and acks nothing, then recovers without a restart', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    expect((await h.api('/readyz', { token: '' })).status).toBe(200);

    await redis.stop();
    const down = await h.sendGeneric(shop, buyerMessage('during-outage', 'hello?', Date.now()), {
      id: 'outage-1',
    });
    expect(down.status).toBe(503);
    const body = await down.json();
    expect(body.error.code).toBe('unavailable');
    expect(down.headers.get('retry-after')).toBeTruthy();
    expect((await h.api('/readyz', { token: '' })).status).toBe(503);

    redis = await startRedis({ port, dir, persist: true });
    await eventually(async () => (await h.api('/readyz', { token: '' })).status === 200, 15_000);
    // The platform retries the same event: it is accepted now, and counted once.
    const retried = await h.sendGeneric(shop, buyerMessage('during-outage', 'hello?', Date.now()), {
      id: 'outage-1',
    });
    expect(retried.status).toBe(200);
    const month = new Date().toISOString().slice(0, 7);
    await eventually(
      async () =>
        (await h.api(`/v1/shops/${shop.id}/usage?month=${month}`)).body.consultations === 1,
      15_000,
    );
  });
});
