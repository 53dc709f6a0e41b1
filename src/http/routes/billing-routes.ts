import Router from '@koa/router';
import type { Queue } from 'bullmq';
import type { Context } from 'koa';
import { z } from 'zod';
import type { InvoiceBook } from '../../billing/invoice-book';
import { csvDocument, invoiceToCsv } from '../../billing/invoice-csv';
import type { MonthClose } from '../../billing/month-close';
import { buildMonthReport, monthReportToCsv } from '../../billing/month-report';
import { planSchema } from '../../billing/plan-schema';
import { buildUsageReport } from '../../billing/usage-report';
import { auditToCsv, consultationAudit } from '../../metering/consultation-audit';
import type { ConsultationMeter } from '../../metering/consultation-meter';
import type { OvertimeLog } from '../../metering/overtime-log';
import { jobIds, type MonthCloseJob } from '../../pipeline/queues';
import { validate } from '../../platforms/json-body';
import type { Clock } from '../../shared/clock';
import { AppError, notFound } from '../../shared/errors';
import type { RedisConnection, RedisKeys } from '../../shared/redis';
import { isDay, isMonth, monthOf } from '../../shared/shop-calendar';
import type { ShopRegistry } from '../../shops/shop-registry';
import { noteAudit } from '../audit-trail';
import { principalOf, requirePermission, requireShopAccess } from '../auth';
import { sendCsv, wantsCsv } from '../csv-response';
import { readJson } from '../json-request';

export interface BillingRouteDeps {
  redis: RedisConnection;
  keys: RedisKeys;
  clock: Clock;
  shops: ShopRegistry;
  meter: ConsultationMeter;
  invoices: InvoiceBook;
  overtime: OvertimeLog;
  monthClose: MonthClose;
  queue: Queue<MonthCloseJob>;
  billingTimezone: string;
}

const month = z.string().refine(isMonth, { message: 'must be YYYY-MM' });
const day = z.string().refine(isDay, { message: 'must be a calendar day YYYY-MM-DD' });
const usageQuery = z.object({ month: month.optional() });
const auditQuery = z.object({ date: day });
const overtimeBody = z
  .object({
    date: day,
    hours: z
      .number()
      .min(0)
      .max(24)
      .refine(
        (h) => Math.abs(h * 100 - Math.round(h * 100)) < 1e-6,
        'hours are recorded to 0.01 h',
      ),
  })
  .strict();
const closeBody = z.object({ month }).strict();
const reportQuery = z.object({ month: month.optional() });
const closePreviewQuery = z.object({ month });
const planPreviewBody = z.object({ plan: planSchema, month: month.optional() }).strict();

/** The billing operations, listed in /openapi.json with the schemas that validate them. */
export const billingOperations = [
  {
    method: 'get',
    path: '/v1/shops/{shopId}/usage',
    summary:
      'Monthly usage with response figures, conversion, satisfaction and the estimate (owner or admin)',
    query: usageQuery,
  },
  { method: 'get', path: '/v1/me', summary: 'Who the token is; for an owner key, its shop' },
  {
    method: 'get',
    path: '/v1/shops/{shopId}/consultations',
    summary:
      'Consultations of one shop day, the audit trail (owner or admin; Accept: text/csv for CSV)',
    query: auditQuery,
  },
  {
    method: 'get',
    path: '/v1/shops/{shopId}/invoices',
    summary: 'Final invoices and the current draft (owner or admin)',
  },
  {
    method: 'get',
    path: '/v1/shops/{shopId}/invoices/{month}',
    summary:
      'One month: final if closed, else a draft priced now (owner or admin; Accept: text/csv for CSV)',
  },
  {
    method: 'post',
    path: '/v1/shops/{shopId}/overtime',
    summary: 'Record overtime hours for a shop day (admin)',
    body: overtimeBody,
  },
  {
    method: 'post',
    path: '/v1/billing/close',
    summary: 'Finalise every shop invoice of an ended month (admin); idempotent',
    body: closeBody,
  },
  {
    method: 'get',
    path: '/v1/billing/close-preview',
    summary: 'What a month close would do now, shop by shop, writing nothing (admin or supervisor)',
    query: closePreviewQuery,
  },
  {
    method: 'post',
    path: '/v1/billing/close-jobs',
    summary: 'Start a month close in the background (admin); 202 with the job id to poll',
    body: closeBody,
  },
  {
    method: 'get',
    path: '/v1/billing/close-jobs/{jobId}',
    summary: 'A month close job: state, progress (done/total) and, once over, its report',
  },
  {
    method: 'get',
    path: '/v1/reports/month',
    summary:
      'The month across shops: consultations, tier, estimate or final total, response, conversion, satisfaction, targets (admin or supervisor; Accept: text/csv for CSV)',
    query: reportQuery,
  },
  {
    method: 'post',
    path: '/v1/shops/{shopId}/plan-preview',
    summary:
      "What another plan would bill for the shop's month as it stands (admin or supervisor); nothing is changed",
    body: planPreviewBody,
  },
];

/** Owner-facing usage, audit and invoices; operator overtime and month close. Rules live in the services. */
export function billingRoutes(deps: BillingRouteDeps): Router {
  const router = new Router();
  const { shops, invoices, clock } = deps;

  // Reads go through the registry's short cache (SHOP_CACHE_MS): owners poll these pages.
  const ownShop = async (ctx: Context) => {
    requireShopAccess(ctx, ctx.params.shopId!, ['admin', 'owner']);
    const loaded = await shops.getWithCredentials(ctx.params.shopId!);
    if (!loaded) throw notFound('Shop');
    return loaded.shop;
  };

  // Who the token is: the dashboard signs in with an owner key alone and learns its shop here.
  router.get('/v1/me', async (ctx) => {
    const principal = principalOf(ctx);
    if (principal.kind === 'admin') {
      ctx.body = {
        kind: 'admin',
        operator: { id: principal.operatorId, name: principal.name, role: principal.role },
        // The desk's month (BILLING_TIMEZONE): the desk's pages start from it, not from the
        // browser's clock, which is in another month for hours at a month's end.
        desk: {
          timezone: deps.billingTimezone,
          currentMonth: monthOf(clock.now(), deps.billingTimezone),
        },
      };
      return;
    }
    if (principal.kind !== 'owner') {
      ctx.body = { kind: principal.kind };
      return;
    }
    const shop = await shops.require(principal.shopId);
    ctx.body = {
      kind: 'owner',
      shop: {
        id: shop.id,
        name: shop.name,
        timezone: shop.timezone,
        plan: shop.plan ?? null,
        currentMonth: monthOf(clock.now(), shop.timezone),
      },
    };
  });

  router.get('/v1/shops/:shopId/usage', async (ctx) => {
    const shop = await ownShop(ctx);
    const query = validate(ctx.query, usageQuery);
    ctx.body = await buildUsageReport(
      deps,
      shop,
      query.month ?? monthOf(clock.now(), shop.timezone),
    );
  });

  router.get('/v1/shops/:shopId/consultations', async (ctx) => {
    const shop = await ownShop(ctx);
    const { date } = validate(ctx.query, auditQuery);
    const rows = await consultationAudit(deps.meter, shop, date);
    if (wantsCsv(ctx))
      return sendCsv(ctx, `consultations-${shop.id}-${date}.csv`, auditToCsv(rows));
    ctx.body = { shopId: shop.id, date, timezone: shop.timezone, consultations: rows };
  });

  router.get('/v1/shops/:shopId/invoices', async (ctx) => {
    const shop = await ownShop(ctx);
    const list = await invoices.list(shop);
    if (wantsCsv(ctx)) {
      const rows = list.map((i) => [
        i.month,
        i.status,
        i.currency,
        String(i.totalFen),
        i.finalizedAt ?? '',
      ]);
      return sendCsv(
        ctx,
        `invoices-${shop.id}.csv`,
        csvDocument([['month', 'status', 'currency', 'totalFen', 'finalizedAt'], ...rows], {
          bom: true,
        }),
      );
    }
    ctx.body = { shopId: shop.id, invoices: list };
  });

  router.get('/v1/shops/:shopId/invoices/:month', async (ctx) => {
    const shop = await ownShop(ctx);
    const invoice = await invoices.get(shop, ctx.params.month!);
    if (wantsCsv(ctx))
      return sendCsv(
        ctx,
        `invoice-${shop.id}-${invoice.month}-${invoice.status}.csv`,
        invoiceToCsv(invoice, { bom: true }),
      );
    ctx.body = invoice;
  });

  router.post('/v1/shops/:shopId/overtime', async (ctx) => {
    requirePermission(ctx, 'closeMonths');
    const shop = await shops.require(ctx.params.shopId!);
    const input = await readJson(ctx, overtimeBody);
    await deps.overtime.record(shop.id, input.date, input.hours);
    const month = input.date.slice(0, 7);
    const late = await invoices.noteLateEvent(shop.id, `overtime:${input.date}:${input.hours}`, [
      month,
    ]);
    noteAudit(ctx, { details: { date: input.date, hours: input.hours } });
    ctx.body = { shopId: shop.id, date: input.date, hours: input.hours, late: late.length > 0 };
  });

  router.get('/v1/reports/month', async (ctx) => {
    requirePermission(ctx, 'read');
    const query = validate(ctx.query, reportQuery);
    const report = await buildMonthReport(
      deps,
      query.month ?? monthOf(clock.now(), deps.billingTimezone),
    );
    if (wantsCsv(ctx)) return sendCsv(ctx, `month-${report.month}.csv`, monthReportToCsv(report));
    ctx.body = report;
  });

  router.post('/v1/shops/:shopId/plan-preview', async (ctx) => {
    requirePermission(ctx, 'read');
    const shop = await shops.require(ctx.params.shopId!);
    const input = await readJson(ctx, planPreviewBody);
    const at = input.month ?? monthOf(clock.now(), shop.timezone);
    ctx.body = {
      current: (await invoices.withCounters(shop, at)).invoice,
      proposed: await invoices.preview(shop, at, input.plan),
    };
  });

  router.get('/v1/billing/close-preview', async (ctx) => {
    requirePermission(ctx, 'read');
    const query = validate(ctx.query, closePreviewQuery);
    ctx.body = await deps.monthClose.preview(query.month);
  });

  router.post('/v1/billing/close-jobs', async (ctx) => {
    requirePermission(ctx, 'closeMonths');
    const input = await readJson(ctx, closeBody);
    const preview = await deps.monthClose.preview(input.month);
    if (!preview.monthEnded)
      throw new AppError(
        409,
        'month_not_ended',
        `${input.month} has not ended yet in ${deps.billingTimezone}; close it once it is over.`,
        { details: { month: input.month, billingTimezone: deps.billingTimezone } },
      );
    const job = await deps.queue.add(
      'close-month',
      { month: input.month },
      // The operator watches this run and can start another: no silent retries behind the page.
      { jobId: jobIds.monthCloseManual(input.month, clock.now()), attempts: 1 },
    );
    noteAudit(ctx, { target: job.id, details: { month: input.month } });
    ctx.status = 202;
    ctx.body = { jobId: job.id, month: input.month, state: 'waiting' };
  });

  router.get('/v1/billing/close-jobs/:jobId', async (ctx) => {
    requirePermission(ctx, 'read');
    const job = await deps.queue.getJob(ctx.params.jobId!);
    if (!job) throw notFound('Close job');
    const progress = (typeof job.progress === 'object' ? job.progress : {}) as {
      done?: number;
      total?: number;
      report?: unknown;
    };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      jobId: job.id,
      month: job.data.month ?? null,
      state: await job.getState(),
      done: progress.done ?? 0,
      total: progress.total ?? null,
      report: job.returnvalue ?? progress.report ?? null,
      failedReason: job.failedReason ?? null,
    };
  });

  router.post('/v1/billing/close', async (ctx) => {
    requirePermission(ctx, 'closeMonths');
    const input = await readJson(ctx, closeBody);
    noteAudit(ctx, { details: { month: input.month } });
    ctx.body = await deps.monthClose.close(input.month);
  });

  return router;
}
