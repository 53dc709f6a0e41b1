import type { Job } from 'bullmq';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { createOutboundProcessor } from '../../src/pipeline/outbound-processor';
import type { OutboundJob } from '../../src/pipeline/queues';
import { defaultPlatforms } from '../../src/platforms/registry';
import { createLogger } from '../../src/shared/logger';
import { dayOf } from '../../src/shared/shop-calendar';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
afterEach(() => nock.cleanAll());

const jobFor = (data: OutboundJob, attemptsMade: number) =>
  ({ data, attemptsMade }) as unknown as Job<OutboundJob>;

describe('outbound processor', () => {
  it('never sends a reply twice when the bookkeeping after the send fails and the job is retried', async () => {
    const shop = await h.createGenericShop({
      credentials: { replyUrl: 'http://bridge.test/replies' },
    });
    const agent = (await h.api('/v1/agents', { body: { name: 'Jo', shopIds: [shop.id] } })).body;
    await h.sendGeneric(shop, buyerMessage('b-once', 'hi', Date.now()));
    await eventually(
      async () => (await h.container.conversations.state(shop.id, 'b-once')).waitingSince,
    );
    const reply = await h.container.replies.create({
      conversationId: conversationId(shop.id, 'b-once'),
      shopId: shop.id,
      buyerId: 'b-once',
      agentId: agent.id,
      text: '您好',
      origin: 'own',
      createdAt: Date.now(),
    });
    const platform = nock('http://bridge.test').post('/replies').reply(200, {});

    const armed: number[] = [];
    let failOnce = true;
    const process = createOutboundProcessor({
      shops: h.container.shops,
      platforms: defaultPlatforms(),
      replies: h.container.replies,
      conversations: h.container.conversations,
      meter: h.container.meter,
      events: h.container.events,
      clock: h.container.clock,
      logger: createLogger('silent'),
      http: {
        fetch: (i, init) => fetch(i, init),
        apiBase: { metaGraph: '', line: '', wechat: '', telegram: '' },
        tokenCache: undefined as never,
      },
      agentName: async () => 'Jo',
      scheduleIdleClose: async (_shopId, _buyerId, answeredAt) => {
        armed.push(answeredAt);
      },
      responseClock: {
        // The worker dies (or Redis blips) right after the platform accepted the reply.
        recordReply: async (input: Parameters<typeof h.container.responseClock.recordReply>[0]) => {
          if (failOnce) {
            failOnce = false;
            throw new Error('connection lost');
          }
          return h.container.responseClock.recordReply(input);
        },
      } as typeof h.container.responseClock,
    });

    await expect(process(jobFor({ shopId: shop.id, replyId: reply.replyId }, 0))).rejects.toThrow(
      'connection lost',
    );
    expect((await h.container.replies.get(shop.id, reply.replyId))?.status).toBe('sent');
    expect(await process(jobFor({ shopId: shop.id, replyId: reply.replyId }, 1))).toEqual({
      status: 'sent',
    });
    expect(platform.isDone()).toBe(true);
    expect(nock.pendingMocks()).toEqual([]);

    const stored = await h.container.replies.get(shop.id, reply.replyId);
    expect(stored).toMatchObject({ status: 'sent', recorded: true });
    // The idle close is armed from the send time the first attempt fixed.
    expect(armed).toEqual([stored!.sentAt]);
    const zones = [{ id: shop.id, timezone: 'Asia/Shanghai' }];
    const figures = await h.container.responseClock.figures(agent.id, zones, {
      date: dayOf(stored!.sentAt!, 'Asia/Shanghai'),
    });
    expect(figures.replies.own).toBe(1);
    // A third run (a duplicate job) changes nothing either.
    expect(await process(jobFor({ shopId: shop.id, replyId: reply.replyId }, 2))).toEqual({
      status: 'sent',
    });
    expect(
      (await h.container.responseClock.figures(agent.id, zones, { date: figures.date })).replies
        .own,
    ).toBe(1);
    expect(
      (await h.container.conversations.history(shop.id, 'b-once')).filter(
        (m) => m.from === 'agent',
      ),
    ).toHaveLength(1);
  });
});
