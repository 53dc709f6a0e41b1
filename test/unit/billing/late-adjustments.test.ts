import { describe, expect, it } from 'vitest';
import { lateAdjustmentFor } from '../../../src/billing/late-adjustment';
import { priceMonth } from '../../../src/billing/price-month';
import { day, monthOf, plan } from './month-fixture';

const perReception = plan({ model: 'per_reception', dailyBaseFen: 5000, perReceptionFen: 300 });

describe('late adjustments', () => {
  it('adds each late adjustment for an earlier month as its own line, credits included', () => {
    // November: 1 day with 2 receptions → 5000 + 2 × 300 = 5600;
    // adjustments +5300 (October) and −1000 (September credit) → 5600 + 5300 − 1000 = 9900.
    const priced = priceMonth(
      perReception,
      monthOf('2026-11', {
        days: [day('2026-11-02', 2, 2, 1)],
        lateAdjustments: [
          { month: '2026-10', description: 'receptions recorded after close', amountFen: 5300 },
          { month: '2026-09', description: 'duplicate consultation removed', amountFen: -1000 },
        ],
      }),
    );
    expect(priced.lines.slice(2).map((l) => [l.kind, l.quantity, l.unitFen, l.amountFen])).toEqual([
      ['adjustment', 1, 5300, 5300],
      ['adjustment', 1, -1000, -1000],
    ]);
    expect(priced.lines[2]?.description).toBe(
      'Late adjustment for 2026-10: receptions recorded after close',
    );
    expect(priced.totalFen).toBe(9900);
    expect(priced.inputs.baseFeeFen).toBe(5600);
  });

  it('derives the adjustment from repricing a final month with its late events', () => {
    // October final: 1 day, 10 receptions → 5000 + 3000 = 8000.
    // A late reception on a new day: 2 days, 11 receptions → 10000 + 3300 = 13300; adjustment +5300.
    const final = priceMonth(
      perReception,
      monthOf('2026-10', { days: [day('2026-10-01', 10, 10, 1)] }),
    );
    const withLate = monthOf('2026-10', {
      days: [day('2026-10-01', 10, 10, 1), day('2026-10-31', 1, 1, 1)],
    });
    expect(lateAdjustmentFor(final, withLate, 'late receptions')).toEqual({
      month: '2026-10',
      description: 'late receptions',
      amountFen: 5300,
    });
  });

  it("ignores the final month's own adjustments when taking the difference", () => {
    // September final under per_reception with a +700 adjustment for August: 5000 + 300 = 5300 charges.
    // Late: one more reception the same day → 5000 + 600 = 5600; adjustment +300, the +700 is not counted again.
    const september = monthOf('2026-09', {
      days: [day('2026-09-01', 1, 1, 1)],
      lateAdjustments: [{ month: '2026-08', description: 'late', amountFen: 700 }],
    });
    const final = priceMonth(perReception, september);
    const withLate = monthOf('2026-09', {
      days: [day('2026-09-01', 2, 2, 1)],
      lateAdjustments: september.lateAdjustments,
    });
    expect(lateAdjustmentFor(final, withLate, 'one more reception').amountFen).toBe(300);
  });

  it('refuses late events for another month', () => {
    const oct = priceMonth(perReception, monthOf('2026-10'));
    expect(() => lateAdjustmentFor(oct, monthOf('2026-11'), 'x')).toThrow(RangeError);
  });
});
