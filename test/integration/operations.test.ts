import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIds } from '../../src/pipeline/queues';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';
import { buyerEvent } from '../support/inbound-queue';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('operations endpoints', () => {
  it('serves health, readiness and Prometheus metrics without a token', async () => {
    expect((await h.api('/healthz', { token: '' })).body).toEqual({ status: 'ok' });
    const ready = await h.api('/readyz', { token: '' });
    expect(ready.status).toBe(200);
    // The test Redis runs without AOF or snapshots: readiness says so, for the operator.
    expect(ready.body.warnings).toEqual([expect.stringMatching(/^redis_not_persistent: /)]);
    const shop = await h.createGenericShop();
    await h.sendGeneric(shop, buyerMessage('b', 'hi', Date.now()));
    const metrics = await h.api('/metrics', { token: '' });
    expect(metrics.text).toMatch(
      /seatmate_webhook_requests_total\{platform="generic",status="200"\} [1-9]/,
    );
    // The depth is read from Redis within 500 ms of a scrape (else left as it was): on a busy
    // machine the first scrapes, while the queues' connections start, may go without it.
    await eventually(async () => {
      const text = (await h.api('/metrics', { token: '' })).text;
      return ['inbound', 'outbound', 'alerts', 'idle', 'billing'].every((queue) =>
        new RegExp(`seatmate_queue_depth\\{queue="${queue}",state="failed"\\}`).test(text),
      );
    });
    // The wait the message began armed its alert and its close: timers, counted as delayed jobs.
    await eventually(async () => {
      const text = (await h.api('/metrics', { token: '' })).text;
      return ['alerts', 'idle'].every((queue) =>
        new RegExp(`seatmate_queue_depth\\{queue="${queue}",state="delayed"\\} [1-9]`).test(text),
      );
    });
  });

  it('generates /openapi.json from the request schemas', async () => {
    const doc = (await h.api('/openapi.json', { token: '' })).body;
    expect(doc.openapi).toBe('3.1.0');
    const createShop = doc.paths['/v1/shops'].post.requestBody.content['application/json'].schema;
    expect(createShop.required).toEqual(expect.arrayContaining(['name', 'platform']));
    expect(createShop.properties.platform.enum).toContain('wechat');
    expect(
      doc.paths['/v1/shops/{shopId}/usage'].get.parameters.map((p: { name: string }) => p.name),
    ).toEqual(['shopId', 'month']);
  });

  it('answers a wrong method and an unknown queue in the error envelope', async () => {
    const put = await h.api('/healthz', { token: '', method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.body.error.code).toBe('method_not_allowed');
    const weird = await h.api('/v1/ops/failed-jobs/toString/x/retry', { method: 'POST' });
    expect(weird.status).toBe(404);
    expect((await h.api('/v1/agents/agt_nope/stats')).status).toBe(404);
  });

  it('never answers with a stack trace', async () => {
    const res = await h.api('/v1/shops', { body: '{"name": ' });
    expect(res.status).toBe(400);
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    expect(res.body.error.code).toBe('malformed_json');
  });

  it('keeps a permanently failed job visible to the operator instead of dropping it', async () => {
    // A job whose shop has gone: the worker cannot ever process it.
    await h.container.queues.inbound.of('shp_gone').add(
      'message',
      {
        platform: 'generic',
        shopId: 'shp_gone',
        receivedAt: Date.now(),
        event: {
          kind: 'message',
          eventId: 'e1',
          messageId: 'e1',
          buyer: { id: 'b' },
          from: 'buyer',
          text: 'hi',
          sentAt: new Date().toISOString(),
        },
      },
      { jobId: jobIds.inbound('generic', 'shp_gone', 'e1') },
    );
    const failed = await eventually(async () => {
      const res = await h.api('/v1/ops/failed-jobs');
      return res.body.jobs.find((j: { shopId: string }) => j.shopId === 'shp_gone');
    });
    expect(failed.failedReason).toMatch(/no longer exists/);
    expect(failed.attemptsMade).toBe(1);
    const metrics = await h.api('/metrics', { token: '' });
    expect(metrics.text).toMatch(/seatmate_jobs_failed_permanently_total\{queue="inbound"\} 1/);
  });

  it("processes a batch job's events each on its own, a failing one queued again as its own job", async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    // One delivery of three events: one ingest call, so one batch job. The middle one can
    // never be processed (its sentAt is no time).
    const now = new Date().toISOString();
    const events = [
      buyerEvent('bt-1', now),
      buyerEvent('bt-2', 'no time'),
      buyerEvent('bt-3', now),
    ];
    expect(
      await h.container.services.ingest.enqueue('generic', shop.id, events, Date.now()),
    ).toEqual({ queued: 3, duplicates: 0 });
    // The other two are stored, each its buyer's conversation.
    await eventually(async () =>
      (
        await Promise.all(
          ['b-bt-1', 'b-bt-3'].map((buyer) => h.container.conversations.exists(shop.id, buyer)),
        )
      ).every(Boolean),
    );
    // The failing one is a failed job of its own (not the batch), where the operator finds
    // it by the event's job id and its shop.
    const failed = await eventually(async () => {
      const res = await h.api('/v1/ops/failed-jobs');
      return res.body.jobs.find((j: { shopId?: string }) => j.shopId === shop.id);
    });
    expect(failed).toMatchObject({
      queue: 'inbound',
      id: jobIds.inbound('generic', shop.id, 'bt-2'),
      name: 'message',
      attemptsMade: 1,
    });
    expect(failed.failedReason).toMatch(/no valid sentAt/);
    const jobs = (await h.api('/v1/ops/failed-jobs')).body.jobs as Array<{ id: string }>;
    expect(jobs.filter((job) => job.id.startsWith('ib_'))).toEqual([]);
    expect(await h.container.conversations.exists(shop.id, 'b-bt-2')).toBe(false);
  });

  it('lists failed jobs of every queue, the month close too', async () => {
    await h.container.queues.billing.add('close', { month: 'not-a-month' }, { attempts: 1 });
    const failed = await eventually(async () => {
      const res = await h.api('/v1/ops/failed-jobs');
      return res.body.jobs.find((j: { queue: string }) => j.queue === 'billing');
    });
    expect(failed.failedReason).toMatch(/YYYY-MM/);
  });
});
