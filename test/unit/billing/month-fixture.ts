import {
  buildMonthMeasures,
  type DayMeasures,
  type MonthCounters,
  type MonthMeasures,
} from '../../../src/billing/month-measures';
import { type Plan, planSchema } from '../../../src/billing/plan-schema';

/** Measures for one month built the way metering will: raw counters in, derived fields computed. */
export function monthOf(
  month: string,
  counters: Partial<Omit<MonthCounters, 'month'>> = {},
): MonthMeasures {
  return buildMonthMeasures({
    shopId: 'shop-1',
    month,
    timezone: 'Asia/Shanghai',
    days: [],
    firstResponse: { answered: 0, totalResponseMs: 0, within3Min: 0 },
    satisfaction: { ratings: 0, ratingSum: 0 },
    conversion: { converted: 0 },
    attributedSalesFen: 0,
    overtimeHours: 0,
    lateAdjustments: [],
    ...counters,
  });
}

/** `count` consultations spread over the first days of the month, as evenly as integers allow. */
export function spread(month: string, count: number, activeDays: number): DayMeasures[] {
  return Array.from({ length: activeDays }, (_, i) => ({
    date: `${month}-${String(i + 1).padStart(2, '0')}`,
    consultations: Math.floor(count / activeDays) + (i < count % activeDays ? 1 : 0),
    receptions: 0,
    seatDays: 0,
  }));
}

export function day(
  date: string,
  consultations: number,
  receptions: number,
  seatDays: number,
): DayMeasures {
  return { date, consultations, receptions, seatDays };
}

/** Plans go through the schema, as they do when stored, so defaults apply. */
export function plan(input: unknown): Plan {
  return planSchema.parse(input);
}
