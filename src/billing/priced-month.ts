import type { Plan, PlanModel } from './plan-schema';

export type LineKind =
  | 'tier'
  | 'seat_days'
  | 'monthly_base'
  | 'holdback'
  | 'reception_days'
  | 'receptions'
  | 'seats'
  | 'base'
  | 'commission'
  | 'overtime'
  | 'performance'
  | 'adjustment';

/**
 * One invoice line. Every line obeys
 * `amountFen = roundHalfUp(quantity × unitFen × (percent ?? 100) / 100)`,
 * computed exactly and rounded once, so an owner can redo it by hand.
 */
export interface InvoiceLine {
  kind: LineKind;
  description: string;
  /** units billed: seat-days, receptions, seats, hours (decimal only for overtime), or 1 for a flat fee */
  quantity: number;
  /** integer fen per unit; on a percentage line, the amount the percentage applies to */
  unitFen: number;
  /** only on percentage lines (commission, overtime rate, performance bonus) */
  percent?: number;
  amountFen: number;
}

/** A target of the plan next to the figure measured for the month. */
export interface TargetCheck {
  name: 'maxAverageFirstResponseSeconds' | 'minWithin3MinRate' | 'minSatisfaction';
  target: number;
  /** null when the month has no data for it, which counts as not met */
  measured: number | null;
  met: boolean;
  /** how `met` was decided, in words, with the exact integers compared */
  rule: string;
  /** the measured value against the target, rounded for reading */
  summary: string;
}

export interface TierChoice {
  /** 0-based position in plan.tiers */
  index: number;
  upToAverageDaily: number | null;
  monthlyFen: number;
  rule: string;
}

export interface PricingInputs {
  shopId: string;
  month: string;
  timezone: string;
  daysInMonth: number;
  model: PlanModel;
  /** every measured figure the lines or conditions used, by name */
  figures: Record<string, number | string | null>;
  tier?: TierChoice;
  /** monthly plan: the holdback targets */
  targets?: TargetCheck[];
  /** performance add-on: its satisfaction condition */
  performance?: TargetCheck;
  /** sum of the plan model's own lines, before add-ons and adjustments: what the performance bonus is a percentage of */
  baseFeeFen: number;
  rounding: string;
}

export interface PricedMonth {
  currency: 'CNY';
  lines: InvoiceLine[];
  /** sum of every line's amountFen; negative only when late credits exceed the month */
  totalFen: number;
  inputs: PricingInputs;
  plan: Plan;
}

/** What a plan model contributes before add-ons. */
export interface ModelPricing {
  lines: InvoiceLine[];
  figures: Record<string, number | string | null>;
  tier?: TierChoice;
  targets?: TargetCheck[];
}
