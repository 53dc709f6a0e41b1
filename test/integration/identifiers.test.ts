import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { ConsultationMeter } from '../../src/metering/consultation-meter';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const month = () => new Date().toISOString().slice(0, 7);
const today = () => new Date().toISOString().slice(0, 10);

async function shopWithAgent() {
  const shop = await h.createGenericShop({ timezone: 'UTC' });
  const agent = (await h.api('/v1/agents', { body: { name: 'Jo', shopIds: [shop.id] } })).body;
  return { shop, agent };
}

describe('identifiers', () => {
  it.each([
    ['a NUL', 'buyer\u0000000001732000000000'],
    ['a newline', 'buyer\nother'],
    ['an escape', 'buyer\u001b[31m'],
    ['a C1 control', 'buyer\u0085'],
  ])('refuses a buyer id with %s at ingest', async (_name, buyerId) => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const res = await h.sendGeneric(shop, buyerMessage(buyerId, 'hi', Date.now()));
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('invalid_identifier');
    expect(body.error.details.field).toBe('events.0.buyer.id');
  });

  it('keeps index members unambiguous: the meter itself refuses a buyer id with NUL', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    await expect(
      h.container.meter.recordBuyerMessage(shop.id, 'UTC', 'a\u0000000001', Date.now(), {
        attributionDays: 0,
      }),
    ).rejects.toThrow(/NUL/);
  });

  it('keeps index members unambiguous for ids built from the separators (length-prefixed buyer part)', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const meter = h.container.meter;
    const t0 = Date.UTC(2026, 10, 2, 10, 0);
    const pad = (n: number) => String(n).padStart(15, '0');
    // Each would read as buyer b's reply or order a second later under a naive `buyer|time`
    // layout, or under the new layout without its length prefix.
    const forged = [`b|${pad(t0 + 1000)}`, `1:b|${pad(t0 + 1000)}`, `b:${pad(t0 + 1000)}`];
    await meter.recordBuyerMessage(shop.id, 'UTC', 'b', t0, { attributionDays: 7 });
    for (const buyer of forged) {
      await meter.recordBuyerMessage(shop.id, 'UTC', buyer, t0, { attributionDays: 7 });
      await meter.recordAgentReply(shop.id, 'UTC', buyer, 'agt_x', t0 + 1000);
      await h.container.commerce.recordOrder(shop.id, 'UTC', {
        kind: 'order',
        eventId: `order-${buyer}`,
        orderId: `o-${buyer}`,
        buyerId: buyer,
        amountFen: 100,
        paidAt: new Date(t0 + 2000).toISOString(),
      });
    }
    const day = '2026-11-02';
    const byBuyer = async () =>
      new Map((await meter.consultationsOn(shop.id, day)).map((c) => [c.buyerId, c]));
    expect((await byBuyer()).get('b')).toMatchObject({ firstResponseMs: null, converted: false });
    await meter.recordAgentReply(shop.id, 'UTC', 'b', 'agt_x', t0 + 5000);
    const after = await byBuyer();
    expect(after.get('b')).toMatchObject({ firstResponseMs: 5000, converted: false });
    for (const buyer of forged)
      expect(after.get(buyer)).toMatchObject({ firstResponseMs: 1000, converted: true });
  });

  it("reads a shop's older `buyer NUL time` index members while draining them into the new layout", async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const { keys, redis, meter } = h.container;
    const legacy = (suffix: string) => `${keys.shopPrefix(shop.id)}:${suffix}`;
    const t0 = Date.UTC(2026, 10, 3, 10, 0);
    const pad = (n: number) => String(n).padStart(15, '0');
    // As the previous layout stored them: a reply 3 s after t0 and an order 4 s after, behind
    // 150 other buyers' replies, so the first event drains only part of the old key.
    const fillers = Array.from({ length: 150 }, (_, i) => `a-${String(i).padStart(3, '0')}`);
    await redis.zadd(legacy('replies'), 0, `old\u0000${pad(t0 + 3000)}`);
    for (const f of fillers) await redis.zadd(legacy('replies'), 0, `${f}\u0000${pad(t0)}`);
    await redis.zadd(legacy('orders:idx'), 0, `old\u0000${pad(t0 + 4000)}${pad(700)}2026-11o-old`);

    await meter.recordBuyerMessage(shop.id, 'UTC', 'old', t0, { attributionDays: 7 });
    // Half drained: the old reply is still in the old key, and counted.
    expect(await redis.zrange(legacy('replies'), 0, -1)).toContain(`old\u0000${pad(t0 + 3000)}`);
    expect(await meter.consultationsOn(shop.id, '2026-11-03')).toEqual([
      { buyerId: 'old', firstAt: t0, firstResponseMs: 3000, converted: true },
    ]);

    await meter.recordBuyerMessage(shop.id, 'UTC', 'other', t0 + 60_000, { attributionDays: 7 });
    expect(await redis.exists(legacy('replies'), legacy('orders:idx'))).toBe(0);
    expect(await redis.zrange(keys.shopReplies(shop.id), 0, -1)).toContain(
      `3:old|${pad(t0 + 3000)}`,
    );
    expect(await redis.zrange(keys.orderIndex(shop.id), 0, -1)).toEqual([
      `3:old|${pad(t0 + 4000)}${pad(700)}2026-11o-old`,
    ]);
    // Recomputed from the new layout alone, the facts are the same.
    await meter.recordAgentReply(shop.id, 'UTC', 'old', 'agt_x', t0 + 9000);
    expect((await meter.consultationsOn(shop.id, '2026-11-03'))[0]).toEqual({
      buyerId: 'old',
      firstAt: t0,
      firstResponseMs: 3000,
      converted: true,
    });

    // Once a buyer message has found the older keys empty, this meter's buyer messages no longer
    // look at them (one Redis command less each): an older member written now stays there...
    await meter.recordBuyerMessage(shop.id, 'UTC', 'other', t0 + 70_000, { attributionDays: 7 });
    await redis.zadd(legacy('replies'), 0, `late\u0000${pad(t0 + 1000)}`);
    await meter.recordBuyerMessage(shop.id, 'UTC', 'late', t0, { attributionDays: 7 });
    expect(await redis.zcard(legacy('replies'))).toBe(1);
    // ...while a meter that has not seen them drained (a restarted process) still drains it.
    await new ConsultationMeter(redis, keys).recordBuyerMessage(shop.id, 'UTC', 'late', t0, {
      attributionDays: 7,
    });
    expect(await redis.exists(legacy('replies'))).toBe(0);
    expect((await meter.consultationsOn(shop.id, '2026-11-03')).map((c) => c.buyerId)).toEqual([
      'late',
      'old',
      'other',
    ]);
  });

  it('refuses a message id with a control character too', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const message = buyerMessage('b-1', 'hi', Date.now(), { messageId: 'm\u0000x' });
    expect((await h.sendGeneric(shop, message)).status).toBe(400);
  });

  it('answers 404 to another spelling of a conversation id', async () => {
    const { shop, agent } = await shopWithAgent();
    await h.sendGeneric(shop, buyerMessage('b-alias', 'hi', Date.now()));
    await eventually(async () => h.container.conversations.exists(shop.id, 'b-alias'));
    const canonical = conversationId(shop.id, 'b-alias');
    const spaced = `cnv_${Buffer.from(JSON.stringify([shop.id, 'b-alias'], null, 1)).toString('base64url')}`;
    const padded = `${canonical}=`;
    for (const alias of [spaced, padded]) {
      expect(alias).not.toBe(canonical);
      const res = await h.api(`/v1/agent/conversations/${alias}/claim`, {
        token: agent.token,
        method: 'POST',
      });
      expect(res.status).toBe(404);
    }
    const claimed = await h.api(`/v1/agent/conversations/${canonical}/claim`, {
      token: agent.token,
      method: 'POST',
    });
    expect(claimed.status).toBe(200);
  });

  it('lets nobody claim or message a buyer id that never wrote', async () => {
    const { shop, agent } = await shopWithAgent();
    const ghost = conversationId(shop.id, 'never-wrote');
    const claim = await h.api(`/v1/agent/conversations/${ghost}/claim`, {
      token: agent.token,
      method: 'POST',
    });
    expect(claim.status).toBe(404);
    const reply = await h.api(`/v1/agent/conversations/${ghost}/replies`, {
      token: agent.token,
      body: { text: 'Hello stranger' },
    });
    expect(reply.status).toBe(404);
  });

  it.each([
    ['year 9999', '9999-12-31T23:59:59Z'],
    ['year 0000', '0000-01-01T00:00:00Z'],
  ])(
    'keeps an absurd sentAt (%s) as claimed, flagged, and meters it on the arrival day',
    async (_name, sentAt) => {
      const shop = await h.createGenericShop({ timezone: 'UTC' });
      const res = await h.sendGeneric(shop, buyerMessage('b-time', 'hi', sentAt));
      expect(res.status).toBe(200);
      const [message] = await eventually(async () => {
        const history = await h.container.conversations.history(shop.id, 'b-time');
        return history.length > 0 ? history : null;
      });
      expect(message!.claimedSentAt).toBe(sentAt);
      expect(Math.abs(message!.at - Date.now())).toBeLessThan(60_000);
      const usage = await h.api(`/v1/shops/${shop.id}/usage?month=${month()}`);
      expect(usage.body.consultations).toBe(1);
      const day = usage.body.days.find((d: { date: string }) => d.date === today());
      expect(day.consultations).toBe(1);
    },
  );
});

describe('retention', () => {
  it('expires every conversation key after CONVERSATION_RETENTION_DAYS and caps live conversations', async () => {
    const r = await startHarness({
      env: { CONVERSATION_RETENTION_DAYS: '2', SHOP_MAX_LIVE_CONVERSATIONS: '3' },
    });
    try {
      const shop = await r.createGenericShop({ timezone: 'UTC' });
      for (const buyer of ['r-1', 'r-2', 'r-3', 'r-4', 'r-5']) {
        await r.sendGeneric(shop, buyerMessage(buyer, 'hi', Date.now()));
        await eventually(async () => r.container.conversations.exists(shop.id, buyer));
      }
      const keys = r.container.keys;
      // The suggestions are written after the message is stored: wait for them too.
      await eventually(
        async () =>
          (await r.container.redis.exists(keys.conversation(shop.id, 'r-5', 'suggestions'))) === 1,
      );
      const ttls = await Promise.all(
        (['messages', 'meta', 'suggestions'] as const).map((part) =>
          r.container.redis.ttl(keys.conversation(shop.id, 'r-5', part)),
        ),
      );
      for (const ttl of [...ttls, await r.container.redis.ttl(keys.activeConversations(shop.id))]) {
        expect(ttl).toBeGreaterThan(2 * 86_400 - 60);
        expect(ttl).toBeLessThanOrEqual(2 * 86_400);
      }
      expect(await r.container.conversations.activeBuyers(shop.id)).toEqual(['r-5', 'r-4', 'r-3']);
    } finally {
      await r.close();
    }
  });
});
