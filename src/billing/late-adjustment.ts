import { sumAmounts } from './invoice-line';
import type { LateAdjustment, MonthMeasures } from './month-measures';
import { priceMonth } from './price-month';
import type { PricedMonth } from './priced-month';

/**
 * A final invoice never changes. When events arrive for a month already final,
 * the month is priced again, with the plan of the final invoice, and the
 * difference is what the next invoice carries as an adjustment line. The
 * final month's own adjustment lines are left out of both sides: they settled
 * earlier months and do not change.
 */
export function lateAdjustmentFor(
  finalInvoice: PricedMonth,
  measuresWithLateEvents: MonthMeasures,
  description: string,
): LateAdjustment {
  const { shopId, month } = finalInvoice.inputs;
  if (measuresWithLateEvents.shopId !== shopId || measuresWithLateEvents.month !== month) {
    throw new RangeError(
      `late events must be for ${shopId} ${month}, the month of the final invoice`,
    );
  }
  const repriced = priceMonth(finalInvoice.plan, measuresWithLateEvents);
  const charges = (p: PricedMonth) => sumAmounts(p.lines.filter((l) => l.kind !== 'adjustment'));
  return { month, description, amountFen: charges(repriced) - charges(finalInvoice) };
}
