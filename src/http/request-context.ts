import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../shared/logger';

const SANE_REQUEST_ID = /^[\w.-]{1,64}$/;

/**
 * Gives each request an id (kept from X-Request-Id when sane), in
 * `ctx.state.requestId` for whatever logs about the request.
 */
export function requestContext(logger: Logger): Middleware {
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const id = SANE_REQUEST_ID.test(given) ? given : randomUUID();
    ctx.set('X-Request-Id', id);
    ctx.state.requestId = id;
    const started = performance.now();
    try {
      await next();
    } finally {
      // Path only: query strings can carry handshake tokens.
      logger.info(
        {
          requestId: id,
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    }
  };
}
