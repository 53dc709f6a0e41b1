import { exactDecimal } from '../exact-decimal';
import { formatYuan, roundHalfUp } from '../fen';
import { invoiceLine } from '../invoice-line';
import type { MonthMeasures } from '../month-measures';
import type { MonthlyPlan } from '../plan-schema';
import type { InvoiceLine, ModelPricing, TargetCheck } from '../priced-month';
import { checkTarget } from '../targets';

/**
 * A fixed monthly fee of which holdbackPercent is held back and charged only
 * when every configured target is met. The holdback is rounded once and the
 * base is the exact remainder, so base + holdback is always monthlyFen.
 */
export function priceMonthly(plan: MonthlyPlan, m: MonthMeasures): ModelPricing {
  const p = exactDecimal(plan.holdbackPercent);
  const holdbackFen = roundHalfUp(BigInt(plan.monthlyFen) * p.num, p.den * 100n);
  const baseFen = plan.monthlyFen - holdbackFen;
  const targets: TargetCheck[] = [];
  const t = plan.targets;
  if (t.maxAverageFirstResponseSeconds !== undefined)
    targets.push(
      checkTarget('maxAverageFirstResponseSeconds', t.maxAverageFirstResponseSeconds, m),
    );
  if (t.minWithin3MinRate !== undefined)
    targets.push(checkTarget('minWithin3MinRate', t.minWithin3MinRate, m));
  if (t.minSatisfaction !== undefined)
    targets.push(checkTarget('minSatisfaction', t.minSatisfaction, m));
  const allMet = targets.every((c) => c.met);

  const lines: InvoiceLine[] = [
    invoiceLine(
      'monthly_base',
      holdbackFen === 0
        ? `Monthly fee ${formatYuan(plan.monthlyFen)} CNY`
        : `Monthly fee ${formatYuan(plan.monthlyFen)} CNY less the ${plan.holdbackPercent}% holdback`,
      1,
      baseFen,
    ),
  ];
  if (holdbackFen > 0) {
    const missed = targets.filter((c) => !c.met).map((c) => c.summary);
    lines.push(
      invoiceLine(
        'holdback',
        allMet
          ? `Holdback ${plan.holdbackPercent}% of the monthly fee: ${targets.length === 0 ? 'no targets set' : 'every target met'}, charged`
          : `Holdback ${plan.holdbackPercent}% of the monthly fee: not charged, target missed (${missed.join('; ')})`,
        allMet ? 1 : 0,
        holdbackFen,
      ),
    );
  }
  return {
    lines,
    figures: {
      monthlyFen: plan.monthlyFen,
      holdbackPercent: plan.holdbackPercent,
      holdbackFen,
      holdbackCharged: allMet ? 'yes' : 'no',
      averageFirstResponseSeconds: m.firstResponse.averageSeconds,
      answered: m.firstResponse.answered,
      totalResponseMs: m.firstResponse.totalResponseMs,
      within3Min: m.firstResponse.within3Min,
      within3MinRate: m.firstResponse.within3MinRate,
      consultations: m.consultations,
      ratings: m.satisfaction.ratings,
      ratingSum: m.satisfaction.ratingSum,
      satisfaction: m.satisfaction.average,
    },
    targets,
  };
}
