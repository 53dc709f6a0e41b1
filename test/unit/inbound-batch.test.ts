import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { processBatch } from '../../src/pipeline/inbound-processor';
import type { InboundJob } from '../../src/pipeline/queues';

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
    expect(result).toEqual({ stored: 5, requeued: 0 });
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
    expect(result).toEqual({ stored: 1, requeued: 2 });
  });

  it('fails the batch, after every conversation is done, when an event cannot be queued again', async () => {
    const done: string[] = [];
    const outcome = processBatch(
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
    await expect(outcome).rejects.toThrow('Redis is down');
    // The batch is retried whole by BullMQ: no conversation may still be running then.
    expect(done).toEqual(['slow-1', 'slow-2']);
  });
});
