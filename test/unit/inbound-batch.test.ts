import { type Job, UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import {
  createInboundProcessor,
  type InboundProcessorDeps,
  processBatch,
} from '../../src/pipeline/inbound-processor';
import {
  INBOUND_BATCH,
  type InboundBatchJob,
  type InboundJob,
  type InboundJobData,
} from '../../src/pipeline/queues';

/** A buyer message of `buyer` as a batch job carries it. */
function entry(id: string, buyer: string, shopId = 'shp_1'): InboundJob {
  return {
    platform: 'generic',
    shopId,
    receivedAt: 0,
    marked: true,
    event: {
      kind: 'message',
      eventId: id,
      messageId: id,
      buyer: { id: buyer },
      from: 'buyer',
      text: 'hi',
      sentAt: new Date(0).toISOString(),
    },
  };
}

const attempt = { attemptsMade: 0, timestamp: 0 };
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('a batch job of the inbound queue', () => {
  it("runs a conversation's events one after another in order, and conversations side by side", async () => {
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const events = [
      entry('a1', 'ann'),
      entry('b1', 'bob'),
      entry('a2', 'ann'),
      entry('c1', 'ann', 'shp_2'), // the same buyer id in another shop: another conversation
      entry('a3', 'ann'),
    ];
    const result = await processBatch(
      events,
      attempt,
      async (data) => {
        running++;
        most = Math.max(most, running);
        log.push(`start ${data.event.eventId}`);
        await tick();
        log.push(`end ${data.event.eventId}`);
        running--;
        return { stored: true };
      },
      async () => {
        throw new Error('nothing fails here');
      },
    );
    expect(result).toMatchObject({ stored: 5, requeued: [] });
    expect(result.done.sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'c1']);
    // ann's three in order, each ending before the next starts.
    const ann = log.filter((line) => /a\d$/.test(line));
    expect(ann).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
    // bob and the other shop's ann ran beside ann's first.
    expect(most).toBe(3);
  });

  it('queues a failing event again on its own, says whether it can ever succeed, and finishes the rest', async () => {
    const requeued: Array<[string, boolean]> = [];
    const result = await processBatch(
      [entry('ok-1', 'ann'), entry('flaky', 'ann'), entry('broken', 'bob'), entry('ok-2', 'ann')],
      attempt,
      async (data) => {
        if (data.event.eventId === 'flaky') throw new Error('Redis blip');
        if (data.event.eventId === 'broken') throw new UnrecoverableError('no valid sentAt');
        return { stored: data.event.eventId !== 'ok-2' };
      },
      async (data, unrecoverable) => {
        requeued.push([data.event.eventId, unrecoverable]);
      },
    );
    expect(requeued.sort()).toEqual([
      ['broken', true],
      ['flaky', false],
    ]);
    // ok-2 was a duplicate (not stored), after the failure before it in its conversation.
    expect(result.stored).toBe(1);
    expect(result.requeued.sort()).toEqual(['broken', 'flaky']);
    expect(result.failure).toBeUndefined();
  });

  it('reports the failure, after every conversation is done, when an event cannot be queued again', async () => {
    const done: string[] = [];
    const outcome = await processBatch(
      [entry('lost', 'ann'), entry('slow-1', 'bob'), entry('slow-2', 'bob')],
      attempt,
      async (data) => {
        if (data.event.eventId === 'lost') throw new Error('Redis blip');
        await tick();
        done.push(data.event.eventId);
        return { stored: true };
      },
      async () => {
        throw new Error('Redis is down');
      },
    );
    expect(outcome.failure).toEqual(new Error('Redis is down'));
    // The batch fails and is retried: no conversation may still be running then, and the
    // retry knows which events are done.
    expect(done).toEqual(['slow-1', 'slow-2']);
    expect(outcome.done).toEqual(['slow-1', 'slow-2']);
    expect(outcome.requeued).toEqual([]);
  });
});

describe('a batch job taken by the inbound processor', () => {
  /** A processor whose every event is a redelivery (dropped at once), except those in `failing`. */
  function processor(
    failing: string[],
    requeued: Array<[string, boolean, number]>,
    down = false,
    claims: string[] = [],
  ) {
    const deps: Pick<InboundProcessorDeps, 'claimDelivery' | 'requeue'> & {
      shops: Pick<InboundProcessorDeps['shops'], 'getCached'>;
    } = {
      // A duplicate is dropped before its shop is needed.
      shops: { getCached: async () => null },
      claimDelivery: async (_shop, _platform, eventId) => {
        claims.push(eventId);
        if (failing.includes(eventId)) throw new Error('Redis blip');
        return 'duplicate';
      },
      requeue: async (data, unrecoverable, priority) => {
        if (down) throw new Error('Redis is down');
        requeued.push([data.event.eventId, unrecoverable, priority]);
      },
    };
    return createInboundProcessor(deps as unknown as InboundProcessorDeps);
  }

  /** An event as a Cluster's ingest queues it: unmarked, so its worker claims it. */
  const claimed = (id: string, buyer: string): InboundJob => {
    const { marked: _marked, ...data } = entry(id, buyer);
    return data;
  };

  /** A batch job as BullMQ hands it over: its data, options and attempt counters. */
  function batchJob(
    data: InboundBatchJob,
    seen: { attemptsMade?: number; stalledCounter?: number },
  ) {
    const updates: InboundBatchJob[] = [];
    const job = {
      name: INBOUND_BATCH,
      data,
      opts: { priority: 3 },
      attemptsMade: seen.attemptsMade ?? 0,
      stalledCounter: seen.stalledCounter ?? 0,
      timestamp: 0,
      updateData: async (next: InboundBatchJob) => {
        updates.push(next);
      },
    };
    return { job: job as unknown as Job<InboundJobData>, updates };
  }

  it('on its first attempt runs the events, and queues a failing one again at its tier', async () => {
    const requeued: Array<[string, boolean, number]> = [];
    const { job } = batchJob({ events: [claimed('x1', 'ann'), claimed('x2', 'bob')] }, {});
    const outcome = await processor(['x2'], requeued)(job);
    expect(outcome).toMatchObject({ stored: 0, requeued: ['x2'] });
    expect(requeued).toEqual([['x2', false, 3]]);
  });

  it('taken again (a failed attempt, or its worker died), queues each event not done on its own', async () => {
    for (const seen of [{ attemptsMade: 1 }, { stalledCounter: 1 }]) {
      const requeued: Array<[string, boolean, number]> = [];
      const { job } = batchJob(
        {
          events: [claimed('y1', 'ann'), claimed('y2', 'ann'), claimed('y3', 'bob')],
          done: ['y2'],
        },
        seen,
      );
      // Nothing is processed here: no event is even claimed.
      const claims: string[] = [];
      const outcome = await processor([], requeued, false, claims)(job);
      expect(claims).toEqual([]);
      expect(outcome).toMatchObject({ requeued: ['y1', 'y3'] });
      expect(requeued).toEqual([
        ['y1', false, 3],
        ['y3', false, 3],
      ]);
    }
  });

  it('fails when an event cannot be queued again, remembering what it finished', async () => {
    const { job, updates } = batchJob(
      { events: [claimed('z1', 'ann'), claimed('z2', 'bob'), claimed('z3', 'cat')], done: ['z0'] },
      {},
    );
    await expect(processor(['z2'], [], true)(job)).rejects.toThrow('Redis is down');
    expect(updates).toHaveLength(1);
    expect(updates[0]!.done!.sort()).toEqual(['z0', 'z1', 'z3']);
    expect(updates[0]!.events).toHaveLength(3);
  });
});
