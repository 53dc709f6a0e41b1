import { daysOfMonth } from '../shared/shop-calendar';
import type { Shop } from '../shops/shop-registry';
import type { Invoice, InvoiceBook } from './invoice-book';
import { buildMonthMeasures } from './month-measures';
import type { InvoiceLine, TargetCheck, TierChoice } from './priced-month';

export interface UsageReport {
  shopId: string;
  month: string;
  timezone: string;
  days: Array<{ date: string; consultations: number; receptions: number }>;
  consultations: number;
  receptions: number;
  /** Consultations / calendar days of the month, to two decimals. */
  averageDaily: number;
  seatDays: number;
  firstResponse: { answered: number; averageSeconds: number | null; within3MinRate: number | null };
  conversionRate: number | null;
  /** average buyer rating (1-5), null without ratings */
  satisfaction: number | null;
  ratings: number;
  attributedSalesFen: number;
  /** the month's invoice as it stands: the draft (same pricing path as month close) or the final one; null without a plan */
  estimate: {
    status: Invoice['status'];
    currency: 'CNY';
    totalFen: number;
    lines: InvoiceLine[];
    /** tiered plans: the tier the average picked */
    tier: TierChoice | null;
    /** plans with a holdback on targets: each target against the month so far */
    targets: TargetCheck[] | null;
  } | null;
}

const round = (value: number | null, places: number) =>
  value === null ? null : Math.round(value * 10 ** places) / 10 ** places;

/**
 * A month's usage for one shop, every calendar day listed (zero days too): one hash read plus
 * the estimate; with `unpriced`, the usage alone (estimate null), for a shop whose plan cannot
 * be priced.
 */
export async function buildUsageReport(
  deps: { invoices: InvoiceBook },
  shop: Shop,
  month: string,
  options: { unpriced?: boolean } = {},
): Promise<UsageReport> {
  const { counters, invoice } = options.unpriced
    ? { counters: await deps.invoices.counters(shop, month), invoice: null }
    : await deps.invoices.withCounters(shop, month);
  const measures = buildMonthMeasures({ ...counters, lateAdjustments: [] });
  const byDay = new Map(measures.days.map((d) => [d.date, d]));
  return {
    shopId: shop.id,
    month,
    timezone: shop.timezone,
    days: daysOfMonth(month).map((date) => ({
      date,
      consultations: byDay.get(date)?.consultations ?? 0,
      receptions: byDay.get(date)?.receptions ?? 0,
    })),
    consultations: measures.consultations,
    receptions: measures.receptions,
    averageDaily: Math.round((measures.consultations * 100) / measures.daysInMonth) / 100,
    seatDays: measures.seatDays,
    firstResponse: {
      answered: measures.firstResponse.answered,
      averageSeconds: round(measures.firstResponse.averageSeconds, 1),
      within3MinRate: round(measures.firstResponse.within3MinRate, 4),
    },
    conversionRate: round(measures.conversion.rate, 4),
    satisfaction: round(measures.satisfaction.average, 2),
    ratings: measures.satisfaction.ratings,
    attributedSalesFen: measures.attributedSalesFen,
    estimate: invoice
      ? {
          status: invoice.status,
          currency: invoice.currency,
          totalFen: invoice.totalFen,
          lines: invoice.lines,
          tier: invoice.inputs.tier ?? null,
          targets: invoice.inputs.targets ?? null,
        }
      : null,
  };
}
