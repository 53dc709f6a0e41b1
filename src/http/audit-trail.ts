import type { Context, Middleware } from 'koa';
import type { AuditLog } from '../audit/audit-log';
import type { Logger } from '../shared/logger';
import { principalOf } from './auth';

/** Action names of the operator routes; any other changing route is recorded as `METHOD /path`. */
const ACTIONS: Record<string, string> = {
  'POST /v1/shops': 'shop.create',
  'PATCH /v1/shops/:shopId': 'shop.update',
  'POST /v1/shops/:shopId/owner-key': 'shop.owner_key.reissue',
  'POST /v1/shops/:shopId/webhook-secret': 'shop.webhook_secret.rotate',
  'POST /v1/shops/:shopId/overtime': 'shop.overtime.record',
  'POST /v1/agents': 'agent.create',
  'PATCH /v1/agents/:agentId': 'agent.update',
  'DELETE /v1/agents/:agentId': 'agent.revoke',
  'POST /v1/agents/:agentId/token': 'agent.token.reissue',
  'POST /v1/operators': 'operator.create',
  'PATCH /v1/operators/:operatorId': 'operator.update',
  'DELETE /v1/operators/:operatorId': 'operator.revoke',
  'POST /v1/billing/close': 'billing.close',
  'POST /v1/billing/close-jobs': 'billing.close.start',
  'POST /v1/ops/failed-jobs/:queue/:jobId/retry': 'job.retry',
  'POST /v1/desk/conversations/:conversationId/transfer': 'conversation.transfer',
};

/** Routes that answer a POST without changing anything: not operator actions. */
const READS = new Set(['POST /v1/shops/:shopId/plan-preview', 'POST /v1/assist/suggest']);

/** What a route adds to its audit entry (ids it created, fields changed); never secrets. */
export interface AuditNote {
  /** the shops concerned, when not the route's :shopId */
  shops?: string[];
  target?: string;
  details?: Record<string, unknown>;
}

/** Lets a route enrich the entry the audit trail writes for this request. */
export function noteAudit(ctx: Context, note: AuditNote): void {
  ctx.state.audit = { ...(ctx.state.audit as AuditNote | undefined), ...note };
}

/**
 * Records every operator request that changed something (a write that
 * succeeded) in the audit log, in one place keyed on the route, so a new
 * route cannot forget it. Sits inside bearer auth, around the /v1 routers.
 */
export function auditTrail(deps: { audit: AuditLog; logger: Logger }): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.method === 'GET' || ctx.method === 'HEAD' || ctx.method === 'OPTIONS') return;
    if (ctx.status >= 400) return;
    const principal = principalOf(ctx);
    if (principal?.kind !== 'admin') return;
    const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? ctx.path;
    const params = (ctx.params ?? {}) as Record<string, string>;
    const note = (ctx.state.audit ?? {}) as AuditNote;
    const key = `${ctx.method} ${route}`;
    if (READS.has(key)) return;
    try {
      await deps.audit.record({
        actor: { id: principal.operatorId, name: principal.name, role: principal.role },
        action: ACTIONS[key] ?? key,
        shops: note.shops ?? (params.shopId ? [params.shopId] : []),
        target: note.target ?? params.agentId ?? params.operatorId ?? params.jobId ?? null,
        details: note.details,
      });
    } catch (error) {
      // The change is made; a lost audit entry is logged loudly rather than turned into a failed request.
      deps.logger.error(
        { err: (error as Error).message, action: key, requestId: ctx.state.requestId },
        'audit entry not written',
      );
    }
  };
}
