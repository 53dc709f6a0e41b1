import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIds } from '../../src/pipeline/queues';
import type { NormalizedEvent } from '../../src/platforms/contract';
import { type Harness, startHarness } from '../support/harness';

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

/** A buyer message with ids of its own. */
function message(id: string): NormalizedEvent {
  return {
    kind: 'message',
    eventId: id,
    messageId: id,
    buyer: { id: `b-${id}` },
    from: 'buyer',
    text: 'hi',
    sentAt: new Date().toISOString(),
  } as NormalizedEvent;
}

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
    // One delivery: two events within the share (the wait list), the third past it (broken).
    await withBrokenKey(queue.toKey('prioritized'), async () => {
      await expect(deliver(shop.id, ['m-1', 'm-2', 'm-3'])).rejects.toMatchObject({ status: 503 });
    });
    // Two separate Queue.add calls would have left both jobs waiting, the queue marked as
    // having work (a worker blocked on the marker wakes) and the id counter up by two.
    for (const id of ['m-1', 'm-2'])
      expect(await queue.getJobState(jobIds.inbound('generic', shop.id, id))).toBe('waiting');
    expect(await redis().zscore(marker, '0')).toBe('0');
    expect(Number(await redis().get(queue.toKey('id')))).toBe(idsBefore + 2);
    // The retry: the two stored jobs absorb their copies, the third is queued.
    expect(await deliver(shop.id, ['m-1', 'm-2', 'm-3'])).toEqual({ queued: 1, duplicates: 2 });
  });
});
