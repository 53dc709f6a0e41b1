import Router from '@koa/router';
import { requirePermission } from '../auth';
import type { HttpServices } from '../services';

export const deskOperations = [
  {
    method: 'get',
    path: '/v1/desk',
    summary:
      "The live desk: per shop buyers waiting, longest wait, agents and load, today's first response; per agent open conversations and today's figures (admin or supervisor)",
  },
];

export function deskRoutes({ deskBoard }: HttpServices): Router {
  const router = new Router();
  router.get('/v1/desk', async (ctx) => {
    requirePermission(ctx, 'read');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deskBoard.read();
  });
  return router;
}
