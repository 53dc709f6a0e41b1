import { exactDecimal, formatRatio, ratio } from './exact-decimal';
import type { MonthMeasures } from './month-measures';
import type { TargetCheck } from './priced-month';

/**
 * Decides a performance target from the month's integer counters, never from a
 * float average: "4.5 ≤ 27/6" is checked as 45 × 6 ≤ 27 × 10. A month without
 * data for the measure (no answered consultation, no rating) has not shown the
 * target was met, so the target counts as missed.
 */
export function checkTarget(
  name: TargetCheck['name'],
  target: number,
  m: MonthMeasures,
): TargetCheck {
  const t = exactDecimal(target);
  switch (name) {
    case 'maxAverageFirstResponseSeconds': {
      const { answered, totalResponseMs, averageSeconds } = m.firstResponse;
      if (answered === 0)
        return missingData(name, target, 'no consultation was answered this month');
      const met = BigInt(totalResponseMs) * t.den <= t.num * 1000n * BigInt(answered);
      return {
        name,
        target,
        measured: averageSeconds,
        met,
        rule: `average first response = ${totalResponseMs} ms / ${answered} answered; met when ≤ ${target} s`,
        summary: `average first response ${formatRatio(ratio(totalResponseMs, answered * 1000), 2)} s ${met ? '≤' : '>'} ${target} s`,
      };
    }
    case 'minWithin3MinRate': {
      const { within3Min, within3MinRate } = m.firstResponse;
      if (m.consultations === 0) return missingData(name, target, 'no consultation this month');
      const met = BigInt(within3Min) * t.den >= t.num * BigInt(m.consultations);
      return {
        name,
        target,
        measured: within3MinRate,
        met,
        rule: `3-minute rate = ${within3Min} answered within 180 s / ${m.consultations} consultations; met when ≥ ${target}`,
        summary: `3-minute response rate ${formatRatio(ratio(within3Min, m.consultations), 4)} ${met ? '≥' : '<'} ${target}`,
      };
    }
    case 'minSatisfaction': {
      const { ratings, ratingSum, average } = m.satisfaction;
      if (ratings === 0) return missingData(name, target, 'no buyer rating this month');
      const met = BigInt(ratingSum) * t.den >= t.num * BigInt(ratings);
      return {
        name,
        target,
        measured: average,
        met,
        rule: `satisfaction = ${ratingSum} points / ${ratings} ratings; met when ≥ ${target}`,
        summary: `satisfaction ${formatRatio(ratio(ratingSum, ratings), 2)} ${met ? '≥' : '<'} ${target}`,
      };
    }
  }
}

const LABELS: Record<TargetCheck['name'], string> = {
  maxAverageFirstResponseSeconds: 'average first response',
  minWithin3MinRate: '3-minute response rate',
  minSatisfaction: 'satisfaction',
};

function missingData(name: TargetCheck['name'], target: number, why: string): TargetCheck {
  return {
    name,
    target,
    measured: null,
    met: false,
    rule: `${why}: no data counts as not met`,
    summary: `${LABELS[name]}: no data, counts as missed`,
  };
}
