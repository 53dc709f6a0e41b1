import { formatYuan } from '../fen';
import { invoiceLine } from '../invoice-line';
import type { MonthMeasures } from '../month-measures';
import type { PerReceptionPlan } from '../plan-schema';
import type { ModelPricing } from '../priced-month';

/** A daily base for each day with at least one reception, plus a fee per reception. */
export function pricePerReception(plan: PerReceptionPlan, m: MonthMeasures): ModelPricing {
  const receptionDays = m.days.filter((d) => d.receptions > 0).length;
  return {
    lines: [
      invoiceLine(
        'reception_days',
        `Daily base, days with at least one reception: ${receptionDays} × ${formatYuan(plan.dailyBaseFen)} CNY`,
        receptionDays,
        plan.dailyBaseFen,
      ),
      invoiceLine(
        'receptions',
        `Receptions: ${m.receptions} × ${formatYuan(plan.perReceptionFen)} CNY`,
        m.receptions,
        plan.perReceptionFen,
      ),
    ],
    figures: { receptionDays, receptions: m.receptions },
  };
}
