import type { Redis } from 'ioredis';
import type { Context, Middleware } from 'koa';
import type { AgentRegistry } from '../agents/agent-registry';
import { AppError, notFound, unauthorized } from '../shared/errors';
import type { RedisKeys } from '../shared/redis';
import { hashToken, safeEqual } from '../shared/tokens';

export type Principal =
  | { kind: 'admin' }
  | { kind: 'owner'; shopId: string }
  | { kind: 'agent'; agentId: string; name: string; shopIds: string[] };

/** Resolves the bearer token to a principal; every /v1 route sits behind it. */
export function bearerAuth(deps: {
  adminToken: string;
  redis: Redis;
  keys: RedisKeys;
  agents: AgentRegistry;
}): Middleware {
  const adminHash = Buffer.from(hashToken(deps.adminToken), 'hex');
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw unauthorized('Send Authorization: Bearer <token>.');
    const tokenHash = hashToken(match[1]);
    let principal: Principal | null = null;
    if (safeEqual(Buffer.from(tokenHash, 'hex'), adminHash)) {
      principal = { kind: 'admin' };
    } else {
      const entry = await deps.redis.get(deps.keys.token(tokenHash));
      const record = entry
        ? (JSON.parse(entry) as
            | { kind: 'owner'; shopId: string }
            | { kind: 'agent'; agentId: string })
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

export function requireAdmin(ctx: Context): void {
  if (principalOf(ctx).kind !== 'admin')
    throw new AppError(403, 'forbidden', 'Only the operator (ADMIN_TOKEN) may do this.');
}

export function requireAgent(ctx: Context): Extract<Principal, { kind: 'agent' }> {
  const principal = principalOf(ctx);
  if (principal.kind !== 'agent')
    throw new AppError(403, 'forbidden', 'Sign in with an agent token.');
  return principal;
}

/**
 * May this principal see the shop? A shop it may not see answers exactly
 * like a shop that does not exist, so ids cannot be probed.
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
