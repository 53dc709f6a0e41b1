import { formatYuan } from '../fen';
import { invoiceLine } from '../invoice-line';
import type { MonthMeasures } from '../month-measures';
import type { BaseCommissionPlan } from '../plan-schema';
import type { ModelPricing } from '../priced-month';

/** A monthly base plus commissionPercent of the sales attributed to consultations, rounded once. */
export function priceBaseCommission(plan: BaseCommissionPlan, m: MonthMeasures): ModelPricing {
  return {
    lines: [
      invoiceLine(
        'base',
        `Monthly base ${formatYuan(plan.monthlyBaseFen)} CNY`,
        1,
        plan.monthlyBaseFen,
      ),
      invoiceLine(
        'commission',
        `Commission ${plan.commissionPercent}% of ${formatYuan(m.attributedSalesFen)} CNY of orders paid within ${plan.attributionDays} days of a consultation`,
        1,
        m.attributedSalesFen,
        plan.commissionPercent,
      ),
    ],
    figures: { attributedSalesFen: m.attributedSalesFen, attributionDays: plan.attributionDays },
  };
}
