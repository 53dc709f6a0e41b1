import { formatYuan } from '../fen';
import { invoiceLine } from '../invoice-line';
import type { MonthMeasures } from '../month-measures';
import type { PerDayPlan } from '../plan-schema';
import type { ModelPricing } from '../priced-month';

const CHANNEL_NAMES = {
  online: 'online chat',
  inbound: 'inbound calls',
  outbound: 'outbound calls',
} as const;

/** One seat-day for each agent who replied for the shop on a day, at the plan channel's day rate. */
export function pricePerDay(plan: PerDayPlan, m: MonthMeasures): ModelPricing {
  const rate = plan.dayRateFen[plan.channel];
  if (rate === undefined) throw new RangeError(`per_day plan has no day rate for ${plan.channel}`);
  return {
    lines: [
      invoiceLine(
        'seat_days',
        `Seat-days, ${CHANNEL_NAMES[plan.channel]}: ${m.seatDays} × ${formatYuan(rate)} CNY`,
        m.seatDays,
        rate,
      ),
    ],
    figures: { seatDays: m.seatDays, channel: plan.channel, dayRateFen: rate },
  };
}
