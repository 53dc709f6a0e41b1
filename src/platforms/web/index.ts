import { z } from 'zod';
import { AppError } from '../../shared/errors';
import type { PlatformAdapter } from '../contract';

/** An origin exactly as a browser sends it in the `Origin` header: scheme, host, optional port. */
export const originSchema = z
  .string()
  .trim()
  .max(200)
  .transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an origin such as https://shop.example' });
      return z.NEVER;
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== value) {
      ctx.addIssue({
        code: 'custom',
        message: `must be an origin such as https://shop.example (scheme, host and port only), not ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return url.origin;
  });

export const webCredentials = z.object({
  /** The storefront origins the widget may be used from; every other origin is refused. */
  allowedOrigins: z.array(originSchema).min(1).max(20),
});
export type WebCredentials = z.infer<typeof webCredentials>;

/**
 * The `web` platform: the storefront widget. Buyers' messages come through the
 * widget API (`/v1/widget/*`, authenticated by a session token), not a webhook;
 * an agent's reply is "sent" once it is in the buyer's mailbox: pushed live to
 * the buyer's open widgets and kept in the conversation for their next visit.
 */
export const webAdapter: PlatformAdapter<WebCredentials> = {
  platform: 'web',
  credentialsSchema: webCredentials,

  verify() {
    throw new AppError(
      404,
      'not_found',
      'Web shops receive messages through the storefront widget (GET /widget.js), not webhooks.',
    );
  },

  parse() {
    return { events: [] };
  },

  async send(reply, _credentials, http) {
    if (!http.widgetMailbox)
      return { ok: false, retryable: true, error: 'The widget mailbox is not available.' };
    await http.widgetMailbox.post(reply.shopId, reply.buyerId, {
      id: reply.replyId,
      text: reply.text,
      at: new Date(reply.now).toISOString(),
    });
    return { ok: true, platformMessageId: reply.replyId };
  },
};
