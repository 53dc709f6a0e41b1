import { describe, expect, it } from 'vitest';
import { priceMonth } from '../../../src/billing/price-month';
import { day, monthOf, plan } from './month-fixture';

// 8000.00 CNY a month, 15% held back: holdback = 800000 × 15 / 100 = 120000, base = 680000.
const monthly = plan({
  model: 'monthly',
  monthlyFen: 800000,
  holdbackPercent: 15,
  targets: { maxAverageFirstResponseSeconds: 60, minWithin3MinRate: 0.9, minSatisfaction: 4.5 },
});

// 100 consultations on one day, all answered.
const days = [day('2026-03-10', 100, 100, 2)];

describe('monthly plan with a performance holdback', () => {
  it('charges the holdback when every target is met', () => {
    // First response 5 000 000 ms / 100 = 50 s ≤ 60; within 3 min 95 / 100 = 0.95 ≥ 0.9;
    // satisfaction 92 / 20 = 4.6 ≥ 4.5 → all met: 680000 + 120000 = 800000.
    const priced = priceMonth(
      monthly,
      monthOf('2026-03', {
        days,
        firstResponse: { answered: 100, totalResponseMs: 5_000_000, within3Min: 95 },
        satisfaction: { ratings: 20, ratingSum: 92 },
      }),
    );
    expect(priced.lines.map((l) => [l.kind, l.quantity, l.unitFen, l.amountFen])).toEqual([
      ['monthly_base', 1, 680000, 680000],
      ['holdback', 1, 120000, 120000],
    ]);
    expect(priced.totalFen).toBe(800000);
    expect(priced.inputs.targets).toEqual([
      expect.objectContaining({
        name: 'maxAverageFirstResponseSeconds',
        target: 60,
        measured: 50,
        met: true,
      }),
      expect.objectContaining({
        name: 'minWithin3MinRate',
        target: 0.9,
        measured: 0.95,
        met: true,
      }),
      expect.objectContaining({ name: 'minSatisfaction', target: 4.5, measured: 4.6, met: true }),
    ]);
  });

  it('counts a measure exactly on its target as met', () => {
    // 6 000 000 ms / 100 = 60 s ≤ 60; 90 / 100 = 0.9 ≥ 0.9; 90 / 20 = 4.5 ≥ 4.5 → 800000.
    const priced = priceMonth(
      monthly,
      monthOf('2026-03', {
        days,
        firstResponse: { answered: 100, totalResponseMs: 6_000_000, within3Min: 90 },
        satisfaction: { ratings: 20, ratingSum: 90 },
      }),
    );
    expect(priced.totalFen).toBe(800000);
  });

  it('keeps the holdback when one target is missed, and shows it as a zero line', () => {
    // Satisfaction 88 / 20 = 4.4 < 4.5 → holdback not charged: 680000 only.
    const priced = priceMonth(
      monthly,
      monthOf('2026-03', {
        days,
        firstResponse: { answered: 100, totalResponseMs: 5_000_000, within3Min: 95 },
        satisfaction: { ratings: 20, ratingSum: 88 },
      }),
    );
    expect(priced.totalFen).toBe(680000);
    expect(priced.lines[1]).toMatchObject({
      kind: 'holdback',
      quantity: 0,
      unitFen: 120000,
      amountFen: 0,
    });
    expect(priced.lines[1]?.description).toContain('target missed (satisfaction 4.40 < 4.5)');
    expect(priced.inputs.targets?.map((t) => t.met)).toEqual([true, true, false]);
  });

  it('counts a target without data (null measure) as not met', () => {
    // No buyer rated anything: satisfaction is null → missed → 680000.
    const priced = priceMonth(
      monthly,
      monthOf('2026-03', {
        days,
        firstResponse: { answered: 100, totalResponseMs: 5_000_000, within3Min: 95 },
      }),
    );
    expect(priced.totalFen).toBe(680000);
    expect(priced.inputs.targets?.[2]).toMatchObject({
      name: 'minSatisfaction',
      measured: null,
      met: false,
    });
  });

  it('misses response targets in a month with no consultations at all', () => {
    const timing = plan({
      model: 'monthly',
      monthlyFen: 800000,
      holdbackPercent: 15,
      targets: { maxAverageFirstResponseSeconds: 60 },
    });
    const priced = priceMonth(timing, monthOf('2026-03'));
    expect(priced.inputs.targets?.[0]).toMatchObject({ measured: null, met: false });
    expect(priced.totalFen).toBe(680000);
  });

  it('charges the holdback when the plan sets no targets (every configured target is met)', () => {
    const noTargets = plan({ model: 'monthly', monthlyFen: 800000, holdbackPercent: 15 });
    expect(priceMonth(noTargets, monthOf('2026-03')).totalFen).toBe(800000);
  });

  it('rounds the holdback once, half up, and bills the exact remainder as base', () => {
    // 12.5% of 333333 = 41666.625 → 41667; base = 333333 − 41667 = 291666; met: total 333333.
    const odd = plan({ model: 'monthly', monthlyFen: 333333, holdbackPercent: 12.5 });
    const priced = priceMonth(odd, monthOf('2026-03'));
    expect(priced.lines.map((l) => l.amountFen)).toEqual([291666, 41667]);
    expect(priced.totalFen).toBe(333333);
  });

  it('has a single line without a holdback', () => {
    const flat = plan({ model: 'monthly', monthlyFen: 500000 });
    const priced = priceMonth(flat, monthOf('2026-03'));
    expect(priced.lines).toHaveLength(1);
    expect(priced.totalFen).toBe(500000);
  });
});
