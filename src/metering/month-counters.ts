import type { RedisConnection } from '../shared/redis';
import type { RedisKeys } from '../shared/redis-keys';
import { daysOfMonth } from '../shared/shop-calendar';
import { dayField, MONTH_FIELDS } from './month-aggregate';
import { overtimeHoursOf } from './overtime-log';

/** A month's metered figures, as pricing reads them (billing adds late adjustments). */
export interface MeteredMonth {
  shopId: string;
  month: string;
  timezone: string;
  /** days with any activity */
  days: Array<{ date: string; consultations: number; receptions: number; seatDays: number }>;
  firstResponse: { answered: number; totalResponseMs: number; within3Min: number };
  satisfaction: { ratings: number; ratingSum: number };
  conversion: { converted: number };
  attributedSalesFen: number;
  overtimeHours: number;
}

/** The two hashes a month's figures live in; read them in one pipeline with others. */
export function monthCounterKeys(
  keys: RedisKeys,
  shopId: string,
  month: string,
): { aggregate: string; overtime: string } {
  return {
    aggregate: keys.month(shopId, month, 'agg'),
    overtime: keys.month(shopId, month, 'overtime'),
  };
}

/**
 * Turns the month aggregate (see ConsultationMeter.aggregateKey) and the
 * overtime hash into pricing's counters: one row per day with activity.
 */
export function countersFromHashes(
  shop: { id: string; timezone: string },
  month: string,
  aggregate: Record<string, string>,
  overtime: Record<string, string>,
): MeteredMonth {
  const n = (field: string) => Number(aggregate[field] ?? 0);
  const days = [];
  const firstResponse = { answered: 0, totalResponseMs: 0, within3Min: 0 };
  let converted = 0;
  for (const date of daysOfMonth(month)) {
    const consultations = n(dayField(date, 'consultations'));
    const receptions = n(dayField(date, 'receptions'));
    const seatDays = n(dayField(date, 'seatDays'));
    firstResponse.answered += n(dayField(date, 'answered'));
    firstResponse.totalResponseMs += n(dayField(date, 'responseMs'));
    firstResponse.within3Min += n(dayField(date, 'within3Min'));
    converted += n(dayField(date, 'converted'));
    if (consultations || receptions || seatDays)
      days.push({ date, consultations, receptions, seatDays });
  }
  return {
    shopId: shop.id,
    month,
    timezone: shop.timezone,
    days,
    firstResponse,
    satisfaction: { ratings: n(MONTH_FIELDS.ratings), ratingSum: n(MONTH_FIELDS.ratingSum) },
    conversion: { converted },
    attributedSalesFen: n(MONTH_FIELDS.attributedFen),
    overtimeHours: overtimeHoursOf(overtime),
  };
}

export async function readMonthCounters(
  redis: RedisConnection,
  keys: RedisKeys,
  shop: { id: string; timezone: string },
  month: string,
): Promise<MeteredMonth> {
  const k = monthCounterKeys(keys, shop.id, month);
  const [aggregate, overtime] = await Promise.all([
    redis.hgetall(k.aggregate),
    redis.hgetall(k.overtime),
  ]);
  return countersFromHashes(shop, month, aggregate, overtime);
}
