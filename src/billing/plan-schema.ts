import { z } from 'zod';

/**
 * The largest amount a new plan may name: 10,000,000 CNY. Invoice lines
 * multiply plan amounts by counts (seats, seat-days, receptions, overtime
 * hours) and must stay safe integers; an amount that overflowed would fail
 * every read of the shop's usage and invoices, and the month report of every
 * shop. The caps apply to plans given (create, PATCH, preview), not to plans
 * already stored: those were valid when written and must still be read.
 */
export const MAX_PLAN_FEN = 1_000_000_000;
export const MAX_SEATS = 10_000;

/** Integer fen, never negative. Money is never a float anywhere in Seatmate. */
const anyFen = z.number().int().nonnegative();
export const fen = anyFen.max(MAX_PLAN_FEN, `must be at most ${MAX_PLAN_FEN} fen (10,000,000 CNY)`);
const anySeats = z.number().int().positive();
const percent = z.number().min(0).max(100);

/** The plan models over an amount and a seat count type: capped for input, plain for stored plans. */
function planModels(fen: z.ZodNumber, seats: z.ZodNumber) {
  /** Overtime is usually billed above the base rate (150%, 200%), so its percent may exceed 100. */
  const overtime = z
    .object({ hourlyBaseFen: fen, ratePercent: z.number().min(0).max(500) })
    .strict();
  const performance = z
    .object({ minSatisfaction: z.number().min(1).max(5), bonusPercent: percent })
    .strict();
  const addOns = { overtime: overtime.optional(), performance: performance.optional() };

  const tieredPlan = z
    .object({
      model: z.literal('tiered'),
      tiers: z
        .array(
          z
            .object({ upToAverageDaily: z.number().nonnegative().nullable(), monthlyFen: fen })
            .strict(),
        )
        .min(1),
      ...addOns,
    })
    .strict()
    .refine((p) => p.tiers[p.tiers.length - 1]?.upToAverageDaily === null, {
      message: 'the last tier must have upToAverageDaily: null (no upper bound)',
      path: ['tiers'],
    })
    .refine(
      (p) =>
        p.tiers
          .slice(0, -1)
          .every(
            (t, i, arr) =>
              t.upToAverageDaily !== null &&
              (i === 0 || t.upToAverageDaily > (arr[i - 1]!.upToAverageDaily as number)),
          ),
      {
        message: 'tiers must be in increasing upToAverageDaily order, only the last one null',
        path: ['tiers'],
      },
    );

  const perDayPlan = z
    .object({
      model: z.literal('per_day'),
      dayRateFen: z
        .object({ online: fen.optional(), inbound: fen.optional(), outbound: fen.optional() })
        .strict(),
      channel: z.enum(['online', 'inbound', 'outbound']).default('online'),
      ...addOns,
    })
    .strict()
    .refine((p) => p.dayRateFen[p.channel] !== undefined, {
      message: 'dayRateFen must give a rate for the plan channel',
      path: ['dayRateFen'],
    });

  const monthlyPlan = z
    .object({
      model: z.literal('monthly'),
      monthlyFen: fen,
      holdbackPercent: percent.default(0),
      targets: z
        .object({
          maxAverageFirstResponseSeconds: z.number().positive().optional(),
          minWithin3MinRate: z.number().min(0).max(1).optional(),
          minSatisfaction: z.number().min(1).max(5).optional(),
        })
        .strict()
        .default({}),
      ...addOns,
    })
    .strict();

  const perReceptionPlan = z
    .object({
      model: z.literal('per_reception'),
      dailyBaseFen: fen,
      perReceptionFen: fen,
      ...addOns,
    })
    .strict();

  const dedicatedSeatPlan = z
    .object({
      model: z.literal('dedicated_seat'),
      seats,
      monthlyFenPerSeat: fen,
      ...addOns,
    })
    .strict();

  const baseCommissionPlan = z
    .object({
      model: z.literal('base_commission'),
      monthlyBaseFen: fen,
      commissionPercent: percent,
      attributionDays: z.number().int().positive().default(7),
      ...addOns,
    })
    .strict();

  return {
    overtime,
    performance,
    plan: z.discriminatedUnion('model', [
      tieredPlan,
      perDayPlan,
      monthlyPlan,
      perReceptionPlan,
      dedicatedSeatPlan,
      baseCommissionPlan,
    ]),
  };
}

const given = planModels(fen, anySeats.max(MAX_SEATS, `must be at most ${MAX_SEATS}`));
/** A plan as given to the API: amounts and seats capped (see MAX_PLAN_FEN). */
export const planSchema = given.plan;
/** A plan as stored: read without the caps, which came after some plans were saved. */
export const storedPlanSchema = planModels(anyFen, anySeats).plan;

export type Plan = z.infer<typeof planSchema>;
export type PlanModel = Plan['model'];
/** Every plan model's name, for filters and forms. */
export const PLAN_MODELS = planSchema.options.map((o) => o.shape.model.value) as [
  PlanModel,
  ...PlanModel[],
];

export type TieredPlan = Extract<Plan, { model: 'tiered' }>;
export type PerDayPlan = Extract<Plan, { model: 'per_day' }>;
export type MonthlyPlan = Extract<Plan, { model: 'monthly' }>;
export type PerReceptionPlan = Extract<Plan, { model: 'per_reception' }>;
export type DedicatedSeatPlan = Extract<Plan, { model: 'dedicated_seat' }>;
export type BaseCommissionPlan = Extract<Plan, { model: 'base_commission' }>;
export type OvertimeAddOn = z.infer<typeof given.overtime>;
export type PerformanceAddOn = z.infer<typeof given.performance>;
