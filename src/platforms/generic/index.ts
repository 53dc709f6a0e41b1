import type { NormalizedEvent, PlatformAdapter } from '../contract';
import { parseJsonBody } from '../json-body';
import { withoutBom } from '../payload-schema';
import { networkFailure, PLATFORM_TIMEOUT_MS, readBounded } from '../send-result';
import { type GenericCredentials, genericCredentials, genericPayload } from './generic-payload';
import {
  signStandardWebhook,
  standardWebhookHeader,
  verifyStandardWebhook,
} from './standard-webhooks';

/** The generic platform: Standard Webhooks in, signed JSON replies out. */
export const genericAdapter: PlatformAdapter<GenericCredentials> = {
  platform: 'generic',
  credentialsSchema: genericCredentials,
  outboundUrlFields: ['replyUrl'],

  verify(request, credentials) {
    const previous =
      credentials.previousWebhookSecret &&
      request.now < (credentials.previousWebhookSecretUntil ?? 0)
        ? [credentials.previousWebhookSecret]
        : [];
    verifyStandardWebhook(
      [credentials.webhookSecret, ...previous],
      request.headers,
      request.rawBody,
      request.now,
    );
  },

  parse(request) {
    const body = parseJsonBody(withoutBom(request.rawBody), genericPayload);
    // webhook-id is the sender's idempotency key, stable across retries.
    const eventId = standardWebhookHeader(request.headers, 'id') as string;
    let event: NormalizedEvent;
    switch (body.type) {
      case 'message':
        event = { kind: 'message', eventId, ...body.data, buyer: { ...body.data.buyer } };
        break;
      case 'order':
        event = { kind: 'order', eventId, ...body.data };
        break;
      case 'rating':
        event = { kind: 'rating', eventId, ...body.data };
        break;
    }
    return { events: [event] };
  },

  async send(reply, credentials, http) {
    if (!credentials.replyUrl) {
      return {
        ok: false,
        retryable: false,
        error: 'The shop has no credentials.replyUrl to deliver replies to.',
      };
    }
    const body = JSON.stringify({
      type: 'reply',
      data: {
        replyId: reply.replyId,
        conversationId: reply.conversationId,
        buyerId: reply.buyerId,
        text: reply.text,
      },
    });
    // The same id on every attempt: receivers dedupe retries of one reply on webhook-id.
    const id = `msg_${reply.replyId}`;
    const timestamp = Math.floor(reply.now / 1000);
    let response: Response;
    try {
      response = await http.fetch(credentials.replyUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signStandardWebhook(credentials.webhookSecret, id, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(PLATFORM_TIMEOUT_MS),
      });
    } catch (error) {
      const failure = networkFailure(error);
      return failure.ok ? failure : { ...failure, error: `reply URL: ${failure.error}` };
    }
    // Only a 2xx from the reply URL itself is a delivery; a redirect is not followed and not a success.
    if (response.status >= 200 && response.status < 300) {
      await response.body?.cancel().catch(() => undefined);
      return { ok: true };
    }
    // The receiver's words are never passed on (it could be any internal service answering):
    // only the status and, if it sent one, a short machine code such as "buyer_blocked".
    const code = shortErrorCode(await readBounded(response, 4096));
    const retryable = response.status === 429 || response.status >= 500;
    return {
      ok: false,
      retryable,
      status: response.status,
      error: `reply URL answered HTTP ${response.status}${code ? ` (${code})` : ''}`,
    };
  },
};

/** `{"error":{"code":"buyer_blocked"}}` (or `{"code":…}`): a code of at most 40 plain characters. */
function shortErrorCode(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { code?: unknown; error?: { code?: unknown } };
    const code = body?.error?.code ?? body?.code;
    return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,40}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}
