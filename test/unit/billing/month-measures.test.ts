import { describe, expect, it } from 'vitest';
import { type MonthMeasures, parseMonthMeasures } from '../../../src/billing/month-measures';
import type { Plan } from '../../../src/billing/plan-schema';
import { priceMonth } from '../../../src/billing/price-month';
import { AppError } from '../../../src/shared/errors';
import { day, monthOf, plan } from './month-fixture';

const seats = plan({ model: 'dedicated_seat', seats: 1, monthlyFenPerSeat: 600000 });

function rejection(m: MonthMeasures): string[] {
  try {
    parseMonthMeasures(m);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('inconsistent_measures');
    return (error as AppError).details?.issues as string[];
  }
  throw new Error('measures were accepted');
}

describe('month measures', () => {
  it('derives totals, averages and rates from the raw counters', () => {
    const m = monthOf('2026-03', {
      days: [day('2026-03-01', 20, 18, 2), day('2026-03-02', 11, 11, 1)],
      firstResponse: { answered: 29, totalResponseMs: 1_450_000, within3Min: 27 },
      satisfaction: { ratings: 4, ratingSum: 18 },
      conversion: { converted: 3 },
    });
    expect(m).toMatchObject({
      daysInMonth: 31,
      consultations: 31,
      receptions: 29,
      seatDays: 3,
      averageDaily: 1, // 31 / 31
      firstResponse: { averageSeconds: 50, within3MinRate: 27 / 31 }, // 1450 s / 29; 27 of 31 consultations
      satisfaction: { average: 4.5 }, // 18 / 4
      conversion: { rate: 3 / 31 },
    });
    expect(parseMonthMeasures(m)).toEqual(m);
  });

  it('uses null for measures without data', () => {
    const m = monthOf('2026-03');
    expect(m.firstResponse.averageSeconds).toBeNull();
    expect(m.firstResponse.within3MinRate).toBeNull();
    expect(m.satisfaction.average).toBeNull();
    expect(m.conversion.rate).toBeNull();
  });

  it('rejects totals that do not add up to the days', () => {
    const m = {
      ...monthOf('2026-03', { days: [day('2026-03-01', 20, 18, 2)] }),
      consultations: 21,
    };
    expect(rejection(m)).toContainEqual(
      expect.stringContaining('consultations is 21 but the days add up to 20'),
    );
  });

  it('rejects a day outside the month, a repeated day and more receptions than consultations', () => {
    const m = monthOf('2026-03', {
      days: [day('2026-04-01', 1, 0, 0), day('2026-03-02', 1, 0, 0), day('2026-03-02', 1, 2, 1)],
    });
    const issues = rejection(m);
    expect(issues).toContainEqual(expect.stringContaining('day 2026-04-01 is outside 2026-03'));
    expect(issues).toContainEqual(expect.stringContaining('day 2026-03-02 appears twice'));
    expect(issues).toContainEqual(expect.stringContaining('more receptions than consultations'));
  });

  it('rejects a wrong daysInMonth, a stale average and an adjustment for the same month', () => {
    const base = monthOf('2026-02', { days: [day('2026-02-01', 10, 10, 1)] });
    expect(rejection({ ...base, daysInMonth: 30 })).toContainEqual(
      expect.stringContaining('2026-02 has 28'),
    );
    expect(rejection({ ...base, averageDaily: 10 / 30 })).toContainEqual(
      expect.stringContaining('averageDaily'),
    );
    const sameMonth = monthOf('2026-02', {
      lateAdjustments: [{ month: '2026-02', description: 'x', amountFen: 1 }],
    });
    expect(rejection(sameMonth)).toContainEqual(
      expect.stringContaining('not for a month before 2026-02'),
    );
  });

  it('rejects overtime hours finer than a hundredth and an unknown time zone', () => {
    expect(rejection(monthOf('2026-03', { overtimeHours: 1.234 })).join()).toContain('0.01 h');
    expect(rejection(monthOf('2026-03', { timezone: 'Mars/Olympus' })).join()).toContain('IANA');
  });

  it('makes priceMonth refuse inconsistent measures and invalid plans instead of billing them', () => {
    const bad = { ...monthOf('2026-03'), seatDays: 4 };
    expect(() => priceMonth(seats, bad)).toThrow(AppError);
    const broken = { model: 'dedicated_seat', seats: 0, monthlyFenPerSeat: 600000 } as Plan;
    expect(() => priceMonth(broken, monthOf('2026-03'))).toThrow(
      expect.objectContaining({ code: 'invalid_plan' }),
    );
  });

  it('records the shop, month and zone the invoice was priced for', () => {
    const priced = priceMonth(seats, monthOf('2026-03', { timezone: 'America/Los_Angeles' }));
    expect(priced.inputs).toMatchObject({
      shopId: 'shop-1',
      month: '2026-03',
      timezone: 'America/Los_Angeles',
      daysInMonth: 31,
      model: 'dedicated_seat',
      rounding: expect.stringContaining('halves up'),
    });
    expect(priced.currency).toBe('CNY');
    expect(priced.plan).toEqual(seats);
  });
});
