import { describe, expect, it } from 'vitest';
import { priceMonth } from '../../../src/billing/price-month';
import { day, monthOf, plan } from './month-fixture';

describe('per_day plan', () => {
  // Three days with 2, 3 and 2 agents replying = 7 seat-days.
  const days = [
    day('2026-11-01', 40, 40, 2),
    day('2026-11-02', 60, 58, 3),
    day('2026-11-15', 30, 30, 2),
  ];

  it('bills one seat-day per agent who replied on a day at the channel rate', () => {
    // 7 × 250.00 CNY = 7 × 25000 = 175000 fen.
    const priced = priceMonth(
      plan({ model: 'per_day', dayRateFen: { online: 25000, inbound: 28000 } }),
      monthOf('2026-11', { days }),
    );
    expect(priced.lines).toEqual([
      expect.objectContaining({
        kind: 'seat_days',
        quantity: 7,
        unitFen: 25000,
        amountFen: 175000,
      }),
    ]);
    expect(priced.totalFen).toBe(175000);
  });

  it('uses the rate of the plan channel', () => {
    // inbound: 7 × 28000 = 196000.
    const inbound = plan({
      model: 'per_day',
      dayRateFen: { online: 25000, inbound: 28000 },
      channel: 'inbound',
    });
    expect(priceMonth(inbound, monthOf('2026-11', { days })).totalFen).toBe(196000);
  });
});

describe('per_reception plan', () => {
  it('bills the daily base for days with a reception plus each reception', () => {
    // Receptions on 3 days (10, 5, 1 = 16); 11-20 had consultations but no reception, so no base.
    // 3 × 5000 = 15000; 16 × 300 = 4800; total 19800.
    const days = [
      day('2026-11-03', 12, 10, 1),
      day('2026-11-04', 5, 5, 1),
      day('2026-11-20', 4, 0, 0),
      day('2026-11-30', 1, 1, 1),
    ];
    const priced = priceMonth(
      plan({ model: 'per_reception', dailyBaseFen: 5000, perReceptionFen: 300 }),
      monthOf('2026-11', { days }),
    );
    expect(priced.lines.map((l) => [l.kind, l.quantity, l.unitFen, l.amountFen])).toEqual([
      ['reception_days', 3, 5000, 15000],
      ['receptions', 16, 300, 4800],
    ]);
    expect(priced.totalFen).toBe(19800);
  });
});

describe('dedicated_seat plan', () => {
  it('bills seats × the monthly salary per seat', () => {
    // 2 × 6000.00 CNY = 1200000 fen, whatever the month's traffic.
    const priced = priceMonth(
      plan({ model: 'dedicated_seat', seats: 2, monthlyFenPerSeat: 600000 }),
      monthOf('2026-11'),
    );
    expect(priced.lines).toEqual([
      expect.objectContaining({ kind: 'seats', quantity: 2, unitFen: 600000, amountFen: 1200000 }),
    ]);
    expect(priced.totalFen).toBe(1200000);
  });
});

describe('base_commission plan', () => {
  const threePercent = plan({
    model: 'base_commission',
    monthlyBaseFen: 300000,
    commissionPercent: 3,
  });

  it('rounds the commission once, half up: 3% of 12345 = 370.35 → 370', () => {
    const priced = priceMonth(threePercent, monthOf('2026-11', { attributedSalesFen: 12345 }));
    expect(priced.lines.map((l) => [l.kind, l.amountFen])).toEqual([
      ['base', 300000],
      ['commission', 370],
    ]);
    expect(priced.lines[1]).toMatchObject({ quantity: 1, unitFen: 12345, percent: 3 });
    expect(priced.totalFen).toBe(300370);
    expect(priced.inputs.figures).toMatchObject({ attributedSalesFen: 12345, attributionDays: 7 });
  });

  it('rounds an exact half up: 3% of 12350 = 370.5 → 371', () => {
    expect(
      priceMonth(threePercent, monthOf('2026-11', { attributedSalesFen: 12350 })).totalFen,
    ).toBe(300371);
  });

  it('keeps a decimal percent exact: 3.5% of 12345 = 432.075 → 432', () => {
    const p = plan({ model: 'base_commission', monthlyBaseFen: 300000, commissionPercent: 3.5 });
    expect(
      priceMonth(p, monthOf('2026-11', { attributedSalesFen: 12345 })).lines[1]?.amountFen,
    ).toBe(432);
  });

  it('rounds a half up where floats would round it down: 1.15% of 3000 = 34.5 → 35', () => {
    // In floats 3000 * 1.15 / 100 = 34.49999999999999, which Math.round takes to 34.
    const p = plan({ model: 'base_commission', monthlyBaseFen: 0, commissionPercent: 1.15 });
    expect(priceMonth(p, monthOf('2026-11', { attributedSalesFen: 3000 })).totalFen).toBe(35);
  });

  it('bills only the base without attributed sales', () => {
    expect(priceMonth(threePercent, monthOf('2026-11')).totalFen).toBe(300000);
  });
});
