import { invoiceLine } from './invoice-line';
import type { LateAdjustment } from './month-measures';
import type { InvoiceLine } from './priced-month';

/** Late adjustments for earlier, final months, one signed line each, on the invoice being priced. */
export function adjustmentLines(adjustments: readonly LateAdjustment[]): InvoiceLine[] {
  return adjustments.map((a) =>
    invoiceLine('adjustment', `Late adjustment for ${a.month}: ${a.description}`, 1, a.amountFen),
  );
}
