import type { OrderEvent, RatingEvent } from '../platforms/contract';
import type { RedisConnection } from '../shared/redis';
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
    private readonly redis: RedisConnection,
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
        k.month(shopId, month, 'attributed'),
        k.month(shopId, month, 'agg'),
        ...k.meterIndexes(shopId),
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
    // The buyer's own list, for the agent's buyer context (read without scanning months).
    tx.hset(
      k.buyerOrders(shopId, order.buyerId),
      order.orderId,
      JSON.stringify({ amountFen: order.amountFen, paidAt }),
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
    await this.redis.hset(
      this.keys.buyerRatings(shopId, rating.buyerId),
      rating.eventId,
      JSON.stringify({ score: rating.score, ratedAt }),
    );
    return { months };
  }

  /** The buyer's paid orders, newest first. */
  async ordersOf(
    shopId: string,
    buyerId: string,
  ): Promise<Array<{ orderId: string; amountFen: number; paidAt: number }>> {
    const raw = await this.redis.hgetall(this.keys.buyerOrders(shopId, buyerId));
    return Object.entries(raw)
      .map(([orderId, json]) => ({
        orderId,
        ...(JSON.parse(json) as { amountFen: number; paidAt: number }),
      }))
      .sort((a, b) => b.paidAt - a.paidAt);
  }

  /** The buyer's ratings, newest first. */
  async ratingsOf(
    shopId: string,
    buyerId: string,
  ): Promise<Array<{ score: number; ratedAt: number }>> {
    const raw = await this.redis.hvals(this.keys.buyerRatings(shopId, buyerId));
    return raw
      .map((json) => JSON.parse(json) as { score: number; ratedAt: number })
      .sort((a, b) => b.ratedAt - a.ratedAt);
  }
}
