import type { Middleware } from 'koa';
import { AppError, unavailable } from '../shared/errors';
import { type Logger, loggableError } from '../shared/logger';
import { isRedisUnavailable } from '../shared/redis';

/**
 * The one place errors become HTTP: an AppError keeps its status and code,
 * anything else is a 500 with a generic message (the cause goes to the log).
 */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError(404, 'not_found', `No route for ${ctx.method} ${shown(ctx.path)}.`);
      }
      // The router answers these with plain text; keep every error in one envelope. Its 501,
      // for a method no route implements (TRACE, PROPFIND), is the client's doing, not a server
      // fault to count among the 5xx: a 405 naming the methods the path takes.
      if (
        (ctx.status === 405 || ctx.status === 501) &&
        (ctx.body === undefined || typeof ctx.body === 'string')
      ) {
        const allowed = ctx.response.get('Allow');
        throw new AppError(
          405,
          'method_not_allowed',
          `${ctx.method} is not allowed on ${shown(ctx.path)}${allowed ? `; use ${allowed}` : ''}.`,
          allowed ? { headers: { Allow: allowed } } : {},
        );
      }
    } catch (error) {
      const answer = errorAnswer(error, logger, ctx.state.requestId);
      ctx.status = answer.status;
      for (const [name, value] of Object.entries(answer.headers)) ctx.set(name, value);
      ctx.body = answer.body;
    }
  };
}

/** A path as an error message names it: a stranger's 16 KB path is not echoed back whole. */
function shown(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

/**
 * What an error answers, for the middleware above and for the webhook lane
 * (src/http/webhook-lane.ts), which answers webhooks without Koa.
 */
export function errorAnswer(
  error: unknown,
  logger: Logger,
  requestId: string | undefined,
): { status: number; headers: Record<string, string>; body: { error: Record<string, unknown> } } {
  const appError =
    error instanceof AppError
      ? error
      : isRedisUnavailable(error)
        ? unavailable('The data store is unavailable; retry shortly.', error)
        : new AppError(
            500,
            'internal_error',
            'Something went wrong on our side; it has been logged.',
            { cause: error },
          );
  if (appError.status >= 500) {
    logger.error(
      { requestId, err: loggableError(appError.cause ?? appError), code: appError.code },
      'request failed',
    );
  }
  return {
    status: appError.status,
    headers: appError.headers ?? {},
    body: {
      error: {
        code: appError.code,
        message: appError.message,
        ...(appError.details ? { details: appError.details } : {}),
      },
    },
  };
}
