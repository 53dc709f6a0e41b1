import type { RedisConnection } from '../shared/redis';
import type { DayPart, RedisKeys } from '../shared/redis-keys';
import { addDays, dayOf, dayStart } from '../shared/shop-calendar';
import { DrainedShops, meterScripts } from './meter-scripts';
import { dayField } from './month-aggregate';

/** The attribution window when the shop's plan sets none (base_commission's default). */
export const DEFAULT_ATTRIBUTION_DAYS = 7;
/** Orders look back this far for consultations; a longer plan window is cut to it. */
export const MAX_ATTRIBUTION_DAYS = 400;
export const DAY_MS = 86_400_000;

export function attributionWindowMs(days: number = DEFAULT_ATTRIBUTION_DAYS): number {
  return Math.min(days, MAX_ATTRIBUTION_DAYS) * DAY_MS;
}

/**
 * Consultations are distinct buyers per shop per day in the shop's time zone.
 * Each event runs one Lua script (see meter-scripts.ts) that keeps the facts
 * (sets per day, earliest message, sorted reply times) and the month
 * aggregate `m:{month}:agg` in step, so replays and reordering never change a
 * figure and a month's report is one hash read (O(days), not O(messages)).
 */
export class ConsultationMeter {
  /** Shops whose older index keys this meter saw empty: their buyer messages skip the check. */
  private readonly drained = new DrainedShops();

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  dayKey(shopId: string, day: string, part: DayPart): string {
    return this.keys.day(shopId, day, part);
  }

  /** The month aggregate; its fields are named in month-aggregate.ts. */
  aggregateKey(shopId: string, month: string): string {
    return this.keys.month(shopId, month, 'agg');
  }

  /** Returns whether this made a new consultation and the months whose figures it may have changed. */
  async recordBuyerMessage(
    shopId: string,
    timezone: string,
    buyerId: string,
    atMs: number,
    options: { attributionDays?: number } = {},
  ): Promise<{ day: string; firstOfDay: boolean; months: string[] }> {
    const day = dayOf(atMs, timezone);
    const prevDay = addDays(day, -1);
    const nextDay = addDays(day, 1);
    const k = this.keys;
    const shopPrefix = k.shopPrefix(shopId);
    const [added, olderKeysLeft, ...months] = await meterScripts.buyerMessage.run(
      this.redis,
      [
        k.day(shopId, day, 'buyers'),
        k.day(shopId, day, 'first'),
        k.day(shopId, prevDay, 'first'),
        k.day(shopId, nextDay, 'first'),
        k.day(shopId, day, 'frt'),
        k.day(shopId, prevDay, 'frt'),
        k.day(shopId, day, 'converted'),
        k.month(shopId, day.slice(0, 7), 'agg'),
        k.month(shopId, prevDay.slice(0, 7), 'agg'),
        ...k.meterIndexes(shopId),
      ],
      [
        shopPrefix,
        buyerId,
        day,
        String(atMs),
        String(attributionWindowMs(options.attributionDays)),
        String(attributionWindowMs(MAX_ATTRIBUTION_DAYS)),
        prevDay,
        nextDay,
        String(dayStart(nextDay, timezone)),
        String(dayStart(addDays(day, 2), timezone)),
        this.drained.flag(shopPrefix),
        String(dayStart(day, timezone)),
      ],
    );
    this.drained.learn(shopPrefix, olderKeysLeft);
    return { day, firstOfDay: added === 1, months };
  }

  /** When the buyer's consultation that day began (their first message), if they wrote that day. */
  async firstMessageAt(shopId: string, day: string, buyerId: string): Promise<number | undefined> {
    const value = await this.redis.hget(this.dayKey(shopId, day, 'first'), buyerId);
    return value === null ? undefined : Number(value);
  }

  /**
   * An agent reply: the agent's seat-day on the day of the reply, and the
   * reception and first response of the consultation it answers (that day's,
   * or the previous day's when the buyer wrote before midnight).
   */
  async recordAgentReply(
    shopId: string,
    timezone: string,
    buyerId: string,
    agent: string,
    atMs: number,
  ): Promise<{ day: string; months: string[] }> {
    const day = dayOf(atMs, timezone);
    const prevDay = addDays(day, -1);
    const nextDay = addDays(day, 1);
    const k = this.keys;
    const months = await meterScripts.agentReply.run(
      this.redis,
      [
        k.day(shopId, day, 'agents'),
        k.day(shopId, day, 'first'),
        k.day(shopId, prevDay, 'first'),
        k.day(shopId, nextDay, 'first'),
        k.day(shopId, day, 'frt'),
        k.day(shopId, prevDay, 'frt'),
        k.month(shopId, day.slice(0, 7), 'agg'),
        k.month(shopId, prevDay.slice(0, 7), 'agg'),
        ...k.meterIndexes(shopId),
      ],
      [
        k.shopPrefix(shopId),
        buyerId,
        day,
        String(atMs),
        agent,
        prevDay,
        nextDay,
        String(dayStart(nextDay, timezone)),
        String(dayStart(addDays(day, 2), timezone)),
        String(dayStart(day, timezone)),
      ],
    );
    return { day, months };
  }

  /** Consultations and receptions for each day, from the month aggregates. */
  async countDays(
    shopId: string,
    days: string[],
  ): Promise<Array<{ date: string; consultations: number; receptions: number }>> {
    const months = [...new Set(days.map((d) => d.slice(0, 7)))];
    const hashes = await Promise.all(
      months.map((m) => this.redis.hgetall(this.aggregateKey(shopId, m))),
    );
    const merged: Record<string, string> = Object.assign({}, ...hashes);
    return days.map((date) => ({
      date,
      consultations: Number(merged[dayField(date, 'consultations')] ?? 0),
      receptions: Number(merged[dayField(date, 'receptions')] ?? 0),
    }));
  }

  /** One day's consultations with their first message, first response and conversion: the owner's audit trail. */
  async consultationsOn(
    shopId: string,
    day: string,
  ): Promise<
    Array<{ buyerId: string; firstAt: number; firstResponseMs: number | null; converted: boolean }>
  > {
    const [[e1, first], [e2, frt], [e3, converted]] = (await this.redis
      .pipeline()
      .hgetall(this.dayKey(shopId, day, 'first'))
      .hgetall(this.dayKey(shopId, day, 'frt'))
      .smembers(this.dayKey(shopId, day, 'converted'))
      .exec()) as [
      [Error | null, Record<string, string>],
      [Error | null, Record<string, string>],
      [Error | null, string[]],
    ];
    const error = e1 ?? e2 ?? e3;
    if (error) throw error;
    const convertedSet = new Set(converted);
    return Object.entries(first)
      .map(([buyerId, at]) => ({
        buyerId,
        firstAt: Number(at),
        firstResponseMs: frt[buyerId] === undefined ? null : Number(frt[buyerId]),
        converted: convertedSet.has(buyerId),
      }))
      .sort((a, b) => a.firstAt - b.firstAt || (a.buyerId < b.buyerId ? -1 : 1));
  }
}
