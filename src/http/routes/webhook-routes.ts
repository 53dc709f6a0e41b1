import Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../../shared/errors';
import { readRawBody } from '../raw-body';
import type { HttpServices } from '../services';

/**
 * The request's headers as adapters read them: Node already lower-cases the
 * names and joins repeated headers, except the few it keeps as arrays
 * (set-cookie), which are joined here; the usual request is passed as it is.
 */
function lowerCaseHeaders(ctx: Context): Record<string, string | undefined> {
  const headers = ctx.req.headers;
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

function query(ctx: Context): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(ctx.query))
    out[name] = Array.isArray(value) ? value[0] : value;
  return out;
}

/** Platform deliveries: the controller only turns HTTP into a call to the ingest use case. */
export function webhookRoutes({ ingest, metrics, verificationFailures }: HttpServices): Router {
  const router = new Router();

  /** Counts a refused signature or token against the caller's address. */
  const countFailure = (ctx: Context, error: unknown) => {
    if (error instanceof AppError && (error.status === 401 || error.status === 403))
      verificationFailures.record(ctx.ip);
  };

  router.get('/webhooks/:platform/:shopId', async (ctx) => {
    verificationFailures.check(ctx.ip);
    try {
      const answer = await ingest.handshake(ctx.params.platform!, ctx.params.shopId!, {
        headers: lowerCaseHeaders(ctx),
        query: query(ctx),
      });
      ctx.type = answer.contentType;
      ctx.body = answer.body;
    } catch (error) {
      countFailure(ctx, error);
      throw error;
    }
  });

  router.post('/webhooks/:platform/:shopId', async (ctx) => {
    const platform = ctx.params.platform!;
    try {
      // Bounded work before authentication: an address that keeps failing is refused
      // before its body is read, and no body is read past the platform's own size cap.
      verificationFailures.check(ctx.ip);
      const { maxBodyBytes } = ingest.limitsFor(platform);
      const rawBody = await readRawBody(ctx, maxBodyBytes);
      const answer = await ingest.deliver(platform, ctx.params.shopId!, {
        rawBody,
        headers: lowerCaseHeaders(ctx),
        query: query(ctx),
      });
      metrics.webhookEvents.inc({ platform, outcome: 'queued' }, answer.queued);
      metrics.webhookEvents.inc({ platform, outcome: 'duplicate' }, answer.duplicates);
      ctx.status = answer.status;
      ctx.type = answer.contentType;
      ctx.body = answer.body;
      metrics.webhookRequests.inc({ platform: safeLabel(platform), status: String(ctx.status) });
    } catch (error) {
      countFailure(ctx, error);
      const status = error instanceof AppError ? error.status : 500;
      metrics.webhookRequests.inc({ platform: safeLabel(platform), status: String(status) });
      throw error;
    }
  });

  return router;
}

// Unknown platform names must not blow up the metric's label set.
function safeLabel(platform: string): string {
  return /^(generic|whatsapp|messenger|line|wechat|telegram|web)$/.test(platform)
    ? platform
    : 'unknown';
}
