import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock';
import { drained, traffic } from '../support/billing-traffic';
import { type Harness, startHarness } from '../support/harness';

/**
 * Worked examples through the real pipeline: events arrive as signed
 * webhooks, the worker meters them, and the invoice is checked against
 * figures computed by hand here. The clock sits in April 2026, so March
 * invoices are drafts priced by the same path month close uses.
 */
let h: Harness;
const clock = new ManualClock(Date.parse('2026-04-01T12:00:00+08:00'));
beforeAll(async () => {
  h = await startHarness({ clock, env: { WEBHOOK_RATE_PER_MINUTE: '100000' } });
});
afterAll(() => h.close());

async function invoice(shopId: string, month: string) {
  const res = await h.api(`/v1/shops/${shopId}/invoices/${month}`);
  expect(res.status, res.text).toBe(200);
  return res.body as {
    status: string;
    totalFen: number;
    lines: Array<{
      kind: string;
      quantity: number;
      unitFen: number;
      amountFen: number;
      description: string;
    }>;
    inputs: any;
    plan: any;
  };
}

const at = (day: number, hhmmss: string) =>
  `2026-03-${String(day).padStart(2, '0')}T${hhmmss}+08:00`;

describe('tiered: the month average hits a bound exactly', () => {
  const plan = {
    model: 'tiered',
    tiers: [
      { upToAverageDaily: 1, monthlyFen: 100_000 },
      { upToAverageDaily: 2, monthlyFen: 200_000 },
      { upToAverageDaily: null, monthlyFen: 300_000 },
    ],
  };

  it('31 consultations in March average exactly 1.00 (tier 1); the 32nd moves the whole month to tier 2', async () => {
    const shop = await h.createGenericShop({ plan });
    const t = traffic(h, shop);
    // 31 buyers spread over March, one of them writing twice the same day (still one consultation).
    await Promise.all(
      Array.from({ length: 31 }, (_, i) => t.buyer(`buyer-${i}`, at(i + 1, '10:00:00'))),
    );
    await t.buyer('buyer-0', at(1, '11:00:00'));
    await drained(h);
    const exact = await invoice(shop.id, '2026-03');
    expect(exact.status).toBe('draft');
    expect(exact.inputs.tier.index).toBe(0);
    expect(exact.totalFen).toBe(100_000);

    await t.buyer('buyer-extra', at(31, '23:59:00'));
    await drained(h);
    const over = await invoice(shop.id, '2026-03');
    expect(over.inputs.tier.index).toBe(1);
    expect(over.totalFen).toBe(200_000);
  });
});

describe('monthly with a holdback', () => {
  const plan = {
    model: 'monthly',
    monthlyFen: 800_000,
    holdbackPercent: 15,
    targets: { maxAverageFirstResponseSeconds: 60, minWithin3MinRate: 0.5, minSatisfaction: 4.5 },
  };

  async function month(ratings: number[]) {
    const shop = await h.createGenericShop({ plan });
    const t = traffic(h, shop);
    // Two consultations answered in 30 s and 90 s: average 60 s (on target), both within 3 minutes.
    await t.buyer('b1', at(3, '10:00:00'));
    await t.agent('b1', at(3, '10:00:30'));
    await t.buyer('b2', at(4, '10:00:00'));
    await t.agent('b2', at(4, '10:01:30'));
    for (const score of ratings) await t.rating('b1', score, at(5, '12:00:00'));
    await drained(h);
    return invoice(shop.id, '2026-03');
  }

  it('charges the holdback when every target is met (satisfaction 4.5 on its target)', async () => {
    const inv = await month([5, 4]);
    expect(inv.lines.map((l) => [l.kind, l.amountFen])).toEqual([
      ['monthly_base', 680_000],
      ['holdback', 120_000],
    ]);
    expect(inv.totalFen).toBe(800_000);
    expect(inv.inputs.targets.every((t: { met: boolean }) => t.met)).toBe(true);
  });

  it('keeps the holdback back when satisfaction misses (4 + 4 = 4.0 < 4.5)', async () => {
    const inv = await month([4, 4]);
    expect(inv.totalFen).toBe(680_000);
    expect(
      inv.inputs.targets.find((t: { name: string }) => t.name === 'minSatisfaction'),
    ).toMatchObject({ measured: 4, met: false });
  });
});

describe('base plus commission: attribution window and rounding', () => {
  it('attributes an order 3 days after the consultation, not one exactly 7 days after; 3% of 12350 fen = 370.5 → 371', async () => {
    const shop = await h.createGenericShop({
      plan: {
        model: 'base_commission',
        monthlyBaseFen: 300_000,
        commissionPercent: 3,
        attributionDays: 7,
      },
    });
    const t = traffic(h, shop);
    await t.buyer('b1', at(5, '10:00:00'));
    await t.order('b1', 12_350, at(8, '10:00:00'));
    await t.order('b1', 9_999, at(12, '10:00:00'));
    // Another buyer's order never counts for b1's consultation.
    await t.order('b-other', 50_000, at(6, '10:00:00'));
    await drained(h);
    const inv = await invoice(shop.id, '2026-03');
    expect(inv.inputs.figures.attributedSalesFen).toBe(12_350);
    expect(inv.lines.find((l) => l.kind === 'commission')?.amountFen).toBe(371);
    expect(inv.totalFen).toBe(300_371);
    const usage = (await h.api(`/v1/shops/${shop.id}/usage?month=2026-03`)).body;
    expect(usage.conversionRate).toBe(1);
    expect(usage.estimate.totalFen).toBe(300_371);
  });
});

describe('per day with overtime', () => {
  it('bills one seat-day per agent per day plus overtime hours at 150%', async () => {
    const shop = await h.createGenericShop({
      plan: {
        model: 'per_day',
        dayRateFen: { online: 25_000 },
        channel: 'online',
        overtime: { hourlyBaseFen: 3000, ratePercent: 150 },
      },
    });
    const t = traffic(h, shop);
    await t.buyer('b1', at(2, '09:00:00'));
    await t.agent('b1', at(2, '09:01:00'), 'Lin');
    await t.agent('b1', at(2, '09:02:00'), 'Wu');
    await t.agent('b1', at(2, '09:03:00'), 'Lin');
    await t.buyer('b2', at(3, '09:00:00'));
    await t.agent('b2', at(3, '09:01:00'), 'Lin');
    await drained(h);
    expect(
      (await h.api(`/v1/shops/${shop.id}/overtime`, { body: { date: '2026-03-02', hours: 2.5 } }))
        .status,
    ).toBe(200);
    const inv = await invoice(shop.id, '2026-03');
    // 3 seat-days × 250.00 = 750.00; 2.5 h × 30.00 × 150% = 112.50.
    expect(inv.lines.map((l) => [l.kind, l.amountFen])).toEqual([
      ['seat_days', 75_000],
      ['overtime', 11_250],
    ]);
    expect(inv.totalFen).toBe(86_250);
  });
});

describe('time zones: 23:59 and 00:01 on the last day of the month', () => {
  it('bills a New York shop by its own calendar (per reception)', async () => {
    const shop = await h.createGenericShop({
      timezone: 'America/New_York',
      plan: { model: 'per_reception', dailyBaseFen: 5000, perReceptionFen: 300 },
    });
    const t = traffic(h, shop);
    // 23:59 on 31 March New York is 03:59 UTC on 1 April: March for this shop.
    await t.buyer('b1', '2026-03-31T23:59:00-04:00');
    await t.agent('b1', '2026-03-31T23:59:40-04:00');
    await t.buyer('b2', '2026-04-01T00:01:00-04:00');
    await t.agent('b2', '2026-04-01T00:02:00-04:00');
    await drained(h);
    const march = await invoice(shop.id, '2026-03');
    expect(march.lines.map((l) => [l.kind, l.quantity, l.amountFen])).toEqual([
      ['reception_days', 1, 5000],
      ['receptions', 1, 300],
    ]);
    const usage = (await h.api(`/v1/shops/${shop.id}/usage?month=2026-03`)).body;
    expect(usage.days.at(-1)).toEqual({ date: '2026-03-31', consultations: 1, receptions: 1 });
    expect(usage.firstResponse).toEqual({ answered: 1, averageSeconds: 40, within3MinRate: 1 });
    expect(usage.days.find((d: { date: string }) => d.date === '2026-03-01')).toEqual({
      date: '2026-03-01',
      consultations: 0,
      receptions: 0,
    });
  });

  it('splits 23:59 and 00:01 Shanghai time into two consultations on two days', async () => {
    const shop = await h.createGenericShop({
      plan: { model: 'per_reception', dailyBaseFen: 5000, perReceptionFen: 300 },
    });
    const t = traffic(h, shop);
    await t.buyer('b1', '2026-03-30T23:59:00+08:00');
    // This reply is at 00:00:30 on the 31st, before b1 writes again: it answers the 30th's consultation.
    await t.agent('b1', '2026-03-31T00:00:30+08:00');
    await t.buyer('b1', '2026-03-31T00:01:00+08:00');
    await drained(h);
    const usage = (await h.api(`/v1/shops/${shop.id}/usage?month=2026-03`)).body;
    expect(usage.days.slice(-2)).toEqual([
      { date: '2026-03-30', consultations: 1, receptions: 1 },
      { date: '2026-03-31', consultations: 1, receptions: 0 },
    ]);
    // First response 90 s (23:59:00 → 00:00:30) on the 30th; the 31st is unanswered: 1 of 2 within 3 minutes.
    expect(usage.firstResponse).toEqual({ answered: 1, averageSeconds: 90, within3MinRate: 0.5 });
  });

  it('never stretches a consultation over two midnights on a 23-hour DST day, in either order', async () => {
    // New York springs forward on 2026-03-08 (a 23 h day).
    for (const order of ['buyer first', 'reply first'] as const) {
      const shop = await h.createGenericShop({
        timezone: 'America/New_York',
        plan: { model: 'per_reception', dailyBaseFen: 5000, perReceptionFen: 300 },
      });
      const t = traffic(h, shop);
      const buyer = () => t.buyer('b1', '2026-03-07T23:58:00-05:00');
      const reply = () => t.agent('b1', '2026-03-09T00:30:00-04:00');
      if (order === 'buyer first') {
        await buyer();
        await drained(h);
        await reply();
      } else {
        await reply();
        await drained(h);
        await buyer();
      }
      await drained(h);
      const usage = (await h.api(`/v1/shops/${shop.id}/usage?month=2026-03`)).body;
      const day = (d: string) => usage.days.find((x: { date: string }) => x.date === d);
      expect(day('2026-03-07'), order).toEqual({
        date: '2026-03-07',
        consultations: 1,
        receptions: 0,
      });
      expect(usage.firstResponse.answered, order).toBe(0);
    }
  });

  it('credits a reply after midnight to the consultation it answers, whatever order the events arrive in', async () => {
    const shop = await h.createGenericShop({
      plan: { model: 'per_reception', dailyBaseFen: 5000, perReceptionFen: 300 },
    });
    const t = traffic(h, shop);
    await t.buyer('b1', '2026-03-31T00:01:00+08:00');
    await drained(h);
    await t.agent('b1', '2026-03-31T00:00:30+08:00');
    await drained(h);
    await t.buyer('b1', '2026-03-30T23:59:00+08:00');
    await drained(h);
    const usage = (await h.api(`/v1/shops/${shop.id}/usage?month=2026-03`)).body;
    expect(usage.days.slice(-2)).toEqual([
      { date: '2026-03-30', consultations: 1, receptions: 1 },
      { date: '2026-03-31', consultations: 1, receptions: 0 },
    ]);
    expect(usage.firstResponse).toEqual({ answered: 1, averageSeconds: 90, within3MinRate: 0.5 });
    // The audit trail agrees with the totals.
    const audit = (await h.api(`/v1/shops/${shop.id}/consultations?date=2026-03-30`)).body;
    expect(audit.consultations).toEqual([
      expect.objectContaining({
        firstMessageAt: '2026-03-30T23:59:00+08:00',
        firstResponseSeconds: 90,
      }),
    ]);
  });
});
