import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type Koa from 'koa';
import type { Middleware } from 'koa';
import type { Config } from '../config/config';

/**
 * Node's defaults let one stranger hold thousands of connections for minutes
 * (requestTimeout 300 s, no connection cap). These bound every connection:
 * headers within HTTP_HEADERS_TIMEOUT_MS, the whole request within
 * HTTP_REQUEST_TIMEOUT_MS, idle keep-alives closed after
 * HTTP_KEEP_ALIVE_TIMEOUT_MS, and at most HTTP_MAX_CONNECTIONS open at once.
 * Event streams are responses, which these limits do not cut. `lane`, when
 * given, answers the requests it takes before Koa sees them (the webhook lane).
 */
export function createHttpServer(
  app: Koa,
  config: Pick<
    Config,
    | 'HTTP_HEADERS_TIMEOUT_MS'
    | 'HTTP_REQUEST_TIMEOUT_MS'
    | 'HTTP_KEEP_ALIVE_TIMEOUT_MS'
    | 'HTTP_MAX_CONNECTIONS'
  >,
  lane?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Server {
  const koa = app.callback();
  const server = createServer(
    {
      requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeout: Math.min(config.HTTP_HEADERS_TIMEOUT_MS, config.HTTP_REQUEST_TIMEOUT_MS),
      keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      // How often Node enforces the two timeouts above (its 30 s default would let them overrun).
      connectionsCheckingInterval: 1000,
    },
    lane
      ? (req, res) => {
          if (!lane(req, res)) void koa(req, res);
        }
      : koa,
  );
  server.maxConnections = config.HTTP_MAX_CONNECTIONS;
  return server;
}

/** While the process drains, every answer closes its connection so keep-alive clients move on. */
export function drainOnShutdown(draining: () => boolean): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      if (draining()) ctx.set('Connection', 'close');
    }
  };
}
