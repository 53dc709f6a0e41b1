import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConversationStore } from '../../src/conversations/conversation-store';
import { closeQueues, createQueues, jobIds } from '../../src/pipeline/queues';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('worker connections', () => {
  it("finishes every step of a job (late-event bookkeeping included) without the API's connection", async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    // The API's fail-fast connection goes away: the workers must not need it for any step.
    h.container.redis.disconnect();
    const side = new Redis(inject('redisUrl'));
    let events: QueueEvents | undefined;
    const queues = createQueues(
      side,
      (name) => h.container.keys.queuePrefix(name),
      { outboundAttempts: 1, outboundBackoffMs: 10 },
      h.container.config.INBOUND_PARTITIONS,
    );
    try {
      const message = buyerMessage('b-worker', 'hello', Date.now());
      const event = {
        kind: 'message' as const,
        eventId: 'evt-worker-1',
        ...(message.data as { messageId: string; from: 'buyer'; text: string; sentAt: string }),
        buyer: { id: 'b-worker' },
      };
      // Completed inbound jobs are removed at once: the queue's event stream tells how it went.
      const queue = queues.inbound.of(shop.id);
      events = new QueueEvents(queue.name, {
        connection: new Redis(inject('redisUrl'), { maxRetriesPerRequest: null }),
        prefix: h.container.keys.queuePrefix(queue.name),
      });
      const jobId = jobIds.inbound('generic', shop.id, event.eventId);
      const outcomes: string[] = [];
      events.on('failed', ({ jobId: id }) => id === jobId && outcomes.push('failed'));
      events.on('completed', ({ jobId: id }) => id === jobId && outcomes.push('completed'));
      await events.waitUntilReady();
      await queue.add(
        'message',
        { platform: 'generic', shopId: shop.id, event, receivedAt: Date.now() },
        { jobId },
      );
      await eventually(async () => outcomes.includes('completed'));
      // Done on the first attempt: no step needed the API's connection.
      expect(outcomes).toEqual(['completed']);
      expect(await new ConversationStore(side, h.container.keys).exists(shop.id, 'b-worker')).toBe(
        true,
      );

      // The month close, a job like any other, reads and writes on the workers' connection too.
      const close = await queues.billing.add('close', { month: '2026-10' }, { attempts: 1 });
      const closed = await eventually(async () => {
        const found = await queues.billing.getJob(close.id!);
        return found && ((await found.isCompleted()) || (await found.isFailed())) ? found : null;
      });
      expect(closed.failedReason).toBeUndefined();
      expect(closed.returnvalue).toMatchObject({ month: '2026-10', failed: [] });
    } finally {
      await closeQueues(queues);
      await events?.close();
      side.disconnect();
      h.container.redis.connect().catch(() => undefined);
    }
  });
});
