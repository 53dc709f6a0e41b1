import Router from '@koa/router';
import type { Redis } from 'ioredis';
import type { Context } from 'koa';
import { z } from 'zod';
import type { InvoiceBook } from '../../billing/invoice-book';
import { csvDocument, invoiceToCsv } from '../../billing/invoice-csv';
import type { MonthClose } from '../../billing/month-close';
import { buildUsageReport } from '../../billing/usage-report';
import { auditToCsv, consultationAudit } from '../../metering/consultation-audit';
import type { ConsultationMeter } from '../../metering/consultation-meter';
import type { OvertimeLog } from '../../metering/overtime-log';
import { validate } from '../../platforms/json-body';
import type { Clock } from '../../shared/clock';
import { notFound } from '../../shared/errors';
import type { RedisKeys } from '../../shared/redis';
import { isDay, isMonth, monthOf } from '../../shared/shop-calendar';
import type { ShopRegistry } from '../../shops/shop-registry';
import { principalOf, requireAdmin, requireShopAccess } from '../auth';
import { readJson } from '../json-request';

export interface BillingRouteDeps {
  redis: Redis;
  keys: RedisKeys;
  clock: Clock;
  shops: ShopRegistry;
  meter: ConsultationMeter;
  invoices: InvoiceBook;
  overtime: OvertimeLog;
  monthClose: MonthClose;
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
];

/** Does the client ask for CSV rather than JSON (Accept: text/csv)? */
function wantsCsv(ctx: Context): boolean {
  return ctx.accepts('application/json', 'text/csv') === 'text/csv';
}

function sendCsv(ctx: Context, filename: string, body: string): void {
  ctx.type = 'text/csv; charset=utf-8';
  ctx.set('Content-Disposition', `attachment; filename="${filename}"`);
  ctx.body = body;
}

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
    requireAdmin(ctx);
    const shop = await shops.require(ctx.params.shopId!);
    const input = await readJson(ctx, overtimeBody);
    await deps.overtime.record(shop.id, input.date, input.hours);
    const month = input.date.slice(0, 7);
    const late = await invoices.noteLateEvent(shop.id, `overtime:${input.date}:${input.hours}`, [
      month,
    ]);
    ctx.body = { shopId: shop.id, date: input.date, hours: input.hours, late: late.length > 0 };
  });

  router.post('/v1/billing/close', async (ctx) => {
    requireAdmin(ctx);
    const input = await readJson(ctx, closeBody);
    ctx.body = await deps.monthClose.close(input.month);
  });

  return router;
}
