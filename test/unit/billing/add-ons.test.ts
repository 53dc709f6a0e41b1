import { describe, expect, it } from 'vitest';
import { priceMonth } from '../../../src/billing/price-month';
import { day, monthOf, plan } from './month-fixture';

describe('overtime add-on', () => {
  const seats = { model: 'dedicated_seat', seats: 1, monthlyFenPerSeat: 600000 } as const;

  it('bills fractional hours × hourly base × rate, rounded once', () => {
    // 2.5 h × 3000 fen × 150% = 11250 fen; total 600000 + 11250 = 611250.
    const p = plan({ ...seats, overtime: { hourlyBaseFen: 3000, ratePercent: 150 } });
    const priced = priceMonth(p, monthOf('2026-11', { overtimeHours: 2.5 }));
    expect(priced.lines[1]).toMatchObject({
      kind: 'overtime',
      quantity: 2.5,
      unitFen: 3000,
      percent: 150,
      amountFen: 11250,
    });
    expect(priced.totalFen).toBe(611250);
  });

  it('rounds the product of hours and rate once, half up', () => {
    // 1.25 h × 3333 × 150% = 6249.375 → 6249.
    const p = plan({ ...seats, overtime: { hourlyBaseFen: 3333, ratePercent: 150 } });
    expect(priceMonth(p, monthOf('2026-11', { overtimeHours: 1.25 })).lines[1]?.amountFen).toBe(
      6249,
    );
    // 0.5 h × 3333 × 150% = 2499.75 → 2500.
    expect(priceMonth(p, monthOf('2026-11', { overtimeHours: 0.5 })).lines[1]?.amountFen).toBe(
      2500,
    );
    // 0.5 h × 3333 × 100% = 1666.5 → 1667 (an exact half goes up).
    const plain = plan({ ...seats, overtime: { hourlyBaseFen: 3333, ratePercent: 100 } });
    expect(priceMonth(plain, monthOf('2026-11', { overtimeHours: 0.5 })).lines[1]?.amountFen).toBe(
      1667,
    );
  });

  it('reads hours summed in floats as hundredths: 0.1 + 0.2 h is 0.3 h', () => {
    // 0.3 h × 10000 × 150% = 4500 fen.
    const p = plan({ ...seats, overtime: { hourlyBaseFen: 10000, ratePercent: 150 } });
    const line = priceMonth(p, monthOf('2026-11', { overtimeHours: 0.1 + 0.2 })).lines[1];
    expect(line).toMatchObject({ quantity: 0.3, amountFen: 4500 });
  });

  it('shows a zero line when the plan has overtime but none was recorded', () => {
    const p = plan({ ...seats, overtime: { hourlyBaseFen: 3000, ratePercent: 150 } });
    const priced = priceMonth(p, monthOf('2026-11'));
    expect(priced.lines[1]).toMatchObject({ kind: 'overtime', quantity: 0, amountFen: 0 });
    expect(priced.totalFen).toBe(600000);
  });
});

describe('performance add-on', () => {
  const seats = plan({
    model: 'dedicated_seat',
    seats: 2,
    monthlyFenPerSeat: 600000,
    performance: { minSatisfaction: 4.5, bonusPercent: 5 },
  });

  it('adds bonusPercent of the base fee when satisfaction reaches the minimum', () => {
    // Base fee 2 × 600000 = 1200000; satisfaction 46 / 10 = 4.6 ≥ 4.5 → 5% × 1200000 = 60000.
    const priced = priceMonth(
      seats,
      monthOf('2026-11', { satisfaction: { ratings: 10, ratingSum: 46 } }),
    );
    expect(priced.lines[1]).toMatchObject({
      kind: 'performance',
      quantity: 1,
      unitFen: 1200000,
      percent: 5,
      amountFen: 60000,
    });
    expect(priced.totalFen).toBe(1260000);
    expect(priced.inputs.performance).toMatchObject({ target: 4.5, measured: 4.6, met: true });
  });

  it('earns nothing below the minimum, and nothing without ratings', () => {
    // 44 / 10 = 4.4 < 4.5 → zero line.
    const low = priceMonth(
      seats,
      monthOf('2026-11', { satisfaction: { ratings: 10, ratingSum: 44 } }),
    );
    expect(low.lines[1]).toMatchObject({ kind: 'performance', quantity: 0, amountFen: 0 });
    expect(low.lines[1]?.description).toBe(
      'Performance bonus 5%: not earned (satisfaction 4.40 < 4.5)',
    );
    expect(low.totalFen).toBe(1200000);
    const unrated = priceMonth(seats, monthOf('2026-11'));
    expect(unrated.inputs.performance).toMatchObject({
      measured: null,
      met: false,
      summary: 'satisfaction: no data, counts as missed',
    });
    expect(unrated.totalFen).toBe(1200000);
  });

  it('takes the base fee before add-ons: overtime does not earn a bonus', () => {
    // Model lines 1200000 (the base fee); overtime 10 h × 3000 × 150% = 45000;
    // bonus 5% × 1200000 = 60000 (not of 1245000); total 1200000 + 45000 + 60000 = 1305000.
    const both = plan({
      model: 'dedicated_seat',
      seats: 2,
      monthlyFenPerSeat: 600000,
      overtime: { hourlyBaseFen: 3000, ratePercent: 150 },
      performance: { minSatisfaction: 4.5, bonusPercent: 5 },
    });
    const priced = priceMonth(
      both,
      monthOf('2026-11', { overtimeHours: 10, satisfaction: { ratings: 2, ratingSum: 10 } }),
    );
    expect(priced.lines.map((l) => [l.kind, l.amountFen])).toEqual([
      ['seats', 1200000],
      ['overtime', 45000],
      ['performance', 60000],
    ]);
    expect(priced.inputs.baseFeeFen).toBe(1200000);
    expect(priced.totalFen).toBe(1305000);
  });

  it('counts a withheld holdback out of the base fee', () => {
    // Monthly 800000, 15% holdback missed (first response 90 s > 60): base fee = 680000;
    // satisfaction 5.0 ≥ 4.5 → bonus 5% × 680000 = 34000; total 714000.
    const monthly = plan({
      model: 'monthly',
      monthlyFen: 800000,
      holdbackPercent: 15,
      targets: { maxAverageFirstResponseSeconds: 60 },
      performance: { minSatisfaction: 4.5, bonusPercent: 5 },
    });
    const priced = priceMonth(
      monthly,
      monthOf('2026-11', {
        days: [day('2026-11-05', 1, 1, 1)],
        firstResponse: { answered: 1, totalResponseMs: 90_000, within3Min: 1 },
        satisfaction: { ratings: 1, ratingSum: 5 },
      }),
    );
    expect(priced.inputs.baseFeeFen).toBe(680000);
    expect(priced.lines.at(-1)).toMatchObject({ kind: 'performance', amountFen: 34000 });
    expect(priced.totalFen).toBe(714000);
  });
});
