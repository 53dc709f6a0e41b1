import { z } from 'zod';
import type { MeteredMonth } from '../metering/month-counters';
import { AppError } from '../shared/errors';
import { daysOfMonth, isDay, isMonth, isTimeZone } from '../shared/shop-calendar';

/**
 * What metering hands to pricing for one shop and one month: plain data, days
 * and the month taken in the shop's own time zone. Pricing decides on the
 * integer counters only (consultations, `totalResponseMs`, `ratingSum`, ...);
 * the derived averages and rates are there for display and must equal what
 * `buildMonthMeasures` computes from those counters.
 */

const count = z.number().int().nonnegative();
const signedFen = z.number().int().refine(Number.isSafeInteger, 'must be a safe integer');

export const dayMeasuresSchema = z
  .object({
    date: z.string().refine(isDay, 'must be a calendar day YYYY-MM-DD'),
    consultations: count,
    /** consultations of that day in which an agent replied at least once */
    receptions: count,
    /** distinct agents who replied for the shop that day */
    seatDays: count,
  })
  .strict();

export const lateAdjustmentSchema = z
  .object({
    /** the month, already final, that the late events belong to */
    month: z.string().refine(isMonth, 'must be YYYY-MM'),
    description: z.string().min(1),
    /** signed: a late event can raise or lower what that month should have cost */
    amountFen: signedFen,
  })
  .strict();

/** Hours are kept to the hundredth (36 s); metering should sum them as integer hundredths. */
const overtimeHours = z
  .number()
  .nonnegative()
  .refine(
    (h) => Math.abs(h * 100 - Math.round(h * 100)) < 1e-6,
    'overtime hours are recorded to 0.01 h',
  );

export const monthMeasuresSchema = z
  .object({
    shopId: z.string().min(1),
    month: z.string().refine(isMonth, 'must be YYYY-MM'),
    timezone: z.string().refine(isTimeZone, 'must be an IANA time zone'),
    /** calendar days of the month (28 to 31) */
    daysInMonth: z.number().int().min(28).max(31),
    /** one row per day with activity, in any order; days without a row count as zero */
    days: z.array(dayMeasuresSchema),
    consultations: count,
    receptions: count,
    seatDays: count,
    /** consultations / daysInMonth as a float: display only, pricing compares integers */
    averageDaily: z.number().nonnegative(),
    firstResponse: z
      .object({
        /** consultations that got a first agent reply */
        answered: count,
        /** sum over answered consultations of first-reply delay, in milliseconds */
        totalResponseMs: count,
        /** consultations answered within 180 s */
        within3Min: count,
        /** totalResponseMs / 1000 / answered; null when nothing was answered */
        averageSeconds: z.number().nonnegative().nullable(),
        /** within3Min / consultations (an unanswered consultation was not answered in time); null with no consultations */
        within3MinRate: z.number().min(0).max(1).nullable(),
      })
      .strict(),
    satisfaction: z
      .object({
        /** buyer ratings received, each an integer from 1 to 5 */
        ratings: count,
        ratingSum: count,
        /** ratingSum / ratings; null without ratings */
        average: z.number().min(1).max(5).nullable(),
      })
      .strict(),
    conversion: z
      .object({
        converted: count,
        /** converted / consultations; null with no consultations */
        rate: z.number().min(0).max(1).nullable(),
      })
      .strict(),
    /** paid orders attributed to a consultation within the plan's attribution window */
    attributedSalesFen: count,
    /** decimal hours recorded by the operator for the month */
    overtimeHours,
    lateAdjustments: z.array(lateAdjustmentSchema),
  })
  .strict()
  .superRefine((m, ctx) => {
    for (const message of consistencyProblems(m)) ctx.addIssue({ code: 'custom', message });
  });

export type DayMeasures = z.infer<typeof dayMeasuresSchema>;
export type LateAdjustment = z.infer<typeof lateAdjustmentSchema>;
export type MonthMeasures = z.infer<typeof monthMeasuresSchema>;

/** The raw counters metering keeps; everything else in MonthMeasures is derived from them. */
/** What pricing reads: the metered month and the late adjustments billing adds to it. */
export interface MonthCounters extends MeteredMonth {
  lateAdjustments: LateAdjustment[];
}

/** Derives totals, averages and rates the one way pricing accepts. */
export function buildMonthMeasures(c: MonthCounters): MonthMeasures {
  const daysInMonth = daysOfMonth(c.month).length;
  const sum = (pick: (d: DayMeasures) => number) => c.days.reduce((acc, d) => acc + pick(d), 0);
  const consultations = sum((d) => d.consultations);
  const { answered, totalResponseMs, within3Min } = c.firstResponse;
  const { ratings, ratingSum } = c.satisfaction;
  return {
    shopId: c.shopId,
    month: c.month,
    timezone: c.timezone,
    daysInMonth,
    days: c.days.map((d) => ({ ...d })),
    consultations,
    receptions: sum((d) => d.receptions),
    seatDays: sum((d) => d.seatDays),
    averageDaily: consultations / daysInMonth,
    firstResponse: {
      answered,
      totalResponseMs,
      within3Min,
      averageSeconds: averageSeconds(totalResponseMs, answered),
      within3MinRate: rateOf(within3Min, consultations),
    },
    satisfaction: { ratings, ratingSum, average: rateOf(ratingSum, ratings) },
    conversion: {
      converted: c.conversion.converted,
      rate: rateOf(c.conversion.converted, consultations),
    },
    attributedSalesFen: c.attributedSalesFen,
    overtimeHours: c.overtimeHours,
    lateAdjustments: c.lateAdjustments.map((a) => ({ ...a })),
  };
}

/**
 * Validates measures before they are priced. Inconsistent measures are a
 * metering bug, so this fails loudly instead of billing a wrong figure.
 */
export function parseMonthMeasures(input: unknown): MonthMeasures {
  const result = monthMeasuresSchema.safeParse(input);
  if (result.success) return result.data;
  throw new AppError(
    500,
    'inconsistent_measures',
    'The month measures given to pricing are invalid or inconsistent.',
    {
      details: {
        issues: result.error.issues.map((i) => `${i.path.join('.') || '(measures)'}: ${i.message}`),
      },
    },
  );
}

function averageSeconds(totalMs: number, answered: number): number | null {
  return answered === 0 ? null : totalMs / 1000 / answered;
}

function rateOf(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

function consistencyProblems(m: MonthMeasures): string[] {
  const problems: string[] = [];
  const expectedDays = daysOfMonth(m.month).length;
  if (m.daysInMonth !== expectedDays)
    problems.push(`daysInMonth is ${m.daysInMonth}, ${m.month} has ${expectedDays}`);
  const seen = new Set<string>();
  for (const d of m.days) {
    if (!d.date.startsWith(`${m.month}-`)) problems.push(`day ${d.date} is outside ${m.month}`);
    if (seen.has(d.date)) problems.push(`day ${d.date} appears twice`);
    seen.add(d.date);
    if (d.receptions > d.consultations)
      problems.push(`day ${d.date} has more receptions than consultations`);
  }
  const totals = { consultations: 0, receptions: 0, seatDays: 0 };
  for (const d of m.days) {
    totals.consultations += d.consultations;
    totals.receptions += d.receptions;
    totals.seatDays += d.seatDays;
  }
  for (const key of ['consultations', 'receptions', 'seatDays'] as const) {
    if (m[key] !== totals[key])
      problems.push(`${key} is ${m[key]} but the days add up to ${totals[key]}`);
  }
  if (m.averageDaily !== m.consultations / m.daysInMonth)
    problems.push('averageDaily is not consultations / daysInMonth');
  const fr = m.firstResponse;
  if (fr.answered > m.consultations) problems.push('firstResponse.answered exceeds consultations');
  if (fr.within3Min > fr.answered) problems.push('firstResponse.within3Min exceeds answered');
  if (fr.averageSeconds !== averageSeconds(fr.totalResponseMs, fr.answered))
    problems.push('firstResponse.averageSeconds is not totalResponseMs / 1000 / answered');
  if (fr.within3MinRate !== rateOf(fr.within3Min, m.consultations))
    problems.push('firstResponse.within3MinRate is not within3Min / consultations');
  const s = m.satisfaction;
  if (s.ratingSum < s.ratings || s.ratingSum > 5 * s.ratings)
    problems.push('satisfaction.ratingSum must lie between 1 and 5 per rating');
  if (s.average !== rateOf(s.ratingSum, s.ratings))
    problems.push('satisfaction.average is not ratingSum / ratings');
  if (m.conversion.converted > m.consultations)
    problems.push('conversion.converted exceeds consultations');
  if (m.conversion.rate !== rateOf(m.conversion.converted, m.consultations))
    problems.push('conversion.rate is not converted / consultations');
  for (const a of m.lateAdjustments) {
    if (!(a.month < m.month))
      problems.push(`late adjustment for ${a.month} is not for a month before ${m.month}`);
  }
  return problems;
}
