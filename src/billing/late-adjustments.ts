import { invoiceLine, sumAmounts } from './invoice-line';
import type { LateAdjustment } from './month-measures';
import type { InvoiceLine, PricedMonth } from './priced-month';

/**
 * A final invoice never changes. Events that arrive for a month already final
 * are priced by re-running that month, and the difference is carried to the
 * next invoice as an adjustment line.
 */
export function adjustmentLines(adjustments: readonly LateAdjustment[]): InvoiceLine[] {
  return adjustments.map((a) =>
    invoiceLine('adjustment', `Late adjustment for ${a.month}: ${a.description}`, 1, a.amountFen),
  );
}

/**
 * The adjustment that settles a final month after late events: the repriced
 * month's charges minus the final invoice's, each without its own adjustment
 * lines (those belong to earlier months and were already settled).
 */
export function lateAdjustmentFor(finalInvoice: PricedMonth, repriced: PricedMonth, description: string): LateAdjustment {
  if (finalInvoice.inputs.month !== repriced.inputs.month || finalInvoice.inputs.shopId !== repriced.inputs.shopId) {
    throw new RangeError('a late adjustment compares two pricings of the same shop and month');
  }
  const charges = (p: PricedMonth) => sumAmounts(p.lines.filter((l) => l.kind !== 'adjustment'));
  return { month: finalInvoice.inputs.month, description, amountFen: charges(repriced) - charges(finalInvoice) };
}
