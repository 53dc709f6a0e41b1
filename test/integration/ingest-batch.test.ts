import { createRequire } from 'node:module';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBullmqAdd } from '../../src/pipeline/ingest-batch';
import { INBOUND_BATCH, jobIds, splitFailedBatch } from '../../src/pipeline/queues';
import { workerConnection } from '../../src/shared/redis';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';
import { buyerEvent, inboundEntry, jobOfEvent } from '../support/inbound-queue';

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
  /** A job's hash as stored, its options parsed, without what differs between two adds. */
  function comparable(job: Record<string, string>) {
    const { timestamp: _at, opts, ...rest } = job;
    const { jobId: _id, ...options } = JSON.parse(opts!);
    return { ...rest, options };
  }

  /** The events stream's entries after `from`, as [event, jobId, name?] lists. */
  async function eventsAfter(shopId: string, from: string) {
    const queue = h.container.queues.inbound.of(shopId);
    const entries = await h.container.services.redis.xrange(queue.toKey('events'), from, '+');
    return entries.filter(([id]) => id !== from).map(([, fields]) => fields);
  }

  async function lastEventId(shopId: string): Promise<string> {
    const queue = h.container.queues.inbound.of(shopId);
    const [last] = await h.container.services.redis.xrevrange(
      queue.toKey('events'),
      '+',
      '-',
      'COUNT',
      1,
    );
    return last?.[0] ?? '0-0';
  }

  it("stores a webhook's job, its events and its place exactly as Queue.add does", async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const queue = h.container.queues.inbound.of(shop.id);
    const from = await lastEventId(shop.id);
    const res = await h.sendGeneric(shop, buyerMessage('buyer-s', 'hello', Date.now()), {
      id: 'evt-same',
    });
    expect(await res.json()).toEqual({ ok: true, queued: 1, duplicates: 0 });
    const ourId = jobIds.inbound('generic', shop.id, 'evt-same');
    const ours = await storedJob(shop.id, 'evt-same');
    const ourEvents = await eventsAfter(shop.id, from);

    const twinFrom = await lastEventId(shop.id);
    const twinId = jobIds.inbound('generic', shop.id, 'evt-twin');
    await queue.add(ours.name as 'message', JSON.parse(ours.data!), { jobId: twinId });
    const twin = await storedJob(shop.id, 'evt-twin');

    expect(comparable(ours)).toEqual(comparable(twin));
    expect(JSON.parse(ours.opts!).jobId).toBe(ourId);
    expect(Number(ours.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    const rename = (fields: string[], id: string) => fields.map((f) => (f === id ? 'ID' : f));
    expect(ourEvents.map((fields) => rename(fields, ourId))).toEqual(
      (await eventsAfter(shop.id, twinFrom)).map((fields) => rename(fields, twinId)),
    );
    // Both in the wait list, newest first as LPUSH leaves them, and the queue marked as having work.
    expect(await h.container.services.redis.lrange(queue.toKey('wait'), 0, 1)).toEqual([
      twinId,
      ourId,
    ]);
    expect(await h.container.services.redis.zscore(queue.toKey('marker'), '0')).toBe('0');
  });

  it('stores a job past the fair share as Queue.add stores a prioritized job', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const queue = h.container.queues.inbound.of(shop.id);
    // Share 2: the third event this minute is the first of tier 1.
    for (const id of ['p-1', 'p-2', 'p-3'])
      expect(
        (await h.sendGeneric(shop, buyerMessage(`b-${id}`, 'hi', Date.now()), { id })).status,
      ).toBe(200);
    const ours = await storedJob(shop.id, 'p-3');
    const twinId = jobIds.inbound('generic', shop.id, 'p-twin');
    await queue.add(ours.name as 'message', JSON.parse(ours.data!), { jobId: twinId, priority: 1 });
    const twin = await storedJob(shop.id, 'p-twin');
    expect(comparable(ours)).toEqual(comparable(twin));
    expect(comparable(ours).options.priority).toBe(1);
    // In the prioritized set in tier 1, in arrival order (the queue's priority counter).
    const redis = h.container.services.redis;
    const ourScore = Number(
      await redis.zscore(queue.toKey('prioritized'), jobIds.inbound('generic', shop.id, 'p-3')),
    );
    const twinScore = Number(await redis.zscore(queue.toKey('prioritized'), twinId));
    expect(Math.floor(ourScore / 0x100000000)).toBe(1);
    expect(twinScore).toBe(ourScore + 1);
  });

  it('puts the job in the paused list of a paused queue, as Queue.add does', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const queue = h.container.queues.inbound.of(shop.id);
    await queue.pause();
    try {
      expect(
        (await h.sendGeneric(shop, buyerMessage('b-z', 'hi', Date.now()), { id: 'z-1' })).status,
      ).toBe(200);
      const id = jobIds.inbound('generic', shop.id, 'z-1');
      expect(await h.container.services.redis.lrange(queue.toKey('paused'), 0, -1)).toContain(id);
      expect(await h.container.services.redis.lrange(queue.toKey('wait'), 0, -1)).not.toContain(id);
    } finally {
      await queue.resume();
    }
    expect((await queue.getWaiting()).map((job) => job.id)).toContain(
      jobIds.inbound('generic', shop.id, 'z-1'),
    );
  });

  it('refuses to start with a BullMQ whose add it was not written from', () => {
    expect(() => checkBullmqAdd()).not.toThrow();
    const installed = createRequire(import.meta.url)('bullmq/dist/cjs/scripts/index.js');
    const changed = {
      ...installed,
      addPrioritizedJob: {
        ...installed.addPrioritizedJob,
        content: `${installed.addPrioritizedJob.content}\n-- new`,
      },
    };
    expect(() => checkBullmqAdd(changed)).toThrow(/ADD_LUA_REVIEWED/);
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

  it("queues one call's events of each priority in one batch job, keeping their tiers", async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const queue = h.container.queues.inbound.of(shop.id);
    const redis = h.container.services.redis as Redis;
    const ids = ['tier-1', 'tier-2', 'tier-3', 'tier-4', 'tier-5'];
    const events = ids.map((id) => buyerEvent(id));
    // One delivery: share 2, so ranks 1-2 FIFO, 3-4 tier 1, 5 tier 2.
    expect(
      await h.container.services.ingest.enqueue('generic', shop.id, events, Date.now()),
    ).toEqual({ queued: 5, duplicates: 0 });
    const jobs = await Promise.all(ids.map((id) => jobOfEvent(redis, queue, shop.id, id)));
    if (h.container.config.REDIS_CLUSTER_NODES) {
      // A Cluster's ingest adds with Queue.add, a job per event, in the same tiers.
      expect(jobs.map((job) => [job?.name, job?.priority])).toEqual(
        [0, 0, 1, 1, 2].map((priority) => ['message', priority]),
      );
      return;
    }
    expect(jobs.map((job) => [job?.name, job?.priority])).toEqual([
      [INBOUND_BATCH, 0],
      [INBOUND_BATCH, 0],
      [INBOUND_BATCH, 1],
      [INBOUND_BATCH, 1],
      ['message', 2],
    ]);
    expect(jobs[0]!.id).toBe(jobs[1]!.id);
    expect(jobs[2]!.id).toBe(jobs[3]!.id);
    expect(jobs[2]!.id).not.toBe(jobs[0]!.id);
    // The alone one is under its own id; the tier's batch is in the prioritized set, in tier 1.
    expect(jobs[4]!.id).toBe(jobIds.inbound('generic', shop.id, 'tier-5'));
    const score = Number(await redis.zscore(queue.toKey('prioritized'), jobs[2]!.id));
    expect(Math.floor(score / 0x100000000)).toBe(1);
    expect(await queue.getJobState(jobs[0]!.id)).toBe('waiting');
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
    const redis = h.container.services.redis as Redis;
    expect(
      await jobOfEvent(redis, h.container.queues.inbound.of(busy.id), busy.id, 'busy-9'),
    ).toBeUndefined();
    // calm-1 and calm-2 may have come in one call, and so share a batch job.
    for (const id of ['calm-1', 'calm-2'])
      expect(
        await jobOfEvent(redis, h.container.queues.inbound.of(calm.id), calm.id, id),
      ).toBeDefined();
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

describe('a batch job that failed for good', () => {
  it('is split into its events, each queued again as a job of its own', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const queue = h.container.queues.inbound.of(shop.id);
    const entry = (id: string) => inboundEntry(shop.id, id, 'ingest-1');
    const batch = await queue.add(
      INBOUND_BATCH,
      { events: [entry('split-1'), entry('split-2')] },
      { jobId: jobIds.inboundBatch('ingest-1') },
    );
    await splitFailedBatch(h.container.queues.inbound, batch);
    expect(await queue.getJob(batch.id!)).toBeUndefined();
    for (const id of ['split-1', 'split-2']) {
      const own = await queue.getJob(jobIds.inbound('generic', shop.id, id));
      expect(own?.name).toBe('message');
      // Its first attempt claims the mark, which names the request that queued it.
      expect(own?.data).toMatchObject({ ingestId: 'ingest-1', event: { eventId: id } });
      expect(own?.data).not.toHaveProperty('marked');
      expect(await own?.getState()).toBe('delayed');
    }
    // A job of one event is left as it failed.
    const single = await queue.add('message', entry('split-3'), {
      jobId: jobIds.inbound('generic', shop.id, 'split-3'),
    });
    await splitFailedBatch(h.container.queues.inbound, single);
    expect(await single.getState()).toBe('waiting');
  });
});

describe('a batch job an older worker failed', () => {
  it("is listed for the operator with its events' shops and count", async () => {
    const own = await startHarness({ workers: false });
    try {
      const shop = await own.createGenericShop({ timezone: 'UTC' });
      const queue = own.container.queues.inbound.of(shop.id);
      const entry = (id: string) => inboundEntry(shop.id, id, 'ingest-old');
      const id = jobIds.inboundBatch('ingest-old');
      await queue.add(
        INBOUND_BATCH,
        { events: [entry('old-1'), entry('old-2')] },
        { jobId: id, attempts: 1 },
      );
      // A worker of an older version reads the batch as one event, and fails it.
      const connection = workerConnection(own.container.config);
      const older = new Worker(
        queue.name,
        async () => {
          throw new TypeError("Cannot read properties of undefined (reading 'eventId')");
        },
        { connection, prefix: queue.opts.prefix },
      );
      try {
        await eventually(async () => (await queue.getJobState(id)) === 'failed');
      } finally {
        await older.close();
        connection.disconnect();
      }
      const { body } = await own.api('/v1/ops/failed-jobs');
      expect(body.jobs.find((job: { id: string }) => job.id === id)).toMatchObject({
        queue: 'inbound',
        name: INBOUND_BATCH,
        shopIds: [shop.id],
        events: 2,
      });
    } finally {
      await own.close();
    }
  });
});
