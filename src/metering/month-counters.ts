import type { Redis } from 'ioredis';
import type { MonthCounters } from '../billing/month-measures';
import type { RedisKeys } from '../shared/redis';
import { daysOfMonth } from '../shared/shop-calendar';
import { overtimeHoursOf } from './overtime-log';

export type MeteredMonth = Omit<MonthCounters, 'lateAdjustments'>;

/** The two hashes a month's figures live in; read them in one pipeline with others. */
export function monthCounterKeys(
  keys: RedisKeys,
  shopId: string,
  month: string,
): { aggregate: string; overtime: string } {
  return {
    aggregate: keys.shop(shopId, 'm', month, 'agg'),
    overtime: keys.shop(shopId, 'm', month, 'overtime'),
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
    const consultations = n(`${date}|c`);
    const receptions = n(`${date}|r`);
    const seatDays = n(`${date}|s`);
    firstResponse.answered += n(`${date}|a`);
    firstResponse.totalResponseMs += n(`${date}|t`);
    firstResponse.within3Min += n(`${date}|w`);
    converted += n(`${date}|v`);
    if (consultations || receptions || seatDays)
      days.push({ date, consultations, receptions, seatDays });
  }
  return {
    shopId: shop.id,
    month,
    timezone: shop.timezone,
    days,
    firstResponse,
    satisfaction: { ratings: n('ratings'), ratingSum: n('ratingSum') },
    conversion: { converted },
    attributedSalesFen: n('attributedFen'),
    overtimeHours: overtimeHoursOf(overtime),
  };
}

export async function readMonthCounters(
  redis: Redis,
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
