import { createHash } from 'node:crypto';
import type { OutboundReply, PlatformHttp, SendResult } from '../contract';
import {
  describeFailure,
  failureFromStatus,
  isPlatformResponse,
  type PlatformResponse,
  postJson,
  readField,
} from '../send-result';
import type { LineCredentials } from './credentials';

/**
 * LINE documents only that a reply token expires "after a certain period";
 * tokens have been seen dying after about 30 s, so older ones go by push.
 */
export const REPLY_TOKEN_LIFETIME_MS = 30_000;

/**
 * Uses the free reply API while the buyer's reply token is fresh and unused
 * (one reply per token), otherwise push. A reply refused for its token falls
 * back to push at once instead of failing the agent's reply.
 */
export async function sendLineText(
  reply: OutboundReply,
  credentials: LineCredentials,
  http: PlatformHttp,
): Promise<SendResult> {
  const context = reply.replyContext ?? {};
  const auth = { authorization: `Bearer ${credentials.channelAccessToken}` };
  const messages = [{ type: 'text', text: reply.text }];
  const issuedAt = Number(context.replyTokenIssuedAt);
  const tokenFresh =
    context.replyToken !== undefined &&
    reply.repliesSinceLastBuyerMessage === 0 &&
    Number.isFinite(issuedAt) &&
    reply.now - issuedAt <= REPLY_TOKEN_LIFETIME_MS;

  if (tokenFresh) {
    const result = await postJson(
      http,
      `${http.apiBase.line}/v2/bot/message/reply`,
      { replyToken: context.replyToken, messages },
      auth,
    );
    if (!isPlatformResponse(result)) return result;
    if (!isInvalidReplyToken(result)) return toSendResult(result);
  }

  const result = await postJson(
    http,
    `${http.apiBase.line}/v2/bot/message/push`,
    { to: context.to ?? reply.buyerId, messages },
    // The retry key makes a retried push deliver once; LINE answers 409 to a repeat.
    { ...auth, 'x-line-retry-key': retryKeyFor(reply.replyId) },
  );
  if (!isPlatformResponse(result)) return result;
  if (result.status === 409) return { ok: true };
  return toSendResult(result);
}

function isInvalidReplyToken(response: PlatformResponse): boolean {
  return (
    response.status === 400 && /reply token/i.test(readField(response.body, ['message']) ?? '')
  );
}

function toSendResult(response: PlatformResponse): SendResult {
  if (response.status >= 200 && response.status < 300) {
    const id = readField(response.body, ['sentMessages', '0', 'id']);
    return id ? { ok: true, platformMessageId: id } : { ok: true };
  }
  const message = describeFailure(response.status, response.body, ['message']);
  // A 429 for the monthly push quota will not clear by retrying this month.
  if (response.status === 429 && /monthly limit/i.test(message)) {
    return { ok: false, retryable: false, error: message, status: 429 };
  }
  return failureFromStatus(response.status, message);
}

/** A UUID (hex, version-4 layout) derived from the reply id, so every retry of one reply shares it. */
export function retryKeyFor(replyId: string): string {
  const hex = createHash('sha256').update(`seatmate-line-push:${replyId}`).digest('hex');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
