import { formatYuan } from '../fen';
import { invoiceLine } from '../invoice-line';
import type { DedicatedSeatPlan } from '../plan-schema';
import type { ModelPricing } from '../priced-month';

/** A fixed monthly salary per dedicated seat; no measured figure changes it. */
export function priceDedicatedSeat(plan: DedicatedSeatPlan): ModelPricing {
  return {
    lines: [
      invoiceLine(
        'seats',
        `Dedicated seats: ${plan.seats} × ${formatYuan(plan.monthlyFenPerSeat)} CNY a month`,
        plan.seats,
        plan.monthlyFenPerSeat,
      ),
    ],
    figures: { seats: plan.seats },
  };
}
