import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayOf } from '../../src/shared/shop-calendar';
import { type Harness, startHarness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: false });
});
afterAll(() => h.close());

describe("an agent's daily figures", () => {
  it('count each reply on its shop’s own day and sum over shops in different time zones', async () => {
    // 25 hours apart: the two shops are never on the same calendar day.
    const east = await h.createGenericShop({ timezone: 'Pacific/Kiritimati' });
    const west = await h.createGenericShop({ timezone: 'Pacific/Pago_Pago' });
    const agent = (
      await h.api('/v1/agents', { body: { name: 'Tess', shopIds: [east.id, west.id] } })
    ).body;
    const now = Date.now();
    for (const [shop, timezone] of [
      [east, 'Pacific/Kiritimati'],
      [west, 'Pacific/Pago_Pago'],
    ] as const)
      await h.container.responseClock.recordReply({
        replyId: `r-${shop.id}`,
        shopId: shop.id,
        timezone,
        buyerId: 'b',
        agentId: agent.id,
        text: '好的',
        origin: 'own',
        sentAt: now - 1000,
        consultationStart: now - 61_000,
      });
    const today = (await h.api('/v1/agent/stats', { token: agent.token })).body;
    expect(today.replies.own).toBe(2);
    expect(today.consultationsAnswered).toBe(2);
    expect(today.averageFirstResponseSeconds).toBe(60);
    expect(today.byShop).toEqual([
      expect.objectContaining({ shopId: east.id, date: dayOf(now - 1000, 'Pacific/Kiritimati') }),
      expect.objectContaining({ shopId: west.id, date: dayOf(now - 1000, 'Pacific/Pago_Pago') }),
    ]);
    // The operator sees the same.
    expect((await h.api(`/v1/agents/${agent.id}/stats`)).body.replies.own).toBe(2);
    // A given date is that date in each shop's calendar: only the east shop's reply is on its day.
    const eastDay = dayOf(now - 1000, 'Pacific/Kiritimati');
    const dated = (await h.api(`/v1/agent/stats?date=${eastDay}`, { token: agent.token })).body;
    expect(dated.date).toBe(eastDay);
    expect(dated.replies.own).toBe(1);
  });
});
