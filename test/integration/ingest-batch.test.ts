import { Job } from 'bullmq';
import { unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddArguments } from '../../src/pipeline/ingest-batch';
import { type InboundJob, jobIds } from '../../src/pipeline/queues';
import { buyerMessage, type Harness, startHarness } from '../support/harness';

// No workers: every accepted event stays queued where the test can read it.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    workers: false,
    env: { WEBHOOK_RATE_PER_MINUTE: '8', WEBHOOK_FAIR_SHARE_PER_MINUTE: '2' },
  });
});
afterAll(() => h.close());

async function storedJob(shopId: string, eventId: string): Promise<Record<string, string>> {
  const queue = h.container.queues.inbound.of(shopId);
  return h.container.services.redis.hgetall(
    queue.toKey(jobIds.inbound('generic', shopId, eventId)),
  );
}

describe('ingest queues jobs as BullMQ would, each delivery judged on its own', () => {
  it("stores a webhook's job exactly as Queue.add stores the same job", async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const res = await h.sendGeneric(shop, buyerMessage('buyer-s', 'hello', Date.now()), {
      id: 'evt-same',
    });
    expect(await res.json()).toEqual({ ok: true, queued: 1, duplicates: 0 });
    const ours = await storedJob(shop.id, 'evt-same');

    const queue = h.container.queues.inbound.of(shop.id);
    const twinId = jobIds.inbound('generic', shop.id, 'evt-twin');
    await queue.add(ours.name as 'message', JSON.parse(ours.data!), { jobId: twinId });
    const twin = await storedJob(shop.id, 'evt-twin');

    const { timestamp: _a, opts: ourOpts, ...ourRest } = ours;
    const { timestamp: _b, opts: twinOpts, ...twinRest } = twin;
    expect(ourRest).toEqual(twinRest);
    const { jobId: ourJobId, ...ourOptions } = JSON.parse(ourOpts!);
    const { jobId: twinJobId, ...twinOptions } = JSON.parse(twinOpts!);
    expect(ourOptions).toEqual(twinOptions);
    expect([ourJobId, twinJobId]).toEqual([jobIds.inbound('generic', shop.id, 'evt-same'), twinId]);
    const waiting = await queue.getWaiting();
    expect(waiting.map((job) => job.id)).toEqual(
      expect.arrayContaining([ourJobId as string, twinId]),
    );
  });

  it("builds every job's add arguments byte for byte as BullMQ's own Job does", async () => {
    const queue = h.container.queues.inbound.of('shp_any');
    /** The add BullMQ's own Job sends: the queue's 9 keys, then the three arguments. */
    const bullmqAdd = (job: Job<InboundJob>): unknown[] => {
      let sent: unknown[] = [];
      const client = {
        runCommand: (_: string, args: unknown[]) => {
          sent = args;
          return Promise.resolve('');
        },
      };
      void job.addJob(client as never).catch(() => undefined);
      return sent;
    };
    const bullmqs = (job: Job<InboundJob>) => bullmqAdd(job).slice(9) as [Buffer, string, Buffer];
    const jobOf = (name: string, data: unknown, jobId: string) =>
      new Job<InboundJob>(
        queue,
        name,
        data as InboundJob,
        { ...queue.defaultJobOptions, jobId },
        jobId,
      );
    const probe = jobOf('probe', { probe: true }, 'probe');
    const ours = new AddArguments(queue, probe, bullmqAdd(probe));
    const events: Array<[string, string, Record<string, unknown>]> = [
      ['message', jobIds.inbound('generic', 'shp_a', 'e1'), { text: '您好 👋🏽 \u202e', n: 1 }],
      ['order', jobIds.inbound('line', 'shp_b', 'x'.repeat(300)), { total: 12_345, at: null }],
      ['status', 'an-id-of-another-length-0123456789', { nested: { a: [1, 'b', { c: true }] } }],
      ['', 'x', {}],
    ];
    for (const [name, jobId, data] of events) {
      const job = jobOf(name, data, jobId);
      const theirs = bullmqs(job);
      const built = ours.build(name, data as unknown as InboundJob, jobId, job.timestamp);
      expect((unpack(built[0]) as unknown[])[3]).toBe(job.timestamp);
      expect(built[0].equals(theirs[0])).toBe(true);
      expect(built[1]).toBe(theirs[1]);
      expect(built[2].equals(theirs[2])).toBe(true);
    }
  });

  it("demotes a shop's events past its fair share one priority tier per share", async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    for (let i = 1; i <= 5; i++) {
      const res = await h.sendGeneric(shop, buyerMessage(`b-${i}`, 'hi', Date.now()), {
        id: `rank-${i}`,
      });
      expect(res.status).toBe(200);
    }
    // Share 2: ranks 1-2 plain FIFO, 3-4 tier 1, 5 tier 2.
    const priorities = [];
    for (let i = 1; i <= 5; i++)
      priorities.push(Number((await storedJob(shop.id, `rank-${i}`)).priority));
    expect(priorities).toEqual([0, 0, 1, 1, 2]);
    const queue = h.container.queues.inbound.of(shop.id);
    expect(await queue.getPrioritizedCount()).toBeGreaterThanOrEqual(3);
  });

  it('answers deliveries arriving together each on its own: new, redelivered, over quota', async () => {
    const busy = await h.createGenericShop({ timezone: 'UTC' });
    const calm = await h.createGenericShop({ timezone: 'UTC' });
    // The busy shop uses up its 8 events this minute; the calm shop has one event queued.
    for (let i = 0; i < 8; i++)
      expect(
        (await h.sendGeneric(busy, buyerMessage(`x-${i}`, 'hi', Date.now()), { id: `busy-${i}` }))
          .status,
      ).toBe(200);
    expect(
      (await h.sendGeneric(calm, buyerMessage('c-0', 'hi', Date.now()), { id: 'calm-0' })).status,
    ).toBe(200);

    const [overQuota, redelivered, fresh, fresh2] = await Promise.all([
      h.sendGeneric(busy, buyerMessage('x-9', 'more', Date.now()), { id: 'busy-9' }),
      h.sendGeneric(calm, buyerMessage('c-0', 'hi', Date.now()), { id: 'calm-0' }),
      h.sendGeneric(calm, buyerMessage('c-1', 'hello', Date.now()), { id: 'calm-1' }),
      h.sendGeneric(calm, buyerMessage('c-2', 'hello', Date.now()), { id: 'calm-2' }),
    ]);
    expect(overQuota.status).toBe(429);
    expect(Number(overQuota.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await redelivered.json()).toEqual({ ok: true, queued: 0, duplicates: 1 });
    expect(await fresh.json()).toEqual({ ok: true, queued: 1, duplicates: 0 });
    expect(await fresh2.json()).toEqual({ ok: true, queued: 1, duplicates: 0 });
    expect(await storedJob(busy.id, 'busy-9')).toEqual({});
    expect((await storedJob(calm.id, 'calm-2')).name).toBe('message');
  });
  it('writes the dedupe mark with the job on one Redis, in the delivery’s name', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const message = buyerMessage('buyer-m', 'hello', Date.now());
    expect(await (await h.sendGeneric(shop, message, { id: 'evt-mark' })).json()).toEqual({
      ok: true,
      queued: 1,
      duplicates: 0,
    });
    const data = JSON.parse((await storedJob(shop.id, 'evt-mark')).data!);
    const markKey = h.container.keys.delivery(shop.id, 'generic', 'evt-mark');
    const mark = await h.container.services.redis.get(markKey);
    if (h.container.config.REDIS_CLUSTER_NODES) {
      // A Cluster's ingest cannot write the mark with the job (other slots): the worker does.
      expect(mark).toBeNull();
      expect(data.marked).toBeUndefined();
    } else {
      // Queued and not yet taken, the event is already marked, in its job's name, for 72 h.
      expect(mark).toBe(data.ingestId);
      expect(data.marked).toBe(true);
      expect(await h.container.services.redis.ttl(markKey)).toBeGreaterThan(71 * 3600);
    }
    // Either way a redelivery while the job waits queues nothing.
    expect(await (await h.sendGeneric(shop, message, { id: 'evt-mark' })).json()).toEqual({
      ok: true,
      queued: 0,
      duplicates: 1,
    });
    // With the job gone (done and removed), the mark alone refuses a redelivery on one Redis;
    // on a Cluster no worker took it here, so nothing marked it and it is queued again.
    await h.container.queues.inbound
      .of(shop.id)
      .remove(jobIds.inbound('generic', shop.id, 'evt-mark'));
    const again = await (await h.sendGeneric(shop, message, { id: 'evt-mark' })).json();
    expect(again.queued).toBe(h.container.config.REDIS_CLUSTER_NODES ? 1 : 0);
  });

  it('leaves no mark when the add fails, so the platform’s retry of the 503 is queued', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const message = buyerMessage('buyer-f', 'hello', Date.now());
    const queue = h.container.queues.inbound.of(shop.id);
    const redis = h.container.services.redis;
    // BullMQ's add reads the queue's meta hash: a string there makes the add itself fail.
    const meta = queue.toKey('meta');
    const saved = await redis.hgetall(meta);
    await redis.del(meta);
    await redis.set(meta, 'not a hash');
    try {
      expect((await h.sendGeneric(shop, message, { id: 'evt-fail' })).status).toBe(503);
    } finally {
      await redis.del(meta);
      if (Object.keys(saved).length > 0) await redis.hset(meta, saved);
    }
    expect(await redis.exists(h.container.keys.delivery(shop.id, 'generic', 'evt-fail'))).toBe(0);
    expect(await (await h.sendGeneric(shop, message, { id: 'evt-fail' })).json()).toEqual({
      ok: true,
      queued: 1,
      duplicates: 0,
    });
  });
});
