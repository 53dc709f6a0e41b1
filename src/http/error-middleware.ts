import type { Middleware } from 'koa';
import type { Logger } from '../shared/logger';
import { AppError } from '../shared/errors';

/**
 * The one place errors become HTTP: an AppError keeps its status and code,
 * anything else is a 500 with a generic message (the cause goes to the log).
 */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError(404, 'not_found', `No route for ${ctx.method} ${ctx.path}.`);
      }
    } catch (error) {
      const appError =
        error instanceof AppError
          ? error
          : new AppError(500, 'internal_error', 'Something went wrong on our side; it has been logged.', { cause: error });
      if (appError.status >= 500) {
        (ctx.state.log ?? logger).error({ err: appError.cause ?? appError, code: appError.code }, 'request failed');
      }
      ctx.status = appError.status;
      for (const [name, value] of Object.entries(appError.headers ?? {})) ctx.set(name, value);
      ctx.body = { error: { code: appError.code, message: appError.message, ...(appError.details ? { details: appError.details } : {}) } };
    }
  };
}
