import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../shared/logger';

const SANE_REQUEST_ID = /^[\w.-]{1,64}$/;

/** The request's id: the caller's X-Request-Id when sane, else a new one. */
export function requestIdOf(given: string | undefined): string {
  return given && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * A conversation id is the buyer id in base64 (a WhatsApp buyer id is a phone
 * number), so it is left out of the path a log line shows.
 */
const CONVERSATION_SEGMENT = /\/cnv_[^/]*/g;

/** The one log line per request. Path only: query strings can carry handshake tokens. */
export function logRequest(
  logger: Logger,
  line: { requestId: string; method: string; path: string; status: number; started: number },
): void {
  logger.info(
    {
      requestId: line.requestId,
      method: line.method,
      path: line.path.replace(CONVERSATION_SEGMENT, '/cnv_[redacted]'),
      status: line.status,
      ms: Math.round(performance.now() - line.started),
    },
    'request',
  );
}

/**
 * Gives each request an id (kept from X-Request-Id when sane), in
 * `ctx.state.requestId` for whatever logs about the request.
 */
export function requestContext(logger: Logger): Middleware {
  return async (ctx, next) => {
    const id = requestIdOf(ctx.get('x-request-id'));
    ctx.set('X-Request-Id', id);
    ctx.state.requestId = id;
    const started = performance.now();
    try {
      await next();
    } finally {
      logRequest(logger, {
        requestId: id,
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        started,
      });
    }
  };
}
