import Router from '@koa/router';
import { parseConversationId } from '../../conversations/conversation-store';
import { noteAudit } from '../audit-trail';
import { requirePermission } from '../auth';
import { readJson } from '../json-request';
import type { HttpServices } from '../services';
import { transferSchema } from './agent-routes';

export const deskOperations = [
  {
    method: 'get',
    path: '/v1/desk',
    summary:
      "The live desk: per shop buyers waiting, longest wait, agents and load, today's first response; per agent open conversations and today's figures (admin or supervisor)",
  },
  {
    method: 'post',
    path: '/v1/desk/conversations/{conversationId}/transfer',
    summary:
      "Move a buyer to an agent of the shop, whoever holds them now (admin or supervisor); the receiver's stream gets a transferred event with the note",
    body: transferSchema,
  },
];

export function deskRoutes({ deskBoard, workspace }: HttpServices): Router {
  const router = new Router();
  router.get('/v1/desk', async (ctx) => {
    requirePermission(ctx, 'read');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deskBoard.read();
  });
  router.post('/v1/desk/conversations/:conversationId/transfer', async (ctx) => {
    const operator = requirePermission(ctx, 'transferConversations');
    const input = await readJson(ctx, transferSchema);
    const moved = await workspace.transferAsOperator(
      operator.name,
      ctx.params.conversationId!,
      input,
    );
    noteAudit(ctx, {
      target: moved.conversationId,
      shops: [parseConversationId(moved.conversationId).shopId],
      details: { toAgentId: moved.agentId },
    });
    ctx.body = moved;
  });
  return router;
}
