import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildMonthMeasures,
  type DayMeasures,
  type MonthMeasures,
} from '../../../src/billing/month-measures';
import { type Plan, planSchema } from '../../../src/billing/plan-schema';
import { priceMonth } from '../../../src/billing/price-month';

const MONTHS = ['2026-02', '2028-02', '2026-04', '2026-03'] as const;
const DAYS_IN = { '2026-02': 28, '2028-02': 29, '2026-04': 30, '2026-03': 31 } as const;

const fenArb = fc.integer({ min: 0, max: 2_000_000 });
/** Percents as operators type them: whole, tenths or hundredths (3, 3.5, 1.15). */
const percentArb = fc
  .integer({ min: 0, max: 10_000 })
  .chain((n) => fc.constantFrom(n / 100, Math.round(n / 10) / 10, Math.round(n / 100)));
const satisfactionArb = fc.integer({ min: 10, max: 50 }).map((n) => n / 10);
const addOnsArb = fc.record(
  {
    overtime: fc.record({ hourlyBaseFen: fenArb, ratePercent: fc.integer({ min: 0, max: 300 }) }),
    performance: fc.record({ minSatisfaction: satisfactionArb, bonusPercent: percentArb }),
  },
  { requiredKeys: [] },
);

const modelArb = fc.oneof(
  fc
    .uniqueArray(fc.integer({ min: 1, max: 2000 }), { minLength: 0, maxLength: 4 })
    .chain((bounds) =>
      fc.tuple(
        fc.constant(bounds.sort((a, b) => a - b).map((b) => b / 10)),
        fc.array(fenArb, { minLength: bounds.length + 1, maxLength: bounds.length + 1 }),
      ),
    )
    .map(([bounds, fees]) => ({
      model: 'tiered',
      tiers: [...bounds, null].map((upToAverageDaily, i) => ({
        upToAverageDaily,
        monthlyFen: fees[i] ?? 0,
      })),
    })),
  fc.record({
    model: fc.constant('per_day'),
    dayRateFen: fc.record({ online: fenArb, inbound: fenArb, outbound: fenArb }),
    channel: fc.constantFrom('online', 'inbound', 'outbound'),
  }),
  fc.record({
    model: fc.constant('monthly'),
    monthlyFen: fenArb,
    holdbackPercent: percentArb,
    targets: fc.record(
      {
        maxAverageFirstResponseSeconds: fc.integer({ min: 1, max: 600 }),
        minWithin3MinRate: fc.integer({ min: 0, max: 100 }).map((n) => n / 100),
        minSatisfaction: satisfactionArb,
      },
      { requiredKeys: [] },
    ),
  }),
  fc.record({ model: fc.constant('per_reception'), dailyBaseFen: fenArb, perReceptionFen: fenArb }),
  fc.record({
    model: fc.constant('dedicated_seat'),
    seats: fc.integer({ min: 1, max: 20 }),
    monthlyFenPerSeat: fenArb,
  }),
  fc.record({
    model: fc.constant('base_commission'),
    monthlyBaseFen: fenArb,
    commissionPercent: percentArb,
  }),
);

const planArb: fc.Arbitrary<Plan> = fc
  .tuple(modelArb, addOnsArb)
  .map(([model, addOns]) => planSchema.parse({ ...model, ...addOns }));

const measuresArb: fc.Arbitrary<MonthMeasures> = fc.constantFrom(...MONTHS).chain((month) =>
  fc
    .record({
      days: fc.uniqueArray(
        fc.record({
          day: fc.integer({ min: 1, max: DAYS_IN[month] }),
          consultations: fc.integer({ min: 0, max: 400 }),
          receptionShare: fc.integer({ min: 0, max: 100 }),
          seatDays: fc.integer({ min: 0, max: 6 }),
        }),
        { selector: (d) => d.day, maxLength: DAYS_IN[month] },
      ),
      answeredShare: fc.integer({ min: 0, max: 100 }),
      within3MinShare: fc.integer({ min: 0, max: 100 }),
      averageResponseMs: fc.integer({ min: 0, max: 600_000 }),
      ratings: fc.integer({ min: 0, max: 200 }),
      ratingShare: fc.integer({ min: 0, max: 100 }),
      convertedShare: fc.integer({ min: 0, max: 100 }),
      attributedSalesFen: fc.integer({ min: 0, max: 100_000_000 }),
      overtimeHundredths: fc.integer({ min: 0, max: 20_000 }),
      adjustments: fc.array(
        fc.record({
          back: fc.integer({ min: 1, max: 3 }),
          amountFen: fc.integer({ min: -500_000, max: 500_000 }),
        }),
        { maxLength: 3 },
      ),
    })
    .map((r) => {
      const days: DayMeasures[] = r.days.map((d) => ({
        date: `${month}-${String(d.day).padStart(2, '0')}`,
        consultations: d.consultations,
        receptions: Math.floor((d.consultations * d.receptionShare) / 100),
        seatDays: d.seatDays,
      }));
      const consultations = days.reduce((a, d) => a + d.consultations, 0);
      const answered = Math.floor((consultations * r.answeredShare) / 100);
      return buildMonthMeasures({
        shopId: 'shop-p',
        month,
        timezone: 'Asia/Shanghai',
        days,
        firstResponse: {
          answered,
          totalResponseMs: answered * r.averageResponseMs,
          within3Min: Math.floor((answered * r.within3MinShare) / 100),
        },
        satisfaction: {
          ratings: r.ratings,
          ratingSum: r.ratings + Math.floor((4 * r.ratings * r.ratingShare) / 100),
        },
        conversion: { converted: Math.floor((consultations * r.convertedShare) / 100) },
        attributedSalesFen: r.attributedSalesFen,
        overtimeHours: r.overtimeHundredths / 100,
        lateAdjustments: r.adjustments.map((a, i) => ({
          month: `2025-${String(13 - a.back).padStart(2, '0')}`,
          description: `late events ${i}`,
          amountFen: a.amountFen,
        })),
      });
    }),
);

describe('priceMonth properties', () => {
  it('bills integer fen lines whose sum is the total, each within half a fen of its exact product', () => {
    fc.assert(
      fc.property(planArb, measuresArb, (plan, measures) => {
        const priced = priceMonth(plan, measures);
        expect(Number.isSafeInteger(priced.totalFen)).toBe(true);
        expect(priced.totalFen).toBe(priced.lines.reduce((a, l) => a + l.amountFen, 0));
        for (const line of priced.lines) {
          expect(Number.isSafeInteger(line.amountFen)).toBe(true);
          // A float estimate of the line is enough to catch a wrong formula; the exact value is what is billed.
          const estimate = (line.quantity * line.unitFen * (line.percent ?? 100)) / 100;
          expect(Math.abs(line.amountFen - estimate)).toBeLessThanOrEqual(
            0.5 + 1e-6 * Math.abs(estimate),
          );
        }
      }),
    );
  });

  it('gives the same invoice whatever the order of the days', () => {
    fc.assert(
      fc.property(
        planArb,
        measuresArb,
        fc.array(fc.integer(), { minLength: 31, maxLength: 31 }),
        (plan, measures, keys) => {
          const shuffled = measures.days
            .map((d, i) => ({ d, key: keys[i] ?? 0, i }))
            .sort((a, b) => a.key - b.key || b.i - a.i)
            .map((x) => x.d);
          expect(priceMonth(plan, { ...measures, days: shuffled })).toEqual(
            priceMonth(plan, measures),
          );
        },
      ),
    );
  });

  it('never picks a lower tier for a busier month', () => {
    fc.assert(
      fc.property(
        planArb,
        measuresArb,
        fc.integer({ min: 1, max: 500 }),
        (plan, measures, extra) => {
          fc.pre(plan.model === 'tiered' && measures.days.length > 0);
          const [first, ...rest] = measures.days;
          if (!first) return;
          const busier = buildMonthMeasures({
            ...measures,
            days: [{ ...first, consultations: first.consultations + extra }, ...rest],
          });
          const before = priceMonth(plan, measures).inputs.tier?.index ?? -1;
          const after = priceMonth(plan, busier).inputs.tier?.index ?? -1;
          expect(after).toBeGreaterThanOrEqual(before);
        },
      ),
    );
  });

  it('splits a monthly fee into base and holdback that add up to the fee', () => {
    fc.assert(
      fc.property(planArb, measuresArb, (plan, measures) => {
        fc.pre(plan.model === 'monthly');
        if (plan.model !== 'monthly') return;
        const [base, holdback] = priceMonth(plan, measures).lines;
        expect((base?.unitFen ?? 0) + (holdback?.kind === 'holdback' ? holdback.unitFen : 0)).toBe(
          plan.monthlyFen,
        );
      }),
    );
  });
});
