import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import type { Middleware } from 'koa';
import type { Config } from '../config/config';
import { bodyBudget } from './raw-body';

/**
 * Node's defaults let one stranger hold thousands of connections for minutes
 * (requestTimeout 300 s, no connection cap). These bound every connection:
 * headers within HTTP_HEADERS_TIMEOUT_MS, the whole request within
 * HTTP_REQUEST_TIMEOUT_MS, idle keep-alives closed after
 * HTTP_KEEP_ALIVE_TIMEOUT_MS, at most HTTP_MAX_CONNECTIONS open at once, and
 * at most HTTP_MAX_BUFFERED_BODY_BYTES of bodies being read at once (raw-body.ts).
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
    | 'HTTP_MAX_BUFFERED_BODY_BYTES'
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
  bodyBudget.setCapacity(config.HTTP_MAX_BUFFERED_BODY_BYTES);
  server.on('clientError', answerClientError);
  return server;
}

/**
 * What Node answers on its own, before any route sees the request: bytes it cannot parse as
 * HTTP/1.1 (400: a control character, Content-Length beside Transfer-Encoding, a broken
 * chunk), headers past its 16 KB limit (431), a request past the timeouts above (408). Its
 * own answers have no body; these carry the API's error envelope like every other error.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // Written only where Node would write its own: a live socket with no answer under way.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The request line and headers exceed 16 KB.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request did not arrive in time.']
        : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
          ? [413, 'payload_too_large', 'The chunk extensions are too large.']
          : [400, 'malformed_request', 'The request is not valid HTTP/1.1.'];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
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
