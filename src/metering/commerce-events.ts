import type { Redis } from 'ioredis';
import type { OrderEvent, RatingEvent } from '../platforms/contract';
import type { RedisKeys } from '../shared/redis';
import { monthOf } from '../shared/shop-calendar';

/**
 * Paid orders and ratings, stored by the month they happened in (shop time)
 * and keyed by their own id, so a replay overwrites itself instead of adding.
 */
export class CommerceEvents {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  ordersKey(shopId: string, month: string): string {
    return this.keys.shop(shopId, 'm', month, 'orders');
  }

  ratingsKey(shopId: string, month: string): string {
    return this.keys.shop(shopId, 'm', month, 'ratings');
  }

  async recordOrder(shopId: string, timezone: string, order: OrderEvent): Promise<void> {
    const paidAt = Date.parse(order.paidAt);
    await this.redis.hset(
      this.ordersKey(shopId, monthOf(paidAt, timezone)),
      order.orderId,
      JSON.stringify({ buyerId: order.buyerId, amountFen: order.amountFen, paidAt }),
    );
  }

  async recordRating(shopId: string, timezone: string, rating: RatingEvent): Promise<void> {
    const ratedAt = Date.parse(rating.ratedAt);
    await this.redis.hset(
      this.ratingsKey(shopId, monthOf(ratedAt, timezone)),
      rating.eventId,
      JSON.stringify({ buyerId: rating.buyerId, score: rating.score, ratedAt }),
    );
  }
}
