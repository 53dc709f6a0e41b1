import Router from '@koa/router';
import { z } from 'zod';
import { notFound } from '../../shared/errors';
import { noteAudit } from '../audit-trail';
import { requirePermission } from '../auth';
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

export const agentAdminOperations = [
  {
    method: 'post',
    path: '/v1/agents',
    summary: 'Create an agent (admin)',
    body: createAgentSchema,
  },
  {
    method: 'get',
    path: '/v1/agents',
    summary: 'Every agent with their shops, presence and open conversations (admin or supervisor)',
  },
  { method: 'get', path: '/v1/agents/{agentId}', summary: 'Read an agent (admin or supervisor)' },
  {
    method: 'patch',
    path: '/v1/agents/{agentId}',
    summary: 'Move an agent between shops (admin or supervisor) or rename them (admin)',
    body: updateAgentSchema,
  },
  { method: 'delete', path: '/v1/agents/{agentId}', summary: 'Revoke an agent (admin)' },
  {
    method: 'post',
    path: '/v1/agents/{agentId}/token',
    summary: "Reissue an agent's token, shown once; the old one is refused at once (admin)",
  },
];

/** Operator endpoints that list, create, reassign, reissue and revoke agents. */
export function agentAdminRoutes({ agents, shops, deskBoard }: HttpServices): Router {
  const router = new Router();

  router.post('/v1/agents', async (ctx) => {
    requirePermission(ctx, 'manageAgents');
    const created = await agents.create(await readJson(ctx, createAgentSchema));
    noteAudit(ctx, {
      target: created.id,
      shops: created.shopIds,
      details: { name: created.name, shopIds: created.shopIds },
    });
    ctx.status = 201;
    ctx.body = {
      id: created.id,
      name: created.name,
      shopIds: created.shopIds,
      token: created.token,
    };
  });

  router.get('/v1/agents', async (ctx) => {
    requirePermission(ctx, 'read');
    const list = await agents.list(await shops.listIds());
    const names = new Map<string, string>();
    for (const shopId of new Set(list.flatMap((a) => a.shopIds)))
      names.set(shopId, (await shops.get(shopId))?.name ?? shopId);
    const live = await deskBoard.agentsLive(list.map((a) => a.id));
    ctx.body = {
      agents: list.map((agent) => ({
        ...agent,
        shops: agent.shopIds.map((id) => ({ id, name: names.get(id) ?? id })),
        presence: live.get(agent.id)?.presence ?? null,
        openConversations: live.get(agent.id)?.open ?? 0,
      })),
    };
  });

  router.get('/v1/agents/:agentId', async (ctx) => {
    requirePermission(ctx, 'read');
    const agent = await agents.get(ctx.params.agentId!);
    if (!agent) throw notFound('Agent');
    ctx.body = agent;
  });

  router.patch('/v1/agents/:agentId', async (ctx) => {
    requirePermission(ctx, 'assignAgents');
    const patch = await readJson(ctx, updateAgentSchema);
    // Moving between shops is a supervisor's daily work; a new name is the admin's.
    if (patch.name !== undefined) requirePermission(ctx, 'manageAgents');
    const before = await agents.get(ctx.params.agentId!);
    ctx.body = await agents.update(ctx.params.agentId!, patch);
    noteAudit(ctx, {
      shops: [...(before?.shopIds ?? []), ...(patch.shopIds ?? [])],
      details: { ...patch, ...(patch.shopIds ? { previousShopIds: before?.shopIds } : {}) },
    });
  });

  router.delete('/v1/agents/:agentId', async (ctx) => {
    requirePermission(ctx, 'manageAgents');
    const agent = await agents.get(ctx.params.agentId!);
    await agents.remove(ctx.params.agentId!);
    noteAudit(ctx, { shops: agent?.shopIds ?? [], details: { name: agent?.name } });
    ctx.status = 204;
  });

  router.post('/v1/agents/:agentId/token', async (ctx) => {
    requirePermission(ctx, 'manageKeys');
    const token = await agents.reissueToken(ctx.params.agentId!);
    noteAudit(ctx, { shops: (await agents.get(ctx.params.agentId!))?.shopIds ?? [] });
    ctx.body = { agentId: ctx.params.agentId, token };
  });

  return router;
}
