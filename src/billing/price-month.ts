import { AppError } from '../shared/errors';
import { overtimeLine } from './add-ons/overtime';
import { performanceLine } from './add-ons/performance';
import { adjustmentLines } from './adjustment-lines';
import { sumAmounts } from './invoice-line';
import { priceBaseCommission } from './models/base-commission';
import { priceDedicatedSeat } from './models/dedicated-seat';
import { priceMonthly } from './models/monthly';
import { pricePerDay } from './models/per-day';
import { pricePerReception } from './models/per-reception';
import { priceTiered } from './models/tiered';
import { type MonthMeasures, parseMonthMeasures } from './month-measures';
import { type Plan, storedPlanSchema } from './plan-schema';
import type { InvoiceLine, ModelPricing, PricedMonth, TargetCheck } from './priced-month';

export const ROUNDING_RULE = 'each line is computed exactly and rounded once to the fen, halves up';

/**
 * The one pricing function: the usage estimate (preview) and the month-close
 * invoice both call it, so a preview and the final invoice cannot disagree on
 * the same measures. Pure: no clock, no Redis.
 */
export function priceMonth(plan: Plan, measures: MonthMeasures): PricedMonth {
  const p = parsePlan(plan);
  const m = parseMonthMeasures(measures);
  const model = priceModel(p, m);
  const baseFeeFen = sumAmounts(model.lines);

  const lines: InvoiceLine[] = [...model.lines];
  if (p.overtime) lines.push(overtimeLine(p.overtime, m));
  let performance: TargetCheck | undefined;
  if (p.performance) {
    const bonus = performanceLine(p.performance, baseFeeFen, m);
    lines.push(bonus.line);
    performance = bonus.check;
  }
  lines.push(...adjustmentLines(m.lateAdjustments));

  return {
    currency: 'CNY',
    lines,
    totalFen: sumAmounts(lines),
    inputs: {
      shopId: m.shopId,
      month: m.month,
      timezone: m.timezone,
      daysInMonth: m.daysInMonth,
      model: p.model,
      figures: {
        ...model.figures,
        ...(p.overtime ? { overtimeHours: m.overtimeHours } : {}),
        ...(m.lateAdjustments.length > 0 ? { lateAdjustments: m.lateAdjustments.length } : {}),
      },
      ...(model.tier ? { tier: model.tier } : {}),
      ...(model.targets ? { targets: model.targets } : {}),
      ...(performance ? { performance } : {}),
      baseFeeFen,
      rounding: ROUNDING_RULE,
    },
    plan: p,
  };
}

function priceModel(plan: Plan, m: MonthMeasures): ModelPricing {
  switch (plan.model) {
    case 'tiered':
      return priceTiered(plan, m);
    case 'per_day':
      return pricePerDay(plan, m);
    case 'monthly':
      return priceMonthly(plan, m);
    case 'per_reception':
      return pricePerReception(plan, m);
    case 'dedicated_seat':
      return priceDedicatedSeat(plan);
    case 'base_commission':
      return priceBaseCommission(plan, m);
  }
}

/** A stored plan that no longer validates is a data bug: refuse to bill from it. */
function parsePlan(plan: Plan): Plan {
  const result = storedPlanSchema.safeParse(plan);
  if (result.success) return result.data;
  throw new AppError(500, 'invalid_plan', 'The shop plan is invalid and cannot be priced.', {
    details: {
      issues: result.error.issues.map((i) => `${i.path.join('.') || '(plan)'}: ${i.message}`),
    },
  });
}
