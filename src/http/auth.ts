import type { Context, Middleware } from 'koa';
import type { AgentRegistry } from '../agents/agent-registry';
import type { OperatorRegistry, OperatorRole } from '../operators/operator-registry';
import { AppError, notFound, unauthorized } from '../shared/errors';
import type { RedisConnection, RedisKeys } from '../shared/redis';
import { hashToken, safeEqual } from '../shared/tokens';

/**
 * Who is calling. Every operator (the desk owner's ADMIN_TOKEN, or a named
 * operator) is kind `admin` and carries a role: both roles read everything,
 * only `admin` changes what the permission table reserves to it.
 */
export type Principal =
  | {
      kind: 'admin';
      role: OperatorRole;
      /** `owner` for ADMIN_TOKEN (the desk owner), else the operator's id */
      operatorId: string;
      name: string;
    }
  | { kind: 'owner'; shopId: string }
  /** `tokenHash`: the token this request signed in with, so an open stream can tell it was reissued. */
  | { kind: 'agent'; agentId: string; name: string; shopIds: string[]; tokenHash: string };

/** The desk owner's id in the audit log and operator lists. */
export const DESK_OWNER_ID = 'owner';

/**
 * What each operator role may do, in one table. Routes ask for a permission,
 * never for a role; `what` names the refused action in the 403 message.
 */
export const PERMISSIONS = {
  /** shops, agents, usage, invoices, the desk, reports, failed jobs */
  read: { roles: ['admin', 'supervisor'], what: 'read the desk' },
  assignAgents: { roles: ['admin', 'supervisor'], what: 'move agents between shops' },
  transferConversations: { roles: ['admin', 'supervisor'], what: 'transfer conversations' },
  manageQuickPhrases: { roles: ['admin', 'supervisor'], what: "manage shops' quick phrases" },
  manageShops: {
    roles: ['admin'],
    what: 'create shops or change their plans, credentials, catalogs or settings',
  },
  manageKeys: { roles: ['admin'], what: 'reissue owner keys, agent tokens or webhook secrets' },
  manageAgents: { roles: ['admin'], what: 'create, rename or revoke agents' },
  manageOperators: { roles: ['admin'], what: 'create, change or revoke operators' },
  closeMonths: { roles: ['admin'], what: 'close months or record overtime' },
  retryJobs: { roles: ['admin'], what: 'retry failed jobs' },
  readAuditLog: { roles: ['admin'], what: 'read the audit log' },
} as const satisfies Record<string, { roles: readonly OperatorRole[]; what: string }>;

export type Permission = keyof typeof PERMISSIONS;

/** Resolves the bearer token to a principal; every /v1 route sits behind it. */
export function bearerAuth(deps: {
  adminToken: string;
  redis: RedisConnection;
  keys: RedisKeys;
  agents: AgentRegistry;
  operators: OperatorRegistry;
}): Middleware {
  const adminHash = Buffer.from(hashToken(deps.adminToken), 'hex');
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw unauthorized('Send Authorization: Bearer <token>.');
    const tokenHash = hashToken(match[1]);
    let principal: Principal | null = null;
    if (safeEqual(Buffer.from(tokenHash, 'hex'), adminHash)) {
      principal = { kind: 'admin', role: 'admin', operatorId: DESK_OWNER_ID, name: 'Desk owner' };
    } else {
      const entry = await deps.redis.get(deps.keys.token(tokenHash));
      const record = entry
        ? (JSON.parse(entry) as
            | { kind: 'owner'; shopId: string }
            | { kind: 'agent'; agentId: string }
            | { kind: 'operator'; operatorId: string })
        : null;
      if (record?.kind === 'owner') principal = { kind: 'owner', shopId: record.shopId };
      if (record?.kind === 'agent') {
        const agent = await deps.agents.get(record.agentId);
        if (agent)
          principal = {
            kind: 'agent',
            agentId: agent.id,
            name: agent.name,
            shopIds: agent.shopIds,
            tokenHash,
          };
      }
      if (record?.kind === 'operator') {
        // Read on every request, so a changed role or a revocation applies at once.
        const operator = await deps.operators.get(record.operatorId);
        if (operator)
          principal = {
            kind: 'admin',
            role: operator.role,
            operatorId: operator.id,
            name: operator.name,
          };
      }
    }
    if (!principal) throw unauthorized('The token is unknown or has been revoked.');
    ctx.state.principal = principal;
    await next();
  };
}

export function principalOf(ctx: Context): Principal {
  return ctx.state.principal as Principal;
}

/** The operator, if the permission table lets its role do this; 403 naming the action otherwise. */
export function requirePermission(
  ctx: Context,
  permission: Permission,
): Extract<Principal, { kind: 'admin' }> {
  const principal = principalOf(ctx);
  const rule = PERMISSIONS[permission];
  if (principal.kind !== 'admin')
    throw new AppError(403, 'forbidden', 'Only an operator (admin or supervisor) may do this.', {
      details: { permission },
    });
  if (!(rule.roles as readonly OperatorRole[]).includes(principal.role))
    throw new AppError(
      403,
      'forbidden',
      `A ${principal.role} may not ${rule.what}; ask an admin.`,
      { details: { permission, role: principal.role } },
    );
  return principal;
}

/** Only an operator with the admin role: for routes not yet given a finer permission. */
export function requireAdmin(ctx: Context): void {
  requirePermission(ctx, 'manageShops');
}

export function requireAgent(ctx: Context): Extract<Principal, { kind: 'agent' }> {
  const principal = principalOf(ctx);
  if (principal.kind !== 'agent')
    throw new AppError(403, 'forbidden', 'Sign in with an agent token.');
  return principal;
}

/**
 * May this principal see the shop? A shop it may not see answers exactly
 * like a shop that does not exist, so ids cannot be probed. Every operator
 * (either role) sees every shop.
 */
export function requireShopAccess(
  ctx: Context,
  shopId: string,
  allowed: Array<Principal['kind']> = ['admin', 'owner', 'agent'],
): void {
  const principal = principalOf(ctx);
  const visible =
    allowed.includes(principal.kind) &&
    (principal.kind === 'admin' ||
      (principal.kind === 'owner' && principal.shopId === shopId) ||
      (principal.kind === 'agent' && principal.shopIds.includes(shopId)));
  if (!visible) throw notFound('Shop');
}
