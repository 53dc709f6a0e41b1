import { describe, expect, it } from 'vitest';
import { priceMonth } from '../../../src/billing/price-month';
import { monthOf, plan, spread } from './month-fixture';

// Tiers: up to 50 a day → 1500.00 CNY, up to 100 → 2500.00, above → 4000.00.
const tiered = plan({
  model: 'tiered',
  tiers: [
    { upToAverageDaily: 50, monthlyFen: 150000 },
    { upToAverageDaily: 100, monthlyFen: 250000 },
    { upToAverageDaily: null, monthlyFen: 400000 },
  ],
});

describe('tiered plan (volume pricing on the average daily consultations)', () => {
  it('puts an average of exactly 50.0 in the "up to 50" tier: bounds are inclusive', () => {
    // March has 31 days; 1550 / 31 = 50 exactly, and 50 ≤ 50 → tier 1, 150000 fen.
    const priced = priceMonth(tiered, monthOf('2026-03', { days: spread('2026-03', 1550, 31) }));
    expect(priced.totalFen).toBe(150000);
    expect(priced.lines).toEqual([
      expect.objectContaining({ kind: 'tier', quantity: 1, unitFen: 150000, amountFen: 150000 }),
    ]);
    expect(priced.inputs.tier).toMatchObject({
      index: 0,
      upToAverageDaily: 50,
      monthlyFen: 150000,
    });
    expect(priced.inputs.figures).toMatchObject({
      consultations: 1550,
      daysInMonth: 31,
      averageDaily: '50.00',
      averageDailyExact: '1550/31',
    });
  });

  it('moves one consultation over the bound to the next tier', () => {
    // 1551 / 31 = 50.03…; 1551 > 50 × 31 = 1550 → tier 2, 250000 fen.
    const priced = priceMonth(tiered, monthOf('2026-03', { days: spread('2026-03', 1551, 31) }));
    expect(priced.totalFen).toBe(250000);
    expect(priced.inputs.tier?.index).toBe(1);
    expect(priced.inputs.figures.averageDaily).toBe('50.03');
    expect(priced.lines[0]?.description).toBe(
      'Tier 2 (over 50 and up to 100 consultations a day): average 50.03 = 1551 / 31 days, 2500.00 CNY a month',
    );
    expect(priced.inputs.tier?.rule).toBe('1551 consultations ≤ 100 × 31 days and > 50 × 31 days');
  });

  it('divides by calendar days of the month, not by days with activity', () => {
    // 1550 consultations on 10 busy days of March still average 1550 / 31 = 50 → tier 1.
    expect(
      priceMonth(tiered, monthOf('2026-03', { days: spread('2026-03', 1550, 10) })).totalFen,
    ).toBe(150000);
    // The same 1550 in 30-day April: 1550 / 30 = 51.67 > 50 → tier 2.
    expect(
      priceMonth(tiered, monthOf('2026-04', { days: spread('2026-04', 1550, 10) })).totalFen,
    ).toBe(250000);
  });

  it('knows February has 28 days, 29 in a leap year', () => {
    // 2026-02: 1400 / 28 = 50 → tier 1; 1401 → tier 2.
    expect(
      priceMonth(tiered, monthOf('2026-02', { days: spread('2026-02', 1400, 28) })).totalFen,
    ).toBe(150000);
    expect(
      priceMonth(tiered, monthOf('2026-02', { days: spread('2026-02', 1401, 28) })).totalFen,
    ).toBe(250000);
    // 2028-02: 1450 / 29 = 50 → tier 1.
    expect(
      priceMonth(tiered, monthOf('2028-02', { days: spread('2028-02', 1450, 29) })).totalFen,
    ).toBe(150000);
  });

  it('uses the open-ended last tier above every bound, and the first tier for an empty month', () => {
    // 3101 / 31 = 100.03 > 100 → tier 3, 400000 fen.
    const busy = priceMonth(tiered, monthOf('2026-03', { days: spread('2026-03', 3101, 31) }));
    expect(busy.totalFen).toBe(400000);
    expect(busy.inputs.tier?.index).toBe(2);
    expect(priceMonth(tiered, monthOf('2026-03')).totalFen).toBe(150000);
  });

  it('compares a decimal bound exactly where float arithmetic would not', () => {
    // Bound 33.3 in a 30-day month: 33.3 × 30 = 999 exactly, so 999 consultations are in tier 1.
    // In floats 33.3 * 30 = 998.9999999999999 < 999, which would wrongly pick tier 2.
    const decimal = plan({
      model: 'tiered',
      tiers: [
        { upToAverageDaily: 33.3, monthlyFen: 100000 },
        { upToAverageDaily: null, monthlyFen: 200000 },
      ],
    });
    expect(
      priceMonth(decimal, monthOf('2026-04', { days: spread('2026-04', 999, 30) })).totalFen,
    ).toBe(100000);
    expect(
      priceMonth(decimal, monthOf('2026-04', { days: spread('2026-04', 1000, 30) })).totalFen,
    ).toBe(200000);
  });
});
