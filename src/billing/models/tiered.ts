import { compareRatios, exactDecimal, formatRatio, ratio } from '../exact-decimal';
import { formatYuan } from '../fen';
import { invoiceLine } from '../invoice-line';
import type { MonthMeasures } from '../month-measures';
import type { TieredPlan } from '../plan-schema';
import type { ModelPricing } from '../priced-month';

/**
 * Volume pricing: the month's average daily consultations picks one tier and
 * the whole month costs that tier's fee (the source settles it by "looking at
 * last month's daily average" at the start of the month, one lookup, not a sum
 * over tiers). Bounds are inclusive and compared as integers,
 * consultations × 10^k ≤ upTo × 10^k × days, so 1550 in 31 days is exactly 50.
 */
export function priceTiered(plan: TieredPlan, m: MonthMeasures): ModelPricing {
  const average = ratio(m.consultations, m.daysInMonth);
  const index = plan.tiers.findIndex(
    (t) =>
      t.upToAverageDaily === null || compareRatios(average, exactDecimal(t.upToAverageDaily)) <= 0,
  );
  const tier = plan.tiers[index];
  if (!tier) throw new RangeError('tiered plan has no open-ended last tier');
  const previous = plan.tiers[index - 1];
  const shown = formatRatio(average, 2);
  const bound =
    tier.upToAverageDaily === null
      ? previous?.upToAverageDaily != null
        ? `above ${previous.upToAverageDaily}`
        : 'any volume'
      : previous?.upToAverageDaily != null
        ? `over ${previous.upToAverageDaily} and up to ${tier.upToAverageDaily}`
        : `up to ${tier.upToAverageDaily}`;
  const rule =
    tier.upToAverageDaily === null
      ? `${m.consultations} consultations / ${m.daysInMonth} days is above every bounded tier`
      : `${m.consultations} consultations ≤ ${tier.upToAverageDaily} × ${m.daysInMonth} days` +
        (previous?.upToAverageDaily != null
          ? ` and > ${previous.upToAverageDaily} × ${m.daysInMonth} days`
          : '');
  return {
    lines: [
      invoiceLine(
        'tier',
        `Tier ${index + 1} (${bound} consultations a day): average ${shown} = ${m.consultations} / ${m.daysInMonth} days, ${formatYuan(tier.monthlyFen)} CNY a month`,
        1,
        tier.monthlyFen,
      ),
    ],
    figures: {
      consultations: m.consultations,
      daysInMonth: m.daysInMonth,
      averageDaily: shown,
      averageDailyExact: `${m.consultations}/${m.daysInMonth}`,
      averageDailyPrecision:
        'shown to 2 decimals, rounded half up; the tier is chosen on the exact fraction',
    },
    tier: { index, upToAverageDaily: tier.upToAverageDaily, monthlyFen: tier.monthlyFen, rule },
  };
}
