import type { Middleware } from 'koa';
import type { Config } from '../config/config';
import { takeFromWindow } from '../shared/rate-window';
import type { RedisConnection } from '../shared/redis';
import type { RedisKeys } from '../shared/redis-keys';
import { principalOf } from './auth';

type Budget = { name: string; limit: number; what: string };

// The router matches paths case-insensitively and with an optional trailing slash, so these do
// too: otherwise `/v1/assist/suggest/` or `/V1/...` reaches the route without spending its budget.
const SUGGEST = /^\/v1\/assist\/suggest\/?$/i;
const REPLY = /^\/v1\/agent\/conversations\/[^/]+\/replies\/?$/i;
const MEDIA = /^\/v1\/agent\/conversations\/[^/]+\/media\/[^/]+\/?$/i;

/**
 * Per-principal budgets on the authenticated calls that cost the most:
 * suggestions (the engine's CPU or the model's tokens), agent replies (a send
 * each), agents' media fetches (a platform download each) and owners' reads
 * (report queries). One fixed one-minute window per principal and budget in
 * Redis, so every API process shares it; 429 with
 * Retry-After past it. Operators are not limited.
 */
export function principalRateLimit(
  redis: RedisConnection,
  keys: RedisKeys,
  config: Pick<
    Config,
    | 'ASSIST_SUGGESTS_PER_MINUTE'
    | 'AGENT_REPLIES_PER_MINUTE'
    | 'AGENT_MEDIA_PER_MINUTE'
    | 'OWNER_READS_PER_MINUTE'
  >,
): Middleware {
  return async (ctx, next) => {
    const principal = principalOf(ctx);
    let budget: Budget | undefined;
    let who: string | undefined;
    if (principal.kind === 'agent') {
      who = `agent:${principal.agentId}`;
      if (ctx.method === 'POST' && SUGGEST.test(ctx.path))
        budget = { name: 'suggest', limit: config.ASSIST_SUGGESTS_PER_MINUTE, what: 'suggestions' };
      else if (ctx.method === 'POST' && REPLY.test(ctx.path))
        budget = { name: 'reply', limit: config.AGENT_REPLIES_PER_MINUTE, what: 'replies' };
      else if (ctx.method === 'GET' && MEDIA.test(ctx.path))
        budget = { name: 'media', limit: config.AGENT_MEDIA_PER_MINUTE, what: 'media fetches' };
    } else if (principal.kind === 'owner') {
      who = `owner:${principal.shopId}`;
      if (ctx.method === 'POST' && SUGGEST.test(ctx.path))
        budget = { name: 'suggest', limit: config.ASSIST_SUGGESTS_PER_MINUTE, what: 'suggestions' };
      else if (ctx.method === 'GET')
        budget = { name: 'read', limit: config.OWNER_READS_PER_MINUTE, what: 'reads' };
    }
    if (budget && who) {
      await takeFromWindow(
        redis as Parameters<typeof takeFromWindow>[0],
        keys.principalRate(who, budget.name),
        budget.limit,
        60_000,
        `More than ${budget.limit} ${budget.what} a minute with this token; retry shortly.`,
      );
    }
    await next();
  };
}
