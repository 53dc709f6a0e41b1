import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { WebhookAnswer } from '../pipeline/webhook-ingest';
import { loggableError } from '../shared/logger';
import { errorAnswer } from './error-middleware';
import { logRequest, requestIdOf } from './request-context';
import { adapterQuery, answerContentType, webhookPost } from './routes/webhook-routes';
import type { HttpServices } from './services';

/** `/webhooks/{platform}/{shopId}` exactly, with an optional query; other spellings go to Koa. */
const WEBHOOK_PATH = /^\/webhooks\/([^/?#]+)\/([^/?#]+)(?:\?([^#]*))?$/;

/**
 * Answers platforms' webhook POSTs without Koa, in front of it (the server's
 * request listener, src/http/server-limits.ts). This is the busiest request by
 * far, and Koa's per-request context, middleware chain and router cost about
 * a fifth of its CPU (docs/architecture.md, "Ingest performance"). What the
 * app does around a request is done here with the app's own pieces: the
 * request id and its log line (request-context.ts), the error envelope
 * (error-middleware.ts), `Connection: close` while draining, the client
 * address under TRUST_PROXY as Koa reads it, the route's handler itself
 * (routes/webhook-routes.ts). Returns false for anything else.
 */
export function webhookLane(
  services: HttpServices,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const post = webhookPost(services);
  const { logger, draining } = services;
  const trustProxy = services.config.TRUST_PROXY;

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const match = WEBHOOK_PATH.exec(req.url ?? '');
    if (!match) return false;
    const started = performance.now();
    const requestId = requestIdOf(headerValue(req.headers['x-request-id']));
    const send = (status: number, contentType: string, body: string, headers = {}) => {
      const answer: Record<string, string | number> = {
        'X-Request-Id': requestId,
        ...headers,
        'Content-Type': contentType,
        'Content-Length': Buffer.byteLength(body),
      };
      if (draining()) answer.Connection = 'close';
      // A client that went away gets no answer (as Koa skips a response no longer writable).
      if (!res.destroyed && !res.headersSent) {
        res.writeHead(status, answer);
        res.end(body);
      }
      logRequest(logger, {
        requestId,
        method: 'POST',
        path: req.url!.split('?')[0]!,
        status,
        started,
      });
    };
    const fail = (error: unknown) => {
      const answer = errorAnswer(error, logger, requestId);
      send(
        answer.status,
        'application/json; charset=utf-8',
        JSON.stringify(answer.body),
        answer.headers,
      );
    };
    // Any throw on the way, answering included (a header Node refuses), becomes the error
    // answer, as Koa makes it a 500; if even that cannot be written, the socket is closed.
    new Promise<WebhookAnswer>((resolve) =>
      resolve(
        post({
          platform: decodeSegment(match[1]!),
          shopId: decodeSegment(match[2]!),
          ip: clientAddress(req, trustProxy),
          req,
          // No cap on the number of names (querystring's default drops those past 1,000): Koa
          // reads them all, and a platform's signature may come last.
          query: match[3] ? adapterQuery(parseQuery(match[3], '&', '=', { maxKeys: 0 })) : {},
        }),
      ),
    )
      .then((answer) => send(answer.status, answerContentType(answer.contentType), answer.body))
      .catch(fail)
      .catch((error: unknown) => {
        logger.error({ requestId, err: loggableError(error) }, 'webhook answer failed');
        res.destroy();
      });
    return true;
  };
}

/** As @koa/router decodes a path parameter: the text as sent when it is not valid escaping. */
function decodeSegment(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** As Koa's `ctx.ip` (app.ts): X-Forwarded-For's last address, only when a proxy of ours sets it. */
function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? headerValue(req.headers['x-forwarded-for']) : undefined;
  return forwarded?.split(',').at(-1)?.trim() || req.socket.remoteAddress || '';
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
