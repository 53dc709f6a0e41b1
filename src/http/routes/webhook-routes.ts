import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { WebhookAnswer } from '../../pipeline/webhook-ingest';
import { AppError } from '../../shared/errors';
import { readBody } from '../raw-body';
import type { HttpServices } from '../services';

/**
 * The request's headers as adapters read them: Node already lower-cases the
 * names and joins repeated headers, except the few it keeps as arrays
 * (set-cookie), which are joined here; the usual request is passed as it is.
 */
export function adapterHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  for (const name in headers) {
    if (Array.isArray(headers[name])) {
      const joined: Record<string, string | undefined> = {};
      for (const [key, value] of Object.entries(headers))
        joined[key] = Array.isArray(value) ? value.join(', ') : value;
      return joined;
    }
  }
  return headers as Record<string, string | undefined>;
}

/** A parsed query string as adapters read it: the first of repeated names. */
export function adapterQuery(
  parsed: Record<string, string | string[] | undefined>,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(parsed))
    out[name] = Array.isArray(value) ? value[0] : value;
  return out;
}

/** A platform's POST, as the Koa route and the webhook lane both see it. */
export interface WebhookPost {
  platform: string;
  shopId: string;
  /** The client's address (X-Forwarded-For's last entry only under TRUST_PROXY). */
  ip: string;
  req: IncomingMessage;
  query: Record<string, string | undefined>;
}

/**
 * The POST handler, one for both ways in (the Koa route below and the lane
 * that answers webhooks without Koa, src/http/webhook-lane.ts): bounded work
 * before authentication, then the ingest use case, counted in the metrics.
 * Errors are thrown for the caller's error answer.
 */
export function webhookPost({ ingest, metrics, verificationFailures, logger }: HttpServices) {
  return async (post: WebhookPost): Promise<WebhookAnswer> => {
    const { platform } = post;
    const scope = failureScope(platform, post.shopId);
    try {
      // An address that keeps failing is refused before its body is read, no body is read
      // for a shop that does not exist, and none past the platform's own size cap.
      verificationFailures.check(post.ip, scope);
      const target = await ingest.target(platform, post.shopId);
      const rawBody = await readBody(post.req, target.limits.maxBodyBytes);
      const answer = await ingest.deliver(target, {
        rawBody,
        headers: adapterHeaders(post.req.headers),
        query: post.query,
      });
      if (answer.unknownKinds?.length)
        logger.info(
          { platform, shopId: post.shopId, kinds: answer.unknownKinds },
          'webhook events of unknown kinds acknowledged',
        );
      if (answer.refusedEvents?.length) {
        // The platform is told 200 (a retry would fail the same way); the log says what was not taken.
        logger.warn(
          { platform, shopId: post.shopId, fields: answer.refusedEvents },
          'malformed webhook events set aside; the rest of the batch acknowledged',
        );
        metrics.webhookEvents.inc({ platform, outcome: 'refused' }, answer.refusedEvents.length);
      }
      metrics.webhookEvents.inc({ platform, outcome: 'queued' }, answer.queued);
      metrics.webhookEvents.inc({ platform, outcome: 'duplicate' }, answer.duplicates);
      metrics.webhookRequests.inc({ platform: safeLabel(platform), status: String(answer.status) });
      return answer;
    } catch (error) {
      countFailure(verificationFailures, post.ip, scope, error);
      const status = error instanceof AppError ? error.status : 500;
      metrics.webhookRequests.inc({ platform: safeLabel(platform), status: String(status) });
      throw error;
    }
  };
}

/**
 * The content type a webhook answer is sent with: Koa's rule (a charset for
 * text and JSON), spelled out so the lane sends the same header.
 */
export function answerContentType(type: string): string {
  if (type.includes('charset')) return type;
  return /^text\/|^application\/json$/.test(type) ? `${type}; charset=utf-8` : type;
}

/**
 * Whose failed verifications are counted together besides the address's own: one address's
 * deliveries to one shop. Platforms deliver for every shop from the same few addresses
 * (Meta's, LINE's, Telegram's, WeChat's servers), so a budget per address alone would let one
 * shop with a stale secret get those addresses refused for every other shop on the platform.
 */
function failureScope(platform: string, shopId: string): string {
  return `${platform} ${shopId}`;
}

/** Counts a refused signature or token against the caller's budget. */
function countFailure(
  failures: HttpServices['verificationFailures'],
  ip: string,
  scope: string,
  error: unknown,
) {
  if (error instanceof AppError && (error.status === 401 || error.status === 403))
    failures.record(ip, scope);
}

/** Platform deliveries: the controller only turns HTTP into a call to the ingest use case. */
export function webhookRoutes(services: HttpServices): Router {
  const { ingest, verificationFailures } = services;
  const router = new Router();
  const post = webhookPost(services);

  router.get('/webhooks/:platform/:shopId', async (ctx) => {
    const scope = failureScope(ctx.params.platform!, ctx.params.shopId!);
    verificationFailures.check(ctx.ip, scope);
    try {
      const answer = await ingest.handshake(ctx.params.platform!, ctx.params.shopId!, {
        headers: adapterHeaders(ctx.req.headers),
        query: adapterQuery(ctx.query),
      });
      ctx.type = answer.contentType;
      ctx.body = answer.body;
    } catch (error) {
      countFailure(verificationFailures, ctx.ip, scope, error);
      throw error;
    }
  });

  // The server answers these in the lane (src/http/webhook-lane.ts); the route serves the
  // spellings the lane leaves to Koa (a trailing slash, another case) and the app on its own.
  router.post('/webhooks/:platform/:shopId', async (ctx: Context) => {
    const answer = await post({
      platform: ctx.params.platform!,
      shopId: ctx.params.shopId!,
      ip: ctx.ip,
      req: ctx.req,
      query: adapterQuery(ctx.query),
    });
    ctx.status = answer.status;
    ctx.type = answerContentType(answer.contentType);
    ctx.body = answer.body;
  });

  return router;
}

// Unknown platform names must not blow up the metric's label set.
function safeLabel(platform: string): string {
  return /^(generic|whatsapp|messenger|line|wechat|telegram|web)$/.test(platform)
    ? platform
    : 'unknown';
}
