import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

let h: Harness;
const clock = new ManualClock(Date.parse('2026-03-31T15:58:00Z'));
beforeAll(async () => {
  h = await startHarness({ clock });
});
afterAll(() => h.close());

async function usage(shopId: string, month: string) {
  const res = await h.api(`/v1/shops/${shopId}/usage?month=${month}`);
  expect(res.status).toBe(200);
  return res.body as {
    days: Array<{ date: string; consultations: number }>;
    consultations: number;
    averageDaily: number;
    timezone: string;
  };
}

describe('consultations by shop-time calendar day', () => {
  it('puts 23:59 and 00:01 Shanghai time on different days, across a month end', async () => {
    const shop = await h.createGenericShop({ timezone: 'Asia/Shanghai' });
    // 2026-03-31 23:59 and 2026-04-01 00:01 in UTC+8.
    expect(
      (await h.sendGeneric(shop, buyerMessage('b1', 'late', '2026-03-31T23:59:00+08:00'))).status,
    ).toBe(200);
    expect(
      (await h.sendGeneric(shop, buyerMessage('b1', 'early', '2026-04-01T00:01:00+08:00'))).status,
    ).toBe(200);
    const march = await eventually(async () => {
      const u = await usage(shop.id, '2026-03');
      return u.consultations === 1 ? u : null;
    });
    expect(march.days).toHaveLength(31);
    expect(march.days.find((d) => d.date === '2026-03-31')?.consultations).toBe(1);
    expect(march.averageDaily).toBe(0.03);
    const april = await eventually(async () => {
      const u = await usage(shop.id, '2026-04');
      return u.consultations === 1 ? u : null;
    });
    expect(april.days).toHaveLength(30);
    expect(april.days[0]).toEqual({ date: '2026-04-01', consultations: 1, receptions: 0 });
  });

  it('counts a shop in another zone by its own calendar', async () => {
    const shop = await h.createGenericShop({ timezone: 'America/New_York' });
    // 2026-04-01T02:00Z is still March 31 in New York (UTC-4 in April).
    expect(
      (await h.sendGeneric(shop, buyerMessage('b1', 'hi', '2026-04-01T02:00:00Z'))).status,
    ).toBe(200);
    const u = await eventually(async () => {
      const r = await usage(shop.id, '2026-03');
      return r.consultations === 1 ? r : null;
    });
    expect(u.timezone).toBe('America/New_York');
    expect(u.days.find((d) => d.date === '2026-03-31')?.consultations).toBe(1);
    expect((await usage(shop.id, '2026-04')).consultations).toBe(0);
  });

  it('counts a reception when an agent replied in the platform client that day', async () => {
    const shop = await h.createGenericShop({ timezone: 'Asia/Shanghai' });
    await h.sendGeneric(shop, buyerMessage('b1', 'hi', '2026-03-31T10:00:00+08:00'));
    await h.sendGeneric(shop, buyerMessage('b2', 'hi', '2026-03-31T10:00:00+08:00'));
    await h.sendGeneric(
      shop,
      buyerMessage('b1', '您好', '2026-03-31T10:01:00+08:00', { from: 'agent', agentName: 'Lin' }),
    );
    const u = await eventually(async () => {
      const r = await h.api(`/v1/shops/${shop.id}/usage?month=2026-03`);
      return r.body.receptions === 1 ? r.body : null;
    });
    expect(u.consultations).toBe(2);
  });

  it('defaults to the current month in the shop zone and rejects a bad month', async () => {
    const shop = await h.createGenericShop({ timezone: 'Asia/Shanghai' });
    // The injected clock says 2026-03-31 23:58 in Shanghai.
    expect((await h.api(`/v1/shops/${shop.id}/usage`)).body.month).toBe('2026-03');
    const bad = await h.api(`/v1/shops/${shop.id}/usage?month=2026-13`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('month');
  });

  it('keeps a conversation in sent order even when messages are processed out of order', async () => {
    const shop = await h.createGenericShop();
    const times = [5, 1, 4, 2, 3].map((m) => `2026-03-31T10:0${m}:00+08:00`);
    await Promise.all(
      times.map((t, i) => h.sendGeneric(shop, buyerMessage('b-order', `msg at ${t} #${i}`, t))),
    );
    const history = await eventually(async () => {
      const messages = await h.container.conversations.history(shop.id, 'b-order');
      return messages.length === 5 ? messages : null;
    });
    expect(history.map((m) => m.at)).toEqual([...history.map((m) => m.at)].sort((a, b) => a - b));
    expect(new Date(history[0]!.at).toISOString()).toBe('2026-03-31T02:01:00.000Z');
  });
});
