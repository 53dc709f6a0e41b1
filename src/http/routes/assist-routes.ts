import Router from '@koa/router';
import { assistRequestSchema } from '../../assist/assist-request-schema';
import { shopDefaultLocale } from '../../assist/locale-detection';
import { AppError } from '../../shared/errors';
import { principalOf, requireShopAccess } from '../auth';
import { readJson } from '../json-request';
import type { HttpServices } from '../services';

/** Suggestions on demand, for a shop's conversation or a bare history. */
export function assistRoutes({ assistant, shops }: HttpServices): Router {
  const router = new Router();

  router.post('/v1/assist/suggest', async (ctx) => {
    const input = await readJson(ctx, assistRequestSchema);
    const principal = principalOf(ctx);
    if (!input.shopId && principal.kind !== 'admin') {
      // Without a shop there is no catalog and no tenant to check against.
      const only =
        principal.kind === 'owner'
          ? principal.shopId
          : principal.shopIds.length === 1
            ? principal.shopIds[0]
            : undefined;
      if (!only)
        throw new AppError(
          400,
          'invalid_request',
          'shopId: required for an agent serving several shops.',
          { details: { field: 'shopId' } },
        );
      input.shopId = only;
    }
    if (input.shopId) requireShopAccess(ctx, input.shopId);
    const shop = input.shopId ? await shops.require(input.shopId) : undefined;
    ctx.body = await assistant.suggest({
      history: input.history,
      locale: input.locale,
      catalog: shop?.catalog,
      settings: {
        busyNudge: shop?.settings.busyNudge ?? false,
        locale: shop ? shopDefaultLocale(shop.settings.locale, shop.timezone) : undefined,
        linkDomains: shop?.settings.linkDomains,
      },
    });
  });

  return router;
}
