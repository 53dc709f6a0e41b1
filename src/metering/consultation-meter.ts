import type { Redis } from 'ioredis';
import type { RedisKeys } from '../shared/redis';
import { dayOf } from '../shared/shop-calendar';

// Keeps the earliest time per buyer, whatever order events arrive in.
const HASH_MIN_SCRIPT = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current or tonumber(ARGV[2]) < tonumber(current) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
`;

/**
 * Consultations are distinct buyers per shop per day in the shop's time zone:
 * a Redis set per day, so replays and reordering never change a count, and a
 * month's report reads one set per day (O(days), not O(messages)).
 */
export class ConsultationMeter {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  dayKey(shopId: string, day: string, part: 'buyers' | 'answered' | 'agents' | 'first' | 'firstReply'): string {
    return this.keys.shop(shopId, 'd', day, part);
  }

  async recordBuyerMessage(shopId: string, timezone: string, buyerId: string, atMs: number): Promise<{ day: string; firstOfDay: boolean }> {
    const day = dayOf(atMs, timezone);
    const [[, added]] = (await this.redis
      .multi()
      .sadd(this.dayKey(shopId, day, 'buyers'), buyerId)
      .eval(HASH_MIN_SCRIPT, 1, this.dayKey(shopId, day, 'first'), buyerId, String(atMs))
      .exec()) as [[Error | null, number], unknown];
    return { day, firstOfDay: added === 1 };
  }

  /** An agent reply: marks the buyer's consultation answered that day and the agent's seat-day. */
  async recordAgentReply(shopId: string, timezone: string, buyerId: string, agent: string, atMs: number): Promise<{ day: string }> {
    const day = dayOf(atMs, timezone);
    await this.redis
      .multi()
      .sadd(this.dayKey(shopId, day, 'answered'), buyerId)
      .sadd(this.dayKey(shopId, day, 'agents'), agent)
      .eval(HASH_MIN_SCRIPT, 1, this.dayKey(shopId, day, 'firstReply'), buyerId, String(atMs))
      .exec();
    return { day };
  }

  /** When the buyer's consultation that day began (their first message), if they wrote that day. */
  async firstMessageAt(shopId: string, day: string, buyerId: string): Promise<number | undefined> {
    const value = await this.redis.hget(this.dayKey(shopId, day, 'first'), buyerId);
    return value === null ? undefined : Number(value);
  }

  /** Consultations and receptions (consultations an agent answered) for each day. */
  async countDays(shopId: string, days: string[]): Promise<Array<{ date: string; consultations: number; receptions: number }>> {
    const pipeline = this.redis.pipeline();
    for (const day of days) {
      pipeline.scard(this.dayKey(shopId, day, 'buyers'));
      pipeline.sintercard(2, this.dayKey(shopId, day, 'buyers'), this.dayKey(shopId, day, 'answered'));
    }
    const results = (await pipeline.exec()) ?? [];
    return days.map((date, i) => {
      const [consultationsError, consultations] = results[2 * i] ?? [null, 0];
      const [receptionsError, receptions] = results[2 * i + 1] ?? [null, 0];
      if (consultationsError) throw consultationsError;
      if (receptionsError) throw receptionsError;
      return { date, consultations: Number(consultations), receptions: Number(receptions) };
    });
  }
}
