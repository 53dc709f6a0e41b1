import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';
import { openEventStream } from '../support/sse';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const catalog = {
  products: [
    { id: 'sofa', name: '北欧布艺沙发', options: { colour: ['浅灰', '燕麦白'] } },
    { id: 'lamp', name: 'Arc floor lamp', options: { colour: ['black'] } },
    { id: 'rug', name: '羊毛地毯', options: { size: ['160x230'] } },
  ],
};

async function agentOf(shop: { id: string }, name = '林晓') {
  const agent = (await h.api('/v1/agents', { body: { name, shopIds: [shop.id] } })).body;
  await h.setPresence(agent.token, 'online');
  return agent as { id: string; token: string };
}

describe('buyer context', () => {
  it("shows the buyer's orders, rating, earlier conversations and the products mentioned", async () => {
    const shop = await h.createGenericShop({ catalog, timezone: 'Asia/Shanghai' });
    const other = await h.createGenericShop();
    const agent = await agentOf(shop);
    const stranger = await agentOf(other, 'Zed');
    const id = conversationId(shop.id, 'wang');
    const now = Date.now();

    // An earlier conversation, closed by the agent.
    await h.sendGeneric(shop, buyerMessage('wang', '地毯什么时候发货？', now - 3_600_000));
    await eventually(
      async () => (await h.container.conversations.history(shop.id, 'wang')).length === 1,
    );
    expect(
      (await h.api(`/v1/agent/conversations/${id}/close`, { token: agent.token, method: 'POST' }))
        .status,
    ).toBe(200);

    await h.sendGeneric(shop, {
      type: 'order',
      data: {
        orderId: 'o-1',
        buyerId: 'wang',
        amountFen: 129_900,
        paidAt: new Date(now - 7_200_000).toISOString(),
      },
    });
    await h.sendGeneric(shop, {
      type: 'order',
      data: {
        orderId: 'o-2',
        buyerId: 'wang',
        amountFen: 5_000,
        paidAt: new Date(now - 60_000).toISOString(),
      },
    });
    // Another buyer's order and another shop's events never show.
    await h.sendGeneric(shop, {
      type: 'order',
      data: { orderId: 'o-3', buyerId: 'li', amountFen: 77, paidAt: new Date(now).toISOString() },
    });
    await h.sendGeneric(shop, {
      type: 'rating',
      data: { buyerId: 'wang', score: 4, ratedAt: new Date(now - 30_000).toISOString() },
    });
    await h.sendGeneric(shop, buyerMessage('wang', '这款北欧布艺沙发有浅灰吗？', now));

    const context = await eventually(async () => {
      const res = await h.api(`/v1/agent/conversations/${id}/context`, { token: agent.token });
      return res.status === 200 &&
        res.body.orders.length === 2 &&
        res.body.rating &&
        res.body.products.length
        ? res.body
        : null;
    });
    expect(context).toEqual({
      conversationId: id,
      shopId: shop.id,
      timezone: 'Asia/Shanghai',
      buyer: { id: 'wang', name: null },
      orders: [
        { orderId: 'o-2', amountFen: 5_000, paidAt: new Date(now - 60_000).toISOString() },
        { orderId: 'o-1', amountFen: 129_900, paidAt: new Date(now - 7_200_000).toISOString() },
      ],
      orderCount: 2,
      totalPaidFen: 134_900,
      rating: { score: 4, ratedAt: new Date(now - 30_000).toISOString() },
      earlierConversations: [
        {
          startedAt: new Date(now - 3_600_000).toISOString(),
          closedAt: expect.any(String),
          messageCount: 1,
          lastMessage: {
            from: 'buyer',
            text: '地毯什么时候发货？',
            at: new Date(now - 3_600_000).toISOString(),
          },
        },
      ],
      // The rug was asked about in the earlier conversation, still within the history read.
      products: [{ id: 'sofa', name: '北欧布艺沙发', options: { colour: ['浅灰', '燕麦白'] } }],
      // A generic shop has no storefront widget to report the buyer's page.
      page: null,
    });
    expect(
      (await h.api(`/v1/agent/conversations/${id}/context`, { token: stranger.token })).status,
    ).toBe(404);
  });
});

describe('marketplace channel', () => {
  it('is stated by generic shops, defaults to web, and shows on conversation summaries', async () => {
    const pdd = await h.createGenericShop({ name: '拼多多店', channel: 'pinduoduo' });
    expect((await h.api(`/v1/shops/${pdd.id}`)).body.channel).toBe('pinduoduo');
    const plain = await h.createGenericShop();
    expect((await h.api(`/v1/shops/${plain.id}`)).body.channel).toBe('web');
    const patched = await h.api(`/v1/shops/${plain.id}`, {
      method: 'PATCH',
      body: { channel: 'jd' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.channel).toBe('jd');
    const bad = await h.api(`/v1/shops/${plain.id}`, {
      method: 'PATCH',
      body: { channel: 'ebay' },
    });
    expect(bad.status).toBe(400);
    const line = await h.api('/v1/shops', {
      body: {
        name: 'LINE shop',
        platform: 'line',
        channel: 'taobao',
        credentials: { channelSecret: 'x'.repeat(32), channelAccessToken: 'tok' },
      },
    });
    expect(line.status).toBe(400);

    const agent = await agentOf(pdd);
    await h.sendGeneric(pdd, buyerMessage('b1', '在吗', Date.now()));
    const summary = await eventually(async () => {
      const list = (await h.api('/v1/agent/conversations', { token: agent.token })).body
        .conversations;
      return list[0];
    });
    expect(summary.shop).toMatchObject({ id: pdd.id, platform: 'generic', channel: 'pinduoduo' });
  });
});

describe('stale messages', () => {
  it('stores and meters a message that arrives days late but never makes it a live waiting buyer', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const agent = await agentOf(shop);
    const stream = await openEventStream(`${h.url}/v1/agent/events`, agent.token);
    const sentAt = Date.now() - 20 * 86_400_000;
    await h.sendGeneric(shop, buyerMessage('late', '二十天前的消息', sentAt));
    const id = conversationId(shop.id, 'late');

    const event = await stream.waitFor((e) => e.event === 'message' && e.data.buyerId === 'late');
    expect(event.data).toMatchObject({ stale: true, waitingSince: null });
    // Metered on the day it was sent.
    const day = new Date(sentAt).toISOString().slice(0, 10);
    await eventually(
      async () =>
        (await h.container.redis.sismember(
          h.container.keys.day(shop.id, day, 'buyers'),
          'late',
        )) === 1,
    );
    // Not waiting, not offered, not in the list, no suggestion; still readable.
    expect(await h.container.assignment.ownerOf(id)).toBeNull();
    expect(
      (await h.api('/v1/agent/conversations', { token: agent.token })).body.conversations,
    ).toEqual([]);
    const opened = await h.api(`/v1/agent/conversations/${id}`, { token: agent.token });
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ waiting: false, assignedTo: null });
    expect(opened.body.lastMessages).toEqual([
      expect.objectContaining({ text: '二十天前的消息', stale: true }),
    ]);
    expect(
      stream.events.some((e) => e.event === 'suggestion' && e.data.conversationId === id),
    ).toBe(false);

    // A fresh message from the same buyer is live as usual.
    await h.sendGeneric(shop, buyerMessage('late', '还在吗？', Date.now()));
    await eventually(async () => (await h.container.assignment.ownerOf(id)) === agent.id);
    await stream.close();
  });
});
