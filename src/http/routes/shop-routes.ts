import Router from '@koa/router';
import { z } from 'zod';
import { PLAN_MODELS } from '../../billing/plan-schema';
import { PLATFORMS } from '../../platforms/contract';
import { validate } from '../../platforms/json-body';
import type { Shop } from '../../shops/shop-registry';
import { channelOf, createShopSchema, updateShopSchema } from '../../shops/shop-schema';
import { widgetSnippet } from '../../widget/snippet';
import { noteAudit } from '../audit-trail';
import { requirePermission, requireShopAccess } from '../auth';
import { readJson } from '../json-request';
import type { HttpServices } from '../services';

export const listShopsQuery = z.object({
  platform: z.enum(PLATFORMS).optional(),
  /** case-insensitive part of the name */
  name: z.string().trim().min(1).max(200).optional(),
  planModel: z.enum([...PLAN_MODELS, 'none']).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  /** an opaque cursor from `nextCursor`, or a plain offset */
  // A safe integer: past that Number() gives 1e+23 or Infinity, which the answer's offset shows as null.
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, 'must be the nextCursor of a previous page')
    .optional(),
  offset: z.coerce.number().int().min(0).optional(),
});
export const rotateSecretSchema = z.object({ revokePrevious: z.boolean().optional() }).strict();

export const shopOperations = [
  { method: 'post', path: '/v1/shops', summary: 'Create a shop (admin)', body: createShopSchema },
  {
    method: 'get',
    path: '/v1/shops',
    summary: 'List shops, filtered and paged, with the total (admin or supervisor)',
    query: listShopsQuery,
  },
  { method: 'get', path: '/v1/shops/{shopId}', summary: 'Read a shop (operator or its owner)' },
  {
    method: 'patch',
    path: '/v1/shops/{shopId}',
    summary: 'Update a shop (admin)',
    body: updateShopSchema,
  },
  {
    method: 'post',
    path: '/v1/shops/{shopId}/owner-key',
    summary: 'Reissue the owner key, shown once; the old key is refused at once (admin)',
  },
  {
    method: 'post',
    path: '/v1/shops/{shopId}/webhook-secret',
    summary:
      "Rotate a generic shop's webhook secret, shown once; the previous one verifies for WEBHOOK_SECRET_GRACE_HOURS unless revokePrevious (admin)",
    body: rotateSecretSchema,
  },
];

/** What a shop PATCH changed, for the audit log: plan and settings in full, credentials by field name only. */
function changeSummary(patch: z.infer<typeof updateShopSchema>): Record<string, unknown> {
  const { credentials, catalog, ...rest } = patch;
  return {
    fields: Object.keys(patch),
    ...rest,
    ...(credentials ? { credentialFields: Object.keys(credentials) } : {}),
    ...(catalog ? { catalogProducts: catalog.products.length } : {}),
  };
}

export function shopRoutes(services: HttpServices): Router {
  const router = new Router();
  const { shops } = services;

  const view = (shop: Shop) => ({
    id: shop.id,
    name: shop.name,
    platform: shop.platform,
    channel: channelOf(shop),
    timezone: shop.timezone,
    // Web shops take no webhooks: their buyers come through the widget snippet.
    webhookUrl:
      shop.platform === 'web'
        ? null
        : `${services.publicBaseUrl}/webhooks/${shop.platform}/${shop.id}`,
    plan: shop.plan ?? null,
    catalog: shop.catalog ?? null,
    settings: shop.settings,
    createdAt: shop.createdAt,
    ...(shop.widgetKey
      ? {
          widgetKey: shop.widgetKey,
          snippet: widgetSnippet(services.publicBaseUrl, shop.widgetKey),
        }
      : {}),
  });

  router.post('/v1/shops', async (ctx) => {
    requirePermission(ctx, 'manageShops');
    const input = await readJson(ctx, createShopSchema);
    const created = await shops.create(input);
    noteAudit(ctx, {
      shops: [created.id],
      details: { name: created.name, platform: created.platform, plan: created.plan ?? null },
    });
    ctx.status = 201;
    ctx.body = {
      ...view(created),
      ownerKey: created.ownerKey,
      ...(created.webhookSecret ? { webhookSecret: created.webhookSecret } : {}),
    };
  });

  router.get('/v1/shops', async (ctx) => {
    requirePermission(ctx, 'read');
    const query = validate(ctx.query, listShopsQuery);
    const ids = await shops.listIds();
    const all = (await Promise.all(ids.map((id) => shops.get(id)))).filter(
      (s): s is Shop => s !== null,
    );
    const needle = query.name?.toLocaleLowerCase();
    const matching = all.filter(
      (shop) =>
        (!query.platform || shop.platform === query.platform) &&
        (!needle || shop.name.toLocaleLowerCase().includes(needle)) &&
        (!query.planModel || (shop.plan?.model ?? 'none') === query.planModel),
    );
    const offset = query.cursor ? Number(query.cursor) : (query.offset ?? 0);
    const limit = query.limit ?? matching.length;
    const page = matching.slice(offset, offset + limit);
    const next = offset + page.length;
    ctx.body = {
      shops: page.map(view),
      total: matching.length,
      offset,
      nextCursor: next < matching.length ? String(next) : null,
    };
  });

  router.get('/v1/shops/:shopId', async (ctx) => {
    requireShopAccess(ctx, ctx.params.shopId!, ['admin', 'owner']);
    ctx.body = view(await shops.require(ctx.params.shopId!));
  });

  router.patch('/v1/shops/:shopId', async (ctx) => {
    requirePermission(ctx, 'manageShops');
    const patch = await readJson(ctx, updateShopSchema);
    ctx.body = view(await shops.update(ctx.params.shopId!, patch));
    noteAudit(ctx, { details: changeSummary(patch) });
  });

  router.post('/v1/shops/:shopId/owner-key', async (ctx) => {
    requirePermission(ctx, 'manageKeys');
    const ownerKey = await shops.reissueOwnerKey(ctx.params.shopId!);
    ctx.body = { shopId: ctx.params.shopId, ownerKey };
  });

  router.post('/v1/shops/:shopId/webhook-secret', async (ctx) => {
    requirePermission(ctx, 'manageKeys');
    const input = await readJson(ctx, rotateSecretSchema);
    const revokePrevious = input.revokePrevious ?? false;
    const rotated = await shops.rotateWebhookSecret(ctx.params.shopId!, {
      revokePrevious,
      graceMs: services.config.WEBHOOK_SECRET_GRACE_HOURS * 3_600_000,
    });
    noteAudit(ctx, { details: { revokePrevious, previousValidUntil: rotated.previousValidUntil } });
    ctx.body = { shopId: ctx.params.shopId, ...rotated };
  });

  return router;
}
