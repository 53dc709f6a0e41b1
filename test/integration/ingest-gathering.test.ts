import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort, startRedis } from '../../scripts/lib/redis-server.mjs';
import { INBOUND_BATCH, jobIds } from '../../src/pipeline/queues';
import { type Harness, startHarness } from '../support/harness';
import { buyerEvent as message, prioritizedEvents, waitingEvents } from '../support/inbound-queue';

// One Redis only: on a Cluster ingest makes two round trips per delivery, no batches
// (see src/pipeline/webhook-ingest.ts), so this file is not in the cluster project.
// A Redis of this file's own: its command counts are this file's alone, and holding it
// busy for 300 ms cannot slow the other files' tests.
let dir: string;
let redisServer: { url: string; stop(): Promise<void> };
let h: Harness;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-gathering-'));
  redisServer = await startRedis({ port: await freePort(), dir, persist: false });
  h = await startHarness({ workers: false, env: { REDIS_URL: redisServer.url } });
});
afterAll(async () => {
  await h.close();
  await redisServer.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Script calls Redis has run: on one Redis, one per ingest batch. */
async function evalshaCalls(redis: Redis): Promise<number> {
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
}

/**
 * Holds Redis busy for `ms` from a connection of its own. Resolves once the hold has begun
 * (50 ms on) with `free`, which settles when Redis is free again and that connection closed.
 */
async function holdBusy(redis: Redis, ms: number): Promise<{ free: Promise<unknown> }> {
  const blocker = redis.duplicate({ enableOfflineQueue: true });
  await blocker.ping();
  const busy = blocker.eval(
    `local t0 = redis.call('TIME')
     repeat local t = redis.call('TIME')
     until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > tonumber(ARGV[1])
     return 1`,
    0,
    String(ms * 1000),
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { free: busy.then(() => blocker.quit()) };
}

describe('ingest batches on one Redis', () => {
  it('gathers the deliveries that arrive while a call is out at Redis into the next call', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const redis = h.container.services.redis as Redis;
    const ingest = h.container.services.ingest;
    // The shop's keys are warm after one delivery: from then on a delivery's only Redis call
    // is its batch's.
    await ingest.enqueue('generic', shop.id, [message('gather-100')], Date.now());
    const before = await evalshaCalls(redis);
    // Redis held busy for 500 ms from another connection: the first delivery's call waits
    // behind it while the others arrive, one per turn of the event loop (a few ms in all).
    const { free } = await holdBusy(redis, 500);
    const answers: Promise<{ queued: number; duplicates: number }>[] = [];
    for (let i = 0; i < 20; i++) {
      answers.push(ingest.enqueue('generic', shop.id, [message(`gather-${i}`)], Date.now()));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await free;
    for (const answer of await Promise.all(answers))
      expect(answer).toEqual({ queued: 1, duplicates: 0 });
    const queue = h.container.queues.inbound.of(shop.id);
    const queued = (await waitingEvents(redis, queue)).filter(
      ({ eventId }) => /^gather-\d+$/.test(eventId) && eventId !== 'gather-100',
    );
    expect(queued.map(({ eventId }) => eventId)).toEqual(
      Array.from({ length: 20 }, (_, i) => `gather-${i}`),
    );
    // One call per delivery would be 20: the first goes alone, the others gather behind it.
    expect((await evalshaCalls(redis)) - before).toBeLessThanOrEqual(4);
    // A call's events share one batch job; an event alone in its call has a job of its own,
    // under the event's id.
    const jobs = new Map<string, typeof queued>();
    for (const event of queued) jobs.set(event.jobId, [...(jobs.get(event.jobId) ?? []), event]);
    expect(jobs.size).toBeLessThanOrEqual(4);
    expect([...jobs.values()].some((events) => events.length > 1)).toBe(true);
    for (const events of jobs.values())
      if (events.length > 1) for (const event of events) expect(event.jobName).toBe(INBOUND_BATCH);
      else
        expect(events[0]).toMatchObject({
          jobId: jobIds.inbound('generic', shop.id, events[0]!.eventId),
          jobName: 'message',
        });
  });
});

describe('ingest call spacing on one Redis', () => {
  it('sends a delivery after a quiet spell at once, and a steady stream one call per spacing', async () => {
    // A spacing far above any Redis call here, so the test reads the rule, not the machine.
    const spaced = await startHarness({
      workers: false,
      env: { REDIS_URL: redisServer.url, INGEST_CALL_SPACING_MS: '1500' },
    });
    try {
      const shop = await spaced.createGenericShop({ timezone: 'UTC' });
      const redis = spaced.container.services.redis as Redis;
      const ingest = spaced.container.services.ingest;
      await new Promise((resolve) => setTimeout(resolve, 1600)); // quiet: the spacing is over
      const before = await evalshaCalls(redis);
      const sentAt = performance.now();
      expect(await ingest.enqueue('generic', shop.id, [message('spaced-0')], Date.now())).toEqual({
        queued: 1,
        duplicates: 0,
      });
      // After a quiet spell a delivery waits for nothing.
      expect(performance.now() - sentAt).toBeLessThan(750);
      const answers: Promise<{ queued: number; duplicates: number }>[] = [];
      // Seven: fewer than a full call (FULL_CALL_EVENTS, 8), which would not wait.
      for (let i = 1; i <= 7; i++) {
        answers.push(ingest.enqueue('generic', shop.id, [message(`spaced-${i}`)], Date.now()));
        await new Promise((resolve) => setImmediate(resolve));
      }
      for (const answer of await Promise.all(answers))
        expect(answer).toEqual({ queued: 1, duplicates: 0 });
      // The seven that followed went together, once the spacing after the first call was over
      // (turn by turn they would take several calls: the first of them at once).
      expect(performance.now() - sentAt).toBeGreaterThanOrEqual(1400);
      expect((await evalshaCalls(redis)) - before).toBeLessThanOrEqual(2);
      // Eight events make a full call: it goes at once, mid-turn, spacing or not.
      const burstAt = performance.now();
      const callsBefore = await evalshaCalls(redis);
      const burst = Array.from({ length: 16 }, (_, i) =>
        ingest.enqueue('generic', shop.id, [message(`spaced-${100 + i}`)], Date.now()),
      );
      for (const answer of await Promise.all(burst))
        expect(answer).toEqual({ queued: 1, duplicates: 0 });
      expect(performance.now() - burstAt).toBeLessThan(750);
      expect((await evalshaCalls(redis)) - callsBefore).toBe(2);
    } finally {
      await spaced.close();
    }
  });
});

describe('full calls beside a call in flight', () => {
  it('answers every delivery once, with its own counts, small and large, whatever the interleaving', async () => {
    const redis = h.container.services.redis as Redis;
    const ingest = h.container.services.ingest;
    // Sizes below, at and above a full call (8), up to a WhatsApp batch's 1,000; a shop each,
    // so no delivery meets another's rate window.
    const sizes = [1, 20, 1, 3, 8, 1, 1000, 2, 7, 1, 9, 1];
    const shops = await Promise.all(sizes.map(() => h.createGenericShop({ timezone: 'UTC' })));
    await ingest.enqueue('generic', shops[0]!.id, [message('mix-warm')], Date.now());
    // Redis held busy: the first call stays in flight while the rest arrive, some in one turn
    // and some in turns of their own; full calls leave beside it, the rest gather behind.
    const { free } = await holdBusy(redis, 300);
    const answers = [];
    let answered = 0;
    for (const [d, size] of sizes.entries()) {
      const shop = shops[d]!;
      const ids = Array.from({ length: size }, (_, i) => `mix-${d}-${i}`);
      const answer = ingest.enqueue(
        'generic',
        shop.id,
        ids.map((id) => message(id)),
        Date.now(),
      );
      answers.push(
        answer.then(async (counts) => {
          answered++;
          // Answered only once its jobs are in Redis: its events within the share in the wait
          // list, those past it in the prioritized set.
          const queue = h.container.queues.inbound.of(shop.id);
          const queued = new Set(
            [
              ...(await waitingEvents(redis, queue)),
              ...(await prioritizedEvents(redis, queue)),
            ].map(({ eventId }) => eventId),
          );
          return { counts, stored: ids.filter((id) => queued.has(id)).length };
        }),
      );
      if (d % 3 === 2) await new Promise((resolve) => setImmediate(resolve));
    }
    await free;
    const results = await Promise.all(answers);
    expect(answered).toBe(sizes.length);
    expect(results).toEqual(
      sizes.map((size) => ({ counts: { queued: size, duplicates: 0 }, stored: size })),
    );
    // Stored in arrival order across the calls: the wait list, oldest first, holds each shop's
    // events within its fair share (60) in the order they were handed over.
    const fifo = sizes.flatMap((size, d) =>
      Array.from({ length: Math.min(size, 60) }, (_, i) => `mix-${d}-${i}`),
    );
    const waiting = (await waitingEvents(redis, h.container.queues.inbound.of(shops[0]!.id)))
      .map(({ eventId }) => eventId)
      .filter((id) => id.startsWith('mix-') && id !== 'mix-warm');
    expect(waiting).toEqual(fifo);
    // No job carries more than a full call's events (8): the delivery of 1,000 is many jobs,
    // so a worker's job slot never holds a thousand conversations at once.
    const queue = h.container.queues.inbound.of(shops[0]!.id);
    const perJob = new Map<string, number>();
    for (const { jobId } of [
      ...(await waitingEvents(redis, queue)),
      ...(await prioritizedEvents(redis, queue)),
    ])
      perJob.set(jobId, (perJob.get(jobId) ?? 0) + 1);
    expect(Math.max(...perJob.values())).toBe(8);
  });
});
