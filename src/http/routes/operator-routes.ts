import Router from '@koa/router';
import { z } from 'zod';
import { OPERATOR_ROLES } from '../../operators/operator-registry';
import { validate } from '../../platforms/json-body';
import { csvDocument, csvText } from '../../shared/csv';
import { badRequest } from '../../shared/errors';
import { isDay } from '../../shared/shop-calendar';
import { noteAudit } from '../audit-trail';
import { DESK_OWNER_ID, requirePermission } from '../auth';
import { sendCsv, wantsCsv } from '../csv-response';
import { readJson } from '../json-request';
import type { HttpServices } from '../services';

export const createOperatorSchema = z
  .object({ name: z.string().trim().min(1).max(200), role: z.enum(OPERATOR_ROLES) })
  .strict();
export const updateOperatorSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    role: z.enum(OPERATOR_ROLES).optional(),
  })
  .strict();

/**
 * ISO-8601 with an offset: without one Date.parse reads the server's own zone,
 * and it rolls a day past the month end (02-30) over, so the day is checked too.
 */
const OFFSET_TIME =
  /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** An instant (ISO-8601 with an offset) or a UTC calendar day. */
const instant = z.string().refine(
  (v) => {
    if (isDay(v)) return true;
    const day = OFFSET_TIME.exec(v)?.[1];
    return day !== undefined && isDay(day) && !Number.isNaN(Date.parse(v));
  },
  { message: 'must be an ISO-8601 time with an offset (Z or +08:00) or a day YYYY-MM-DD (UTC)' },
);
export const auditQuery = z.object({
  from: instant.optional(),
  to: instant.optional(),
  shopId: z.string().min(1).max(100).optional(),
  actor: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(5000).optional(),
});

export const operatorOperations = [
  {
    method: 'post',
    path: '/v1/operators',
    summary: 'Create a named operator, admin or supervisor (admin); the token is shown once',
    body: createOperatorSchema,
  },
  { method: 'get', path: '/v1/operators', summary: 'List operators (admin or supervisor)' },
  {
    method: 'patch',
    path: '/v1/operators/{operatorId}',
    summary: 'Rename an operator or change their role (admin)',
    body: updateOperatorSchema,
  },
  {
    method: 'delete',
    path: '/v1/operators/{operatorId}',
    summary: 'Revoke an operator; their token is refused at once (admin)',
  },
  {
    method: 'get',
    path: '/v1/audit-log',
    summary:
      'Operator actions, newest first, filtered by time, shop and actor (admin; Accept: text/csv for CSV)',
    query: auditQuery,
  },
];

const DAY_MS = 86_400_000;

/** Named operators and the audit log of what operators did. */
export function operatorRoutes({ operators, audit, clock }: HttpServices): Router {
  const router = new Router();

  router.post('/v1/operators', async (ctx) => {
    requirePermission(ctx, 'manageOperators');
    const created = await operators.create(await readJson(ctx, createOperatorSchema));
    noteAudit(ctx, { target: created.id, details: { name: created.name, role: created.role } });
    ctx.status = 201;
    ctx.body = created;
  });

  router.get('/v1/operators', async (ctx) => {
    requirePermission(ctx, 'read');
    ctx.body = {
      owner: { id: DESK_OWNER_ID, name: 'Desk owner', role: 'admin' },
      operators: await operators.list(),
    };
  });

  router.patch('/v1/operators/:operatorId', async (ctx) => {
    requirePermission(ctx, 'manageOperators');
    const patch = await readJson(ctx, updateOperatorSchema);
    ctx.body = await operators.update(ctx.params.operatorId!, patch);
    noteAudit(ctx, { details: patch });
  });

  router.delete('/v1/operators/:operatorId', async (ctx) => {
    requirePermission(ctx, 'manageOperators');
    const removed = await operators.remove(ctx.params.operatorId!);
    noteAudit(ctx, { details: { name: removed.name, role: removed.role } });
    ctx.status = 204;
  });

  router.get('/v1/audit-log', async (ctx) => {
    requirePermission(ctx, 'readAuditLog');
    const query = validate(ctx.query, auditQuery);
    const toMs = query.to
      ? Date.parse(isDay(query.to) ? `${query.to}T00:00:00Z` : query.to)
      : clock.now() + 1;
    // A bare `to` day includes that whole day.
    const toEnd = query.to && isDay(query.to) ? toMs + DAY_MS : toMs;
    const fromMs = query.from
      ? Date.parse(isDay(query.from) ? `${query.from}T00:00:00Z` : query.from)
      : toEnd - 31 * DAY_MS;
    if (fromMs >= toEnd)
      throw badRequest('invalid_request', 'from must be before to.', { field: 'from' });
    const entries = await audit.query({
      fromMs,
      toMs: toEnd,
      shopId: query.shopId,
      actor: query.actor,
      limit: query.limit ?? 1000,
    });
    if (wantsCsv(ctx)) {
      const rows = entries.map((e) => [
        e.at,
        csvText(e.actor.id),
        csvText(e.actor.name),
        e.actor.role,
        csvText(e.action),
        csvText(e.shopId ?? ''),
        csvText(e.target ?? ''),
        csvText(JSON.stringify(e.details)),
      ]);
      return sendCsv(
        ctx,
        'audit-log.csv',
        csvDocument(
          [
            ['at', 'actorId', 'actorName', 'role', 'action', 'shopId', 'target', 'details'],
            ...rows,
          ],
          { bom: true },
        ),
      );
    }
    ctx.body = {
      from: new Date(fromMs).toISOString(),
      to: new Date(toEnd).toISOString(),
      entries,
    };
  });

  return router;
}
