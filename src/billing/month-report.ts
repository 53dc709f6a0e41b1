import { csvDocument, csvText } from '../shared/csv';
import { AppError } from '../shared/errors';
import { monthBounds } from '../shared/shop-calendar';
import type { Shop, ShopRegistry } from '../shops/shop-registry';
import { AmountOutOfRange } from './fen';
import type { InvoiceBook } from './invoice-book';
import type { TargetCheck } from './priced-month';
import { buildUsageReport, type UsageReport } from './usage-report';

export interface MonthReportRow {
  shopId: string;
  name: string;
  platform: string;
  timezone: string;
  planModel: string | null;
  consultations: number;
  averageDaily: number;
  receptions: number;
  /** 1-based tier of a tiered plan, with its bound */
  tier: { number: number; upToAverageDaily: number | null } | null;
  /** `final` once the month is closed, `estimate` while it is a draft, null without a plan */
  status: 'final' | 'estimate' | null;
  totalFen: number | null;
  currency: 'CNY';
  within3MinRate: number | null;
  averageFirstResponseSeconds: number | null;
  conversionRate: number | null;
  satisfaction: number | null;
  /** targets of plans whose holdback depends on them, met so far or not */
  targets: TargetCheck[] | null;
  /**
   * Why the shop has no total when its plan cannot be priced (a stored plan that no longer
   * validates, amounts past the safe range): its usage is shown, its total is not, and the
   * other shops' rows are unaffected. Null for every shop that is priced or has no plan.
   */
  problem: { code: string; message: string } | null;
}

export interface MonthReport {
  month: string;
  shops: MonthReportRow[];
  totals: { consultations: number; receptions: number; totalFen: number; currency: 'CNY' };
}

/**
 * The month across every shop: each row is the shop's usage report (the
 * same measures and the same pricing path as its invoice), so the report,
 * the dashboard and the final invoice never disagree.
 */
export async function buildMonthReport(
  deps: { shops: ShopRegistry; invoices: InvoiceBook },
  month: string,
): Promise<MonthReport> {
  const ids = await deps.shops.listIds();
  const shops = (await Promise.all(ids.map((id) => deps.shops.get(id)))).filter(
    (s): s is Shop => s !== null && Date.parse(s.createdAt) < monthBounds(month, s.timezone).endMs,
  );
  const rows = await Promise.all(
    shops.map(async (shop): Promise<MonthReportRow> => {
      const { usage, problem } = await usageOrProblem(deps, shop, month);
      const estimate = usage.estimate;
      return {
        shopId: shop.id,
        name: shop.name,
        platform: shop.platform,
        timezone: shop.timezone,
        planModel: deps.shops.planFor(shop, month)?.model ?? null,
        consultations: usage.consultations,
        averageDaily: usage.averageDaily,
        receptions: usage.receptions,
        tier: estimate?.tier
          ? { number: estimate.tier.index + 1, upToAverageDaily: estimate.tier.upToAverageDaily }
          : null,
        status: estimate ? (estimate.status === 'final' ? 'final' : 'estimate') : null,
        totalFen: estimate?.totalFen ?? null,
        currency: 'CNY',
        within3MinRate: usage.firstResponse.within3MinRate,
        averageFirstResponseSeconds: usage.firstResponse.averageSeconds,
        conversionRate: usage.conversionRate,
        satisfaction: usage.satisfaction,
        targets: estimate?.targets ?? null,
        problem,
      };
    }),
  );
  return {
    month,
    shops: rows,
    totals: {
      consultations: rows.reduce((s, r) => s + r.consultations, 0),
      receptions: rows.reduce((s, r) => s + r.receptions, 0),
      totalFen: rows.reduce((s, r) => s + (r.totalFen ?? 0), 0),
      currency: 'CNY',
    },
  };
}

/**
 * The shop's usage report; when its plan cannot be priced, its usage unpriced and the reason.
 * One shop's plan must not take the month away from every other shop; a Redis failure or a
 * bug still fails the report.
 */
async function usageOrProblem(
  deps: { invoices: InvoiceBook },
  shop: Shop,
  month: string,
): Promise<{ usage: UsageReport; problem: MonthReportRow['problem'] }> {
  try {
    return { usage: await buildUsageReport(deps, shop, month), problem: null };
  } catch (error) {
    const problem = pricingProblem(error);
    if (!problem) throw error;
    return { usage: await buildUsageReport(deps, shop, month, { unpriced: true }), problem };
  }
}

/** A pricing failure of one shop's plan (its own data), else null (the store, a bug: not ours to hide). */
function pricingProblem(error: unknown): MonthReportRow['problem'] {
  if (error instanceof AppError && error.code === 'invalid_plan')
    return { code: error.code, message: error.message };
  // The exact arithmetic refuses amounts past the safe integer range rather than round them;
  // any other RangeError is a bug and fails the report.
  if (error instanceof AmountOutOfRange)
    return { code: 'invalid_plan', message: 'The shop plan gives amounts too large to bill.' };
  return null;
}

const cell = (value: number | null) => (value === null ? '' : String(value));

/** The report as CSV (formula-guarded text, UTF-8 BOM for Excel). */
export function monthReportToCsv(report: MonthReport): string {
  const header = [
    'month',
    'shopId',
    'shop',
    'platform',
    'plan',
    'consultations',
    'averageDaily',
    'tier',
    'status',
    'totalFen',
    'currency',
    'receptions',
    'within3MinRate',
    'conversionRate',
    'satisfaction',
    'targetsMet',
    'problem',
  ];
  const rows = report.shops.map((r) => [
    report.month,
    csvText(r.shopId),
    csvText(r.name),
    r.platform,
    r.planModel ?? '',
    String(r.consultations),
    String(r.averageDaily),
    r.tier ? String(r.tier.number) : '',
    r.status ?? '',
    cell(r.totalFen),
    r.currency,
    String(r.receptions),
    cell(r.within3MinRate),
    cell(r.conversionRate),
    cell(r.satisfaction),
    r.targets
      ? csvText(r.targets.map((t) => `${t.name}:${t.met ? 'met' : 'not met'}`).join('; '))
      : '',
    r.problem ? csvText(`${r.problem.code}: ${r.problem.message}`) : '',
  ]);
  return csvDocument([header, ...rows], { bom: true });
}
