import type { Clock } from '../shared/clock';
import { AppError } from '../shared/errors';
import { type Logger, loggableError } from '../shared/logger';
import type { RedisConnection, RedisKeys } from '../shared/redis';
import { isMonth, monthBounds } from '../shared/shop-calendar';
import type { Shop, ShopRegistry } from '../shops/shop-registry';
import type { InvoiceBook } from './invoice-book';

export type SkipReason =
  | 'month_not_ended_in_shop_zone'
  | 'no_plan'
  | 'created_after_month'
  | 'shop_deleted';

export interface CloseReport {
  month: string;
  shops: number;
  /** final invoices this run wrote */
  closed: number;
  /** shops whose final invoice existed before this run */
  alreadyClosed: number;
  skipped: Array<{ shopId: string; reason: SkipReason; message: string }>;
  /** shops that threw (e.g. a plan that no longer validates); the others still close, a rerun retries these */
  failed: Array<{ shopId: string; message: string }>;
  totalFen: number;
  durationMs: number;
}

export interface ClosePreview {
  month: string;
  /** false: the close would be refused (the month has not ended in BILLING_TIMEZONE) */
  monthEnded: boolean;
  billingTimezone: string;
  shops: Array<{
    shopId: string;
    name: string | null;
    action: 'close' | 'already_closed' | 'skip' | 'fail';
    reason?: SkipReason;
    message?: string;
    totalFen: number | null;
  }>;
  /** sum of the drafts the close would finalise */
  totalFen: number;
}

/** Shops closed at once: enough to keep Redis busy, few enough to stay fair to other clients. */
const CONCURRENCY = 32;

/**
 * Month close: finalises every shop's invoice for a month that has ended.
 * Each shop's final invoice is written once (SET NX in InvoiceBook), and
 * the shops done are kept in `billing:close:{month}:done`, so a second run
 * changes nothing and a run that crashed halfway finishes the rest.
 */
export class MonthClose {
  constructor(
    private readonly deps: {
      redis: RedisConnection;
      keys: RedisKeys;
      shops: ShopRegistry;
      invoices: InvoiceBook;
      clock: Clock;
      logger: Logger;
      billingTimezone: string;
    },
  ) {}

  doneKey(month: string): string {
    return this.deps.keys.monthCloseDone(month);
  }

  async close(
    month: string,
    options: { onProgress?: (done: number, total: number) => void } = {},
  ): Promise<CloseReport> {
    const { redis, keys, shops, clock, billingTimezone } = this.deps;
    if (!isMonth(month))
      throw new AppError(400, 'invalid_request', 'month: must be YYYY-MM', {
        details: { field: 'month' },
      });
    const now = clock.now();
    if (now < monthBounds(month, billingTimezone).endMs) {
      throw new AppError(
        409,
        'month_not_ended',
        `${month} has not ended yet in ${billingTimezone}; close it once it is over.`,
        { details: { month, billingTimezone } },
      );
    }
    const started = Date.now();
    const ids = await shops.listIds();
    const doneKey = this.doneKey(month);
    await redis.hset(keys.monthClose(month), {
      startedAt: String(now),
      shops: String(ids.length),
    });

    const report: CloseReport = {
      month,
      shops: ids.length,
      closed: 0,
      alreadyClosed: 0,
      skipped: [],
      failed: [],
      totalFen: 0,
      durationMs: 0,
    };
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        await this.closeShop(id, month, doneKey, report).catch((error: unknown) => {
          report.failed.push({
            shopId: id,
            message: error instanceof Error ? error.message : String(error),
          });
          this.deps.logger.error(
            { shopId: id, month, err: loggableError(error) },
            'month close failed for a shop',
          );
        });
        done += 1;
        options.onProgress?.(done, ids.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
    report.durationMs = Date.now() - started;
    await redis.hset(keys.monthClose(month), {
      finishedAt: String(clock.now()),
      closed: String(report.closed),
      skipped: String(report.skipped.length),
      failed: String(report.failed.length),
    });
    this.deps.logger.info(
      {
        month,
        closed: report.closed,
        alreadyClosed: report.alreadyClosed,
        skipped: report.skipped.length,
        failed: report.failed.length,
        ms: report.durationMs,
      },
      'month close finished',
    );
    return report;
  }

  /**
   * What a close of `month` would do now, shop by shop, without writing
   * anything: the same skip rules as `close`, and each draft's total.
   */
  async preview(month: string): Promise<ClosePreview> {
    const { redis, shops, invoices, clock, billingTimezone } = this.deps;
    if (!isMonth(month))
      throw new AppError(400, 'invalid_request', 'month: must be YYYY-MM', {
        details: { field: 'month' },
      });
    const now = clock.now();
    const ids = await shops.listIds();
    const done = new Set(await redis.smembers(this.doneKey(month)));
    const rows = await Promise.all(
      ids.map(async (shopId): Promise<ClosePreview['shops'][number]> => {
        const shop = await shops.get(shopId);
        if (!shop)
          return {
            shopId,
            name: null,
            action: 'skip',
            reason: 'shop_deleted',
            message: skipMessage('shop_deleted', month, null),
            totalFen: null,
          };
        if (done.has(shopId)) {
          const final = await invoices.final(shopId, month);
          return {
            shopId,
            name: shop.name,
            action: 'already_closed',
            totalFen: final?.totalFen ?? null,
          };
        }
        const reason = this.skipReason(shop, month, now);
        if (reason)
          return {
            shopId,
            name: shop.name,
            action: 'skip',
            reason,
            message: skipMessage(reason, month, shop),
            totalFen: null,
          };
        try {
          const draft = await invoices.price(shop, month);
          return { shopId, name: shop.name, action: 'close', totalFen: draft.totalFen };
        } catch (error) {
          return {
            shopId,
            name: shop.name,
            action: 'fail',
            message: error instanceof Error ? error.message : String(error),
            totalFen: null,
          };
        }
      }),
    );
    return {
      month,
      monthEnded: now >= monthBounds(month, billingTimezone).endMs,
      billingTimezone,
      shops: rows,
      totalFen: rows.reduce((sum, r) => sum + (r.action === 'close' ? (r.totalFen ?? 0) : 0), 0),
    };
  }

  private async closeShop(
    shopId: string,
    month: string,
    doneKey: string,
    report: CloseReport,
  ): Promise<void> {
    const { redis, shops, invoices, clock } = this.deps;
    if ((await redis.sismember(doneKey, shopId)) === 1) {
      report.alreadyClosed += 1;
      return;
    }
    const shop = await shops.get(shopId);
    const reason = shop ? this.skipReason(shop, month, clock.now()) : 'shop_deleted';
    if (reason || !shop) {
      report.skipped.push({
        shopId,
        reason: reason ?? 'shop_deleted',
        message: skipMessage(reason ?? 'shop_deleted', month, shop),
      });
      return;
    }
    const { invoice, written } = await invoices.finalize(shop, month);
    await redis.sadd(doneKey, shopId);
    if (written) report.closed += 1;
    else report.alreadyClosed += 1;
    report.totalFen += invoice.totalFen;
  }

  private skipReason(shop: Shop, month: string, now: number): SkipReason | null {
    const { endMs } = monthBounds(month, shop.timezone);
    if (now < endMs) return 'month_not_ended_in_shop_zone';
    if (Date.parse(shop.createdAt) >= endMs) return 'created_after_month';
    if (!this.deps.shops.planFor(shop, month)) return 'no_plan';
    return null;
  }
}

function skipMessage(reason: SkipReason, month: string, shop: Shop | null): string {
  switch (reason) {
    case 'month_not_ended_in_shop_zone':
      return `${month} has not ended yet in ${shop?.timezone}; run the close again after it has.`;
    case 'no_plan':
      return `the shop has no plan for ${month}, so there is nothing to invoice.`;
    case 'created_after_month':
      return `the shop was created after ${month}.`;
    case 'shop_deleted':
      return 'the shop no longer exists.';
  }
}
