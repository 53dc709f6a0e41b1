import type { Redis } from 'ioredis';
import type { OrderEvent, RatingEvent } from '../platforms/contract';
import type { RedisKeys } from '../shared/redis-keys';
import { prepareScripts } from '../shared/redis-scripts';
import { monthOf } from '../shared/shop-calendar';
import { attributionWindowMs, MAX_ATTRIBUTION_DAYS } from './consultation-meter';
import { meterScripts } from './meter-scripts';

/**
 * Paid orders and ratings, stored by the month they happened in (shop time)
 * and keyed by their own id, so a replay overwrites itself instead of adding.
 * An order also attributes its sale and converts the buyer's consultations
 * within their attribution window (one Lua script, see meter-scripts.ts).
 */
export class CommerceEvents {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  ordersKey(shopId: string, month: string): string {
    return this.keys.month(shopId, month, 'orders');
  }

  ratingsKey(shopId: string, month: string): string {
    return this.keys.month(shopId, month, 'ratings');
  }

  /** Returns the months whose figures the order may have changed. */
  async recordOrder(
    shopId: string,
    timezone: string,
    order: OrderEvent,
  ): Promise<{ months: string[] }> {
    const paidAt = Date.parse(order.paidAt);
    const month = monthOf(paidAt, timezone);
    const k = this.keys;
    const tx = prepareScripts(this.redis)
      .multi()
      .hset(
        this.ordersKey(shopId, month),
        order.orderId,
        JSON.stringify({ buyerId: order.buyerId, amountFen: order.amountFen, paidAt }),
      );
    meterScripts.order.queue(
      tx,
      [
        k.orderIndex(shopId),
        k.consultIndex(shopId),
        k.month(shopId, month, 'attributed'),
        k.month(shopId, month, 'agg'),
      ],
      [
        k.shopPrefix(shopId),
        order.buyerId,
        order.orderId,
        String(paidAt),
        String(order.amountFen),
        month,
        String(attributionWindowMs(MAX_ATTRIBUTION_DAYS)),
      ],
    );
    const [, [error, months]] = (await tx.exec()) as [unknown, [Error | null, string[]]];
    if (error) throw error;
    return { months };
  }

  async recordRating(
    shopId: string,
    timezone: string,
    rating: RatingEvent,
  ): Promise<{ months: string[] }> {
    const ratedAt = Date.parse(rating.ratedAt);
    const month = monthOf(ratedAt, timezone);
    const months = await meterScripts.rating.run(
      this.redis,
      [this.ratingsKey(shopId, month), this.keys.month(shopId, month, 'agg')],
      [
        this.keys.shopPrefix(shopId),
        month,
        rating.eventId,
        JSON.stringify({ buyerId: rating.buyerId, score: rating.score, ratedAt }),
        String(rating.score),
      ],
    );
    return { months };
  }
}
