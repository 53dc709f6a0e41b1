import Router from '@koa/router';
import type { Shop } from '../../shops/shop-registry';
import { channelOf, createShopSchema, updateShopSchema } from '../../shops/shop-schema';
import { widgetSnippet } from '../../widget/snippet';
import { requireAdmin, requireShopAccess } from '../auth';
import { readJson } from '../json-request';
import type { HttpServices } from '../services';

export function shopRoutes(services: HttpServices): Router {
  const router = new Router();
  const { shops } = services;

  const view = (shop: Shop) => ({
    id: shop.id,
    name: shop.name,
    platform: shop.platform,
    channel: channelOf(shop),
    timezone: shop.timezone,
    webhookUrl: `${services.publicBaseUrl}/webhooks/${shop.platform}/${shop.id}`,
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
    requireAdmin(ctx);
    const input = await readJson(ctx, createShopSchema);
    const created = await shops.create(input);
    ctx.status = 201;
    ctx.body = {
      ...view(created),
      ownerKey: created.ownerKey,
      ...(created.webhookSecret ? { webhookSecret: created.webhookSecret } : {}),
    };
  });

  router.get('/v1/shops', async (ctx) => {
    requireAdmin(ctx);
    const ids = await shops.listIds();
    const list = await Promise.all(ids.map((id) => shops.get(id)));
    ctx.body = { shops: list.filter((s): s is Shop => s !== null).map(view) };
  });

  router.get('/v1/shops/:shopId', async (ctx) => {
    requireShopAccess(ctx, ctx.params.shopId!, ['admin', 'owner']);
    ctx.body = view(await shops.require(ctx.params.shopId!));
  });

  router.patch('/v1/shops/:shopId', async (ctx) => {
    requireAdmin(ctx);
    const patch = await readJson(ctx, updateShopSchema);
    ctx.body = view(await shops.update(ctx.params.shopId!, patch));
  });

  return router;
}
