import { type MeteredMonth, readMonthCounters } from '../metering/month-counters';
import type { Clock } from '../shared/clock';
import { AppError } from '../shared/errors';
import type { RedisConnection } from '../shared/redis';
import type { RedisKeys } from '../shared/redis-keys';
import { defineScript } from '../shared/redis-scripts';
import { isMonth, monthBounds, monthOf } from '../shared/shop-calendar';
import type { Shop, ShopRegistry } from '../shops/shop-registry';
import { lateAdjustmentFor } from './late-adjustment';
import { buildMonthMeasures, type LateAdjustment } from './month-measures';
import type { Plan } from './plan-schema';
import { priceMonth } from './price-month';
import type { PricedMonth } from './priced-month';

export interface Invoice extends PricedMonth {
  shopId: string;
  month: string;
  status: 'draft' | 'final';
  /** set on final invoices: when month close wrote it */
  finalizedAt?: string;
}

// Writes the final invoice once; the carried late adjustments move in the same step so a rerun cannot carry them twice.
const finalizeScript = defineScript<number>(
  'invoiceFinalize',
  `
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('ZADD', KEYS[2], 0, ARGV[2])
  for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[3], ARGV[i], ARGV[i + 1]) end
  return 1
end
return 0
`,
);

// An event for a month that is closing or closed is late: remember the month and the event.
// KEYS[1] = the shop's late months, then per month its closing marker and late-event set;
// ARGV[1] = event id, then the months.
const noteLateScript = defineScript<string[]>(
  'invoiceNoteLate',
  `
local late = {}
for i = 2, #ARGV do
  local closing, events = KEYS[2 * i - 2], KEYS[2 * i - 1]
  if redis.call('EXISTS', closing) == 1 then
    redis.call('SADD', KEYS[1], ARGV[i])
    redis.call('SADD', events, ARGV[1])
    late[#late + 1] = ARGV[i]
  end
end
return late
`,
);

/** How far apart the clocks of two Seatmate processes may be (see `noteLateEvent`). */
export const CLOSE_CLOCK_SKEW_MS = 10 * 60_000;

/**
 * A shop's invoices. A draft and a final invoice come from the same
 * `price` path (read the month's counters, add pending late adjustments,
 * priceMonth); finalizing only stores what it returns, once (SET NX).
 *
 * Keys (shop slot): `inv:{month}` final invoice JSON, `invoices` months with
 * a final invoice, `m:{month}:closing` set before a close reads the month,
 * `late` months that got events after that, `m:{month}:late` those event
 * ids, `lateCarried` month → fen already carried onto final invoices.
 */
export class InvoiceBook {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly shops: ShopRegistry,
    private readonly clock: Clock,
  ) {}

  currentMonth(shop: Shop): string {
    return monthOf(this.clock.now(), shop.timezone);
  }

  async final(shopId: string, month: string): Promise<Invoice | null> {
    const raw = await this.redis.get(this.keys.finalInvoice(shopId, month));
    return raw ? (JSON.parse(raw) as Invoice) : null;
  }

  /** The month's invoice: the final one if closed, else a draft priced now (never stored). */
  async get(shop: Shop, month: string): Promise<Invoice> {
    if (!isMonth(month))
      throw new AppError(400, 'invalid_request', 'month: must be YYYY-MM', {
        details: { field: 'month' },
      });
    const final = await this.final(shop.id, month);
    if (final) return final;
    if (month > this.currentMonth(shop)) {
      throw new AppError(
        400,
        'month_not_started',
        `${month} has not started yet in the shop's time zone (${shop.timezone}).`,
        { details: { month } },
      );
    }
    return this.price(shop, month);
  }

  /** The month's counters alone, unpriced: the usage of a shop whose plan cannot be priced. */
  counters(shop: Shop, month: string): Promise<MeteredMonth> {
    return readMonthCounters(this.redis, this.keys, shop, month);
  }

  /**
   * The month's counters and its invoice as it stands (final, else the draft;
   * null without a plan or before the month starts), read in one batch: the
   * usage report's path.
   */
  async withCounters(
    shop: Shop,
    month: string,
  ): Promise<{ counters: MeteredMonth; invoice: Invoice | null }> {
    const [counters, final] = await Promise.all([
      readMonthCounters(this.redis, this.keys, shop, month),
      this.final(shop.id, month),
    ]);
    if (final) return { counters, invoice: final };
    if (month > this.currentMonth(shop) || !this.shops.planFor(shop, month))
      return { counters, invoice: null };
    return { counters, invoice: await this.price(shop, month, counters) };
  }

  /** Final invoices, newest first, after the draft of the current month when there is a plan. */
  async list(shop: Shop): Promise<Invoice[]> {
    const months = (await this.redis.zrange(this.keys.invoiceMonths(shop.id), 0, -1)).reverse();
    const finals = (await Promise.all(months.map((m) => this.final(shop.id, m)))).filter(
      (i): i is Invoice => i !== null,
    );
    const current = this.currentMonth(shop);
    if (finals.some((i) => i.month === current) || !this.shops.planFor(shop, current))
      return finals;
    return [await this.price(shop, current), ...finals];
  }

  /** The one pricing path for drafts, estimates and final invoices. */
  async price(shop: Shop, month: string, counters?: MeteredMonth): Promise<Invoice> {
    return (await this.priceWithAdjustments(shop, month, counters)).invoice;
  }

  /** What `plan` would bill for the month as it stands: the same pricing path, another plan (nothing stored). */
  async preview(shop: Shop, month: string, plan: Plan): Promise<Invoice> {
    return (await this.priceWithAdjustments(shop, month, undefined, plan)).invoice;
  }

  /** `counters` lets a caller that already read the month (the usage report) skip a second read. */
  private async priceWithAdjustments(
    shop: Shop,
    month: string,
    preread?: MeteredMonth,
    planOverride?: Plan,
  ): Promise<{ invoice: Invoice; lateAdjustments: LateAdjustment[] }> {
    const plan = planOverride ?? this.shops.planFor(shop, month);
    if (!plan)
      throw new AppError(
        409,
        'no_plan',
        `The shop has no plan for ${month}; set one with PATCH /v1/shops/${shop.id}.`,
        { details: { month } },
      );
    const [counters, lateAdjustments] = await Promise.all([
      preread ?? readMonthCounters(this.redis, this.keys, shop, month),
      this.pendingLateAdjustments(shop, month),
    ]);
    const priced = priceMonth(plan, buildMonthMeasures({ ...counters, lateAdjustments }));
    return { invoice: { shopId: shop.id, month, status: 'draft', ...priced }, lateAdjustments };
  }

  /**
   * What late events changed in earlier final months and no final invoice
   * has carried yet: repriced with each final invoice's own plan.
   */
  async pendingLateAdjustments(shop: Shop, month: string): Promise<LateAdjustment[]> {
    const lateMonths = (await this.redis.smembers(this.keys.lateMonths(shop.id)))
      .filter((m) => m < month)
      .sort();
    if (lateMonths.length === 0) return [];
    const carried = await this.redis.hgetall(this.keys.lateCarried(shop.id));
    const adjustments: LateAdjustment[] = [];
    for (const lateMonth of lateMonths) {
      const final = await this.final(shop.id, lateMonth);
      if (!final) continue;
      const [counters, events] = await Promise.all([
        readMonthCounters(this.redis, this.keys, shop, lateMonth),
        this.redis.scard(this.keys.month(shop.id, lateMonth, 'late')),
      ]);
      const description = `${events} event(s) received after ${lateMonth} was closed`;
      const full = lateAdjustmentFor(
        final,
        buildMonthMeasures({ ...counters, lateAdjustments: [] }),
        description,
      );
      const amountFen = full.amountFen - Number(carried[lateMonth] ?? 0);
      if (amountFen !== 0) adjustments.push({ ...full, amountFen });
    }
    return adjustments;
  }

  /** Marks the month as closing for the shop: events metered from now on count as late. */
  async markClosing(shopId: string, month: string): Promise<void> {
    await this.redis.set(this.keys.month(shopId, month, 'closing'), String(this.clock.now()), 'NX');
  }

  /** Prices and stores the final invoice unless one exists; returns whether this call wrote it. */
  async finalize(shop: Shop, month: string): Promise<{ invoice: Invoice; written: boolean }> {
    const existing = await this.final(shop.id, month);
    if (existing) return { invoice: existing, written: false };
    await this.markClosing(shop.id, month);
    const { invoice: draft, lateAdjustments: carried } = await this.priceWithAdjustments(
      shop,
      month,
    );
    const invoice: Invoice = {
      ...draft,
      status: 'final',
      finalizedAt: new Date(this.clock.now()).toISOString(),
    };
    const written = await finalizeScript.run(
      this.redis,
      [
        this.keys.finalInvoice(shop.id, month),
        this.keys.invoiceMonths(shop.id),
        this.keys.lateCarried(shop.id),
      ],
      [JSON.stringify(invoice), month, ...carried.flatMap((a) => [a.month, String(a.amountFen)])],
    );
    if (written === 1) return { invoice, written: true };
    return { invoice: (await this.final(shop.id, month)) ?? invoice, written: false };
  }

  /**
   * Records that an event touched these months; returns those already closing or closed.
   * With the shop's `timezone`, a month that cannot be closing yet is not asked about: the
   * close refuses a month before it has ended in the shop's zone, so until then (less
   * `CLOSE_CLOCK_SKEW_MS` for clocks that differ between processes) no marker can exist.
   * That spares every buyer message of the current month a script call.
   */
  async noteLateEvent(
    shopId: string,
    eventId: string,
    touched: readonly string[],
    timezone?: string,
  ): Promise<string[]> {
    const now = this.clock.now();
    const months =
      timezone === undefined
        ? touched
        : touched.filter((m) => now >= monthBounds(m, timezone).endMs - CLOSE_CLOCK_SKEW_MS);
    if (months.length === 0) return [];
    return noteLateScript.run(
      this.redis,
      [
        this.keys.lateMonths(shopId),
        ...months.flatMap((m) => [
          this.keys.month(shopId, m, 'closing'),
          this.keys.month(shopId, m, 'late'),
        ]),
      ],
      [eventId, ...months],
    );
  }
}
