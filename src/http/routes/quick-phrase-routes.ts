import Router from '@koa/router';
import type { Context } from 'koa';
import { createPhraseSchema, updatePhraseSchema } from '../../agents/quick-phrases';
import { requireAgent, requirePermission, requireShopAccess } from '../auth';
import { readJson } from '../json-request';
import type { HttpServices } from '../services';

/** The quick-phrase operations for /openapi.json, beside their handlers. */
export const quickPhraseOperations = [
  {
    method: 'get',
    path: '/v1/shops/{shopId}/quick-phrases',
    summary: "A shop's quick phrases (operator, the shop's owner or its agents)",
  },
  {
    method: 'post',
    path: '/v1/shops/{shopId}/quick-phrases',
    summary: 'Add a shop-wide quick phrase (operator; 409 shortcut_taken)',
    body: createPhraseSchema,
  },
  {
    method: 'patch',
    path: '/v1/shops/{shopId}/quick-phrases/{phraseId}',
    summary: 'Change a shop-wide quick phrase (operator)',
    body: updatePhraseSchema,
  },
  {
    method: 'delete',
    path: '/v1/shops/{shopId}/quick-phrases/{phraseId}',
    summary: 'Delete a shop-wide quick phrase (operator)',
  },
  {
    method: 'get',
    path: '/v1/agent/quick-phrases',
    summary: "The agent's own quick phrases and those of their shops, scope marked",
  },
  {
    method: 'post',
    path: '/v1/agent/quick-phrases',
    summary: 'Add a personal quick phrase (409 shortcut_taken)',
    body: createPhraseSchema,
  },
  {
    method: 'patch',
    path: '/v1/agent/quick-phrases/{phraseId}',
    summary: 'Change a personal quick phrase',
    body: updatePhraseSchema,
  },
  {
    method: 'delete',
    path: '/v1/agent/quick-phrases/{phraseId}',
    summary: 'Delete a personal quick phrase',
  },
] as const;

/** Quick phrases (快捷短语): shop-wide ones for operators, personal ones for each agent. */
export function quickPhraseRoutes(services: HttpServices): Router {
  const router = new Router();
  const { quickPhrases, shops } = services;

  const shopScope = async (ctx: Context, write: boolean) => {
    const shopId = ctx.params.shopId!;
    if (write) requirePermission(ctx, 'manageQuickPhrases');
    else requireShopAccess(ctx, shopId);
    await shops.require(shopId);
    return { shopId };
  };

  router.get('/v1/shops/:shopId/quick-phrases', async (ctx) => {
    const scope = await shopScope(ctx, false);
    ctx.body = { shopId: scope.shopId, quickPhrases: await quickPhrases.list(scope) };
  });

  router.post('/v1/shops/:shopId/quick-phrases', async (ctx) => {
    const scope = await shopScope(ctx, true);
    const input = await readJson(ctx, createPhraseSchema);
    ctx.status = 201;
    ctx.body = await quickPhrases.create(scope, input);
  });

  router.patch('/v1/shops/:shopId/quick-phrases/:phraseId', async (ctx) => {
    const scope = await shopScope(ctx, true);
    const patch = await readJson(ctx, updatePhraseSchema);
    ctx.body = await quickPhrases.update(scope, ctx.params.phraseId!, patch);
  });

  router.delete('/v1/shops/:shopId/quick-phrases/:phraseId', async (ctx) => {
    const scope = await shopScope(ctx, true);
    await quickPhrases.remove(scope, ctx.params.phraseId!);
    ctx.status = 204;
  });

  router.get('/v1/agent/quick-phrases', async (ctx) => {
    const agent = requireAgent(ctx);
    ctx.body = { quickPhrases: await quickPhrases.forAgent(agent.agentId, agent.shopIds) };
  });

  router.post('/v1/agent/quick-phrases', async (ctx) => {
    const agent = requireAgent(ctx);
    const input = await readJson(ctx, createPhraseSchema);
    ctx.status = 201;
    ctx.body = await quickPhrases.create({ agentId: agent.agentId }, input);
  });

  router.patch('/v1/agent/quick-phrases/:phraseId', async (ctx) => {
    const agent = requireAgent(ctx);
    const patch = await readJson(ctx, updatePhraseSchema);
    ctx.body = await quickPhrases.update({ agentId: agent.agentId }, ctx.params.phraseId!, patch);
  });

  router.delete('/v1/agent/quick-phrases/:phraseId', async (ctx) => {
    const agent = requireAgent(ctx);
    await quickPhrases.remove({ agentId: agent.agentId }, ctx.params.phraseId!);
    ctx.status = 204;
  });

  return router;
}
