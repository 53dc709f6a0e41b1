import Router from '@koa/router';
import { z } from 'zod';
import { notFound } from '../../shared/errors';
import { requireAdmin } from '../auth';
import { readJson } from '../json-request';
import type { HttpServices } from '../services';

export const createAgentSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    shopIds: z.array(z.string().min(1)).min(1).max(100),
  })
  .strict();
export const updateAgentSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    shopIds: z.array(z.string().min(1)).min(1).max(100).optional(),
  })
  .strict();

/** Operator endpoints that create, reassign and revoke agents. */
export function agentAdminRoutes({ agents }: HttpServices): Router {
  const router = new Router();

  router.post('/v1/agents', async (ctx) => {
    requireAdmin(ctx);
    const created = await agents.create(await readJson(ctx, createAgentSchema));
    ctx.status = 201;
    ctx.body = {
      id: created.id,
      name: created.name,
      shopIds: created.shopIds,
      token: created.token,
    };
  });

  router.get('/v1/agents/:agentId', async (ctx) => {
    requireAdmin(ctx);
    const agent = await agents.get(ctx.params.agentId!);
    if (!agent) throw notFound('Agent');
    ctx.body = agent;
  });

  router.patch('/v1/agents/:agentId', async (ctx) => {
    requireAdmin(ctx);
    ctx.body = await agents.update(ctx.params.agentId!, await readJson(ctx, updateAgentSchema));
  });

  router.delete('/v1/agents/:agentId', async (ctx) => {
    requireAdmin(ctx);
    await agents.remove(ctx.params.agentId!);
    ctx.status = 204;
  });

  return router;
}
