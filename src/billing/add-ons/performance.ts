import { formatYuan } from '../fen';
import { invoiceLine } from '../invoice-line';
import type { MonthMeasures } from '../month-measures';
import type { PerformanceAddOn } from '../plan-schema';
import type { InvoiceLine, TargetCheck } from '../priced-month';
import { checkTarget } from '../targets';

/**
 * Performance bonus: bonusPercent of the base fee (the plan model's own lines,
 * before overtime and adjustments) when buyer satisfaction reaches the minimum.
 * A missed bonus stays on the invoice as a zero line so the owner sees why.
 */
export function performanceLine(
  addOn: PerformanceAddOn,
  baseFeeFen: number,
  m: MonthMeasures,
): { line: InvoiceLine; check: TargetCheck } {
  const check = checkTarget('minSatisfaction', addOn.minSatisfaction, m);
  const line = invoiceLine(
    'performance',
    check.met
      ? `Performance bonus ${addOn.bonusPercent}% of the ${formatYuan(baseFeeFen)} CNY base fee: ${check.summary}`
      : `Performance bonus ${addOn.bonusPercent}%: not earned (${check.summary})`,
    check.met ? 1 : 0,
    baseFeeFen,
    addOn.bonusPercent,
  );
  return { line, check };
}
