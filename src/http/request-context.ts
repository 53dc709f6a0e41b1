import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../shared/logger';

/** Gives each request an id (kept from X-Request-Id when sane) and a child logger. */
export function requestContext(logger: Logger): Middleware {
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    const id = /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    ctx.set('X-Request-Id', id);
    ctx.state.requestId = id;
    // Created on first use: most requests never log more than their one line.
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      get: () => (child ??= logger.child({ requestId: id })),
      configurable: true,
    });
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
