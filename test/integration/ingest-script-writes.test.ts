import { type Job, type JobsOptions, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestBatches } from '../../src/pipeline/ingest-batch';
import { INBOUND_BATCH, jobIds } from '../../src/pipeline/queues';
import { type Harness, startHarness } from '../support/harness';
import { jobOfEvent, buyerEvent as message, waitingEvents } from '../support/inbound-queue';

// One Redis only: the ingest script's own add writes (src/pipeline/ingest-batch.ts). On a
// Cluster ingest adds with BullMQ's Queue.add itself, so this file is not in the cluster project.
// No workers of the service: the tests read what an add left, or run a BullMQ Worker of their own.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    workers: false,
    env: { WEBHOOK_RATE_PER_MINUTE: '100', WEBHOOK_FAIR_SHARE_PER_MINUTE: '2' },
  });
});
afterAll(() => h.close());

const redis = () => h.container.services.redis as Redis;
const deliver = (shopId: string, ids: string[]) =>
  h.container.services.ingest.enqueue(
    'generic',
    shopId,
    ids.map((id) => message(id)),
    Date.now(),
  );

/** Runs `body` with one of the queue's keys holding a string, then puts the key back. */
async function withBrokenKey(key: string, body: () => Promise<void>): Promise<void> {
  const aside = `${key}:aside`;
  const existed = (await redis().exists(key)) === 1;
  if (existed) await redis().rename(key, aside);
  await redis().set(key, 'not what BullMQ keeps here');
  try {
    await body();
  } finally {
    await redis().del(key);
    if (existed) await redis().rename(aside, key);
  }
}

describe('an add that fails mid-call', () => {
  it('leaves no job behind, so the platform’s retry of the 503 is queued, not absorbed', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const queue = h.container.queues.inbound.of(shop.id);
    // Share 2: the third event is prioritized, and the prioritized set is broken.
    expect(await deliver(shop.id, ['f-1', 'f-2'])).toEqual({ queued: 2, duplicates: 0 });
    await withBrokenKey(queue.toKey('prioritized'), async () => {
      await expect(deliver(shop.id, ['f-3'])).rejects.toMatchObject({ status: 503 });
    });
    const id = jobIds.inbound('generic', shop.id, 'f-3');
    expect(await redis().exists(queue.toKey(id))).toBe(0);
    expect(await redis().exists(h.container.keys.delivery(shop.id, 'generic', 'f-3'))).toBe(0);
    // The retry finds nothing of the failed add: the event is queued, in the prioritized set.
    expect(await deliver(shop.id, ['f-3'])).toEqual({ queued: 1, duplicates: 0 });
    expect(await queue.getJobState(id)).toBe('prioritized');
  });

  it('takes a job that failed after its push out of the wait list again', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const queue = h.container.queues.inbound.of(shop.id);
    const meta = queue.toKey('meta');
    const kept = await redis().hget(meta, 'opts.maxLenEvents');
    // The waiting event (after the push) trims the stream to this: not a number, it fails.
    await redis().hset(meta, 'opts.maxLenEvents', 'many');
    try {
      await expect(deliver(shop.id, ['w-1'])).rejects.toMatchObject({ status: 503 });
    } finally {
      await redis().hset(meta, 'opts.maxLenEvents', kept ?? '10000');
    }
    const id = jobIds.inbound('generic', shop.id, 'w-1');
    expect(await redis().lrange(queue.toKey('wait'), 0, -1)).not.toContain(id);
    expect(await redis().exists(queue.toKey(id))).toBe(0);
    expect(await deliver(shop.id, ['w-1'])).toEqual({ queued: 1, duplicates: 0 });
    expect(await queue.getJobState(id)).toBe('waiting');
  });

  it('marks the queue as having work and counts the jobs stored before it, as Queue.add does', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const queue = h.container.queues.inbound.of(shop.id);
    const marker = queue.toKey('marker');
    await redis().del(marker);
    const idsBefore = Number((await redis().get(queue.toKey('id'))) ?? 0);
    // One delivery: two events within the share (one batch job, added first) and the third
    // past it (prioritized, added next); the prioritized set is broken.
    await withBrokenKey(queue.toKey('prioritized'), async () => {
      await expect(deliver(shop.id, ['m-1', 'm-2', 'm-3'])).rejects.toMatchObject({ status: 503 });
    });
    // A Queue.add of the batch job would have left it waiting, the queue marked as having
    // work (a worker blocked on the marker wakes) and the id counter up by one.
    const waiting = (await waitingEvents(redis(), queue)).filter(({ eventId }) =>
      eventId.startsWith('m-'),
    );
    expect(waiting.map(({ eventId, jobName }) => [eventId, jobName])).toEqual([
      ['m-1', INBOUND_BATCH],
      ['m-2', INBOUND_BATCH],
    ]);
    expect(await redis().zscore(marker, '0')).toBe('0');
    expect(Number(await redis().get(queue.toKey('id')))).toBe(idsBefore + 1);
    // The failed add left nothing of its own: no job, no mark.
    expect(await redis().exists(queue.toKey(jobIds.inbound('generic', shop.id, 'm-3')))).toBe(0);
    expect(await redis().exists(h.container.keys.delivery(shop.id, 'generic', 'm-3'))).toBe(0);
    // The retry: the two queued events are redeliveries, the third is queued.
    expect(await deliver(shop.id, ['m-1', 'm-2', 'm-3'])).toEqual({ queued: 1, duplicates: 2 });
    expect(await queue.getJobState(jobIds.inbound('generic', shop.id, 'm-3'))).toBe('prioritized');
  });

  it('leaves no mark of any event when the first add of the call fails', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const queue = h.container.queues.inbound.of(shop.id);
    // Share 2: p-1 and p-2 in one batch job, added first, into a broken wait list; p-3 after.
    await withBrokenKey(queue.toKey('wait'), async () => {
      await expect(deliver(shop.id, ['p-1', 'p-2', 'p-3'])).rejects.toMatchObject({ status: 503 });
    });
    for (const id of ['p-1', 'p-2', 'p-3']) {
      expect(await redis().exists(h.container.keys.delivery(shop.id, 'generic', id))).toBe(0);
      expect(await jobOfEvent(redis(), queue, shop.id, id)).toBeUndefined();
    }
    // The platform's retry queues all three (the window counted the first try too, so all
    // three are past the share now).
    expect(await deliver(shop.id, ['p-1', 'p-2', 'p-3'])).toEqual({ queued: 3, duplicates: 0 });
    const priorities = await Promise.all(
      ['p-1', 'p-2', 'p-3'].map(
        async (id) => (await jobOfEvent(redis(), queue, shop.id, id))?.priority,
      ),
    );
    expect(priorities).toEqual([1, 2, 2]);
  });
});

describe('jobs the script stores, beside jobs Queue.add stores', () => {
  /** Whether the queue is marked as having work after `add`, from an unmarked queue. */
  async function marksWork(shopId: string, add: () => Promise<unknown>): Promise<boolean> {
    const marker = h.container.queues.inbound.of(shopId).toKey('marker');
    await redis().del(marker);
    await add();
    return (await redis().zscore(marker, '0')) === '0';
  }

  it('marks a queue under its global concurrency, and not one at it, as Queue.add does', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const queue = h.container.queues.inbound.of(shop.id);
    const twin = (id: string, priority?: number) =>
      queue.add('message', { twin: id } as never, {
        jobId: jobIds.inbound('generic', shop.id, id),
        priority,
      });
    await queue.setGlobalConcurrency(1);
    try {
      // Below the limit (nothing active): both mark, FIFO and prioritized alike (share 2).
      expect(await marksWork(shop.id, () => deliver(shop.id, ['g-1']))).toBe(true);
      expect(await marksWork(shop.id, () => twin('g-t1'))).toBe(true);
      expect(await marksWork(shop.id, () => deliver(shop.id, ['g-2', 'g-3']))).toBe(true);
      expect(await marksWork(shop.id, () => twin('g-t2', 1))).toBe(true);
      // At the limit (one job active): neither marks, both still queue the job.
      await redis().lpush(queue.toKey('active'), 'someone');
      try {
        expect(await marksWork(shop.id, () => deliver(shop.id, ['g-4']))).toBe(false);
        expect(await marksWork(shop.id, () => twin('g-t3', 1))).toBe(false);
      } finally {
        await redis().lrem(queue.toKey('active'), 0, 'someone');
      }
    } finally {
      await queue.removeGlobalConcurrency();
    }
    const state = (id: string) => queue.getJobState(jobIds.inbound('generic', shop.id, id));
    expect(await Promise.all(['g-1', 'g-t1', 'g-2'].map(state))).toEqual(Array(3).fill('waiting'));
    expect(await Promise.all(['g-3', 'g-t2', 'g-4', 'g-t3'].map(state))).toEqual(
      Array(4).fill('prioritized'),
    );
  });

  it('are taken by a BullMQ Worker in the same order, retried with the same backoff', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const queue = h.container.queues.inbound.of(shop.id);
    // Ranks 1-5 this minute with a share of 2: FIFO, FIFO, tier 1, tier 1, tier 2. Each has a
    // twin added by Queue.add with the same priority, right after it.
    const priorities = [0, 0, 1, 1, 2];
    for (const [i, priority] of priorities.entries()) {
      expect(await deliver(shop.id, [`k-${i}`])).toEqual({ queued: 1, duplicates: 0 });
      await queue.add('message', { twin: i } as never, {
        jobId: jobIds.inbound('generic', shop.id, `t-${i}`),
        ...(priority > 0 ? { priority } : {}),
      });
    }
    const names = new Map<string, string>();
    for (const i of priorities.keys()) {
      names.set(jobIds.inbound('generic', shop.id, `k-${i}`), `k-${i}`);
      names.set(jobIds.inbound('generic', shop.id, `t-${i}`), `t-${i}`);
    }
    const runs: Array<{ job: string; attempt: number; at: number; opts: unknown }> = [];
    const connection = new Redis(h.container.config.REDIS_URL!, { maxRetriesPerRequest: null });
    const worker = new Worker(
      queue.name,
      async (job: Job) => {
        // The queue is this file's: jobs other tests left there are taken and not recorded.
        const name = names.get(job.id!);
        if (!name) return;
        const { jobId: _id, ...opts } = job.opts;
        runs.push({ job: name, attempt: job.attemptsMade, at: Date.now(), opts });
        // The first of each kind fails once: its retry must come after the inbound backoff.
        if ((name === 'k-0' || name === 't-0') && job.attemptsMade === 0) throw new Error('once');
      },
      { connection, prefix: queue.opts.prefix, concurrency: 1, autorun: false },
    );
    try {
      void worker.run();
      const deadline = Date.now() + 10_000;
      while (runs.length < 12 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await worker.close();
      await connection.quit();
    }
    // First runs in queue order: the wait list (FIFO) before the prioritized set, tier by
    // tier, each job beside its twin; then the two retries (due within a ms of each other).
    const order = runs.map((run) => `${run.job}#${run.attempt}`);
    expect(order.slice(0, 10)).toEqual([
      'k-0#0',
      't-0#0',
      'k-1#0',
      't-1#0',
      'k-2#0',
      't-2#0',
      'k-3#0',
      't-3#0',
      'k-4#0',
      't-4#0',
    ]);
    expect(order.slice(10).sort()).toEqual(['k-0#1', 't-0#1']);
    // The worker read the same options from both (attempts, backoff, removal, priority).
    for (const i of priorities.keys()) {
      const ours = runs.find((run) => run.job === `k-${i}`)!.opts;
      expect(ours).toEqual(runs.find((run) => run.job === `t-${i}`)!.opts);
      expect(ours).toMatchObject({ attempts: 8, backoff: { type: 'exponential', delay: 1000 } });
    }
    // Retried after the exponential backoff's first step (1 s), then done and removed.
    for (const name of ['k-0', 't-0']) {
      const [first, retry] = runs.filter((run) => run.job === name);
      expect(retry!.at - first!.at).toBeGreaterThanOrEqual(1000);
    }
    expect(await queue.getJob(jobIds.inbound('generic', shop.id, 'k-0'))).toBeUndefined();
    expect(await queue.getJob(jobIds.inbound('generic', shop.id, 't-0'))).toBeUndefined();
  });

  // After the Worker's test: the 300 jobs this leaves queued are nobody's to take.
  it('trims the events stream to the queue’s length, as Queue.add does', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const queue = h.container.queues.inbound.of(shop.id);
    const meta = queue.toKey('meta');
    const events = queue.toKey('events');
    const kept = await redis().hget(meta, 'opts.maxLenEvents');
    await redis().hset(meta, 'opts.maxLenEvents', '10');
    try {
      // 150 jobs, two events each: "~" trims whole stream nodes (100 entries), so at most 10
      // plus one node's worth stay, from the script and from Queue.add alike.
      const ids = Array.from({ length: 150 }, (_, i) => `tr-${i}`);
      expect(await deliver(shop.id, ids)).toEqual({ queued: 150, duplicates: 0 });
      const ours = await redis().xlen(events);
      await queue.addBulk(
        ids.map((id) => ({
          name: 'message' as const,
          data: { twin: id } as never,
          opts: { jobId: jobIds.inbound('generic', shop.id, `tw-${id}`) },
        })),
      );
      const theirs = await redis().xlen(events);
      expect(ours).toBeLessThanOrEqual(110);
      expect(theirs).toBeLessThanOrEqual(110);
    } finally {
      await redis().hset(meta, 'opts.maxLenEvents', kept ?? '10000');
    }
  });
});

describe('the queue options the script does not store as Queue.add would', () => {
  // Each changes what Queue.add does with a job beyond copying the option into its stored
  // options: a delayed, LIFO or prioritized place, a parent, a repeat, a deduplication, a
  // refusal of data over a size, a stored stamp or repeat key of the option's own.
  it.each([
    { delay: 1000 },
    { lifo: true },
    { priority: 3 },
    { deduplication: { id: 'd' } },
    { sizeLimit: 64 * 1024 },
    { timestamp: 1_700_000_000_000 },
    { repeatJobKey: 'rk' },
  ])('stop the start when the inbound queue carries them by default: %o', (options) => {
    const queue = new Queue('unhandled', {
      connection: redis(),
      prefix: 'ingest-script-writes',
      defaultJobOptions: options as JobsOptions,
    });
    try {
      const batches = new IngestBatches(redis(), {
        ratePerMinute: 100,
        fairSharePerMinute: 2,
        maxPriority: 10,
        spacingMs: 0,
      });
      expect(() => batches.keysOf(queue)).toThrow(
        new RegExp(`cannot add jobs with ${Object.keys(options)[0]}`),
      );
    } finally {
      void queue.close();
    }
  });
});
