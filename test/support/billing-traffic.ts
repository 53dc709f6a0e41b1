import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { buyerMessage, eventually, type Harness } from './harness';

export type TestShop = { id: string; ownerKey: string; webhookSecret: string };

/** Real traffic for billing tests: signed generic webhooks through ingest, the queue and the worker. */
export function traffic(h: Harness, shop: TestShop) {
  const send = async (message: Parameters<Harness['sendGeneric']>[1]) => {
    const res = await h.sendGeneric(shop, message);
    expect(res.status, await res.text()).toBe(200);
  };
  return {
    buyer: (buyerId: string, sentAt: string) => send(buyerMessage(buyerId, '在吗？', sentAt)),
    agent: (buyerId: string, sentAt: string, agentName = 'Lin') =>
      send(buyerMessage(buyerId, '您好', sentAt, { from: 'agent', agentName })),
    order: (buyerId: string, amountFen: number, paidAt: string, orderId = `o_${randomUUID()}`) =>
      send({ type: 'order', data: { orderId, buyerId, amountFen, paidAt } }),
    rating: (buyerId: string, score: number, ratedAt: string) =>
      send({ type: 'rating', data: { buyerId, score, ratedAt } }),
  };
}

/** Waits until the worker has processed everything queued so far. */
export async function drained(h: Harness): Promise<void> {
  await eventually(async () => {
    const counts = await h.container.queues.inbound.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'prioritized',
    );
    return Object.values(counts).every((n) => n === 0);
  });
}
