import type { OutboundReply, PlatformHttp, SendResult } from '../contract';
import { closedWindow } from '../reply-window';
import {
  describeFailure,
  failureFromStatus,
  isPlatformResponse,
  postJson,
  readField,
} from '../send-result';
import type { MessengerCredentials } from './credentials';
import { SEATMATE_METADATA_PREFIX } from './parse';

/** Graph codes that mean "slow down" or "try again": 4/32/613 rate limits, 1200 temporary send error. */
const RETRYABLE_CODES = new Set(['4', '32', '613', '1200']);

/** Sends a standard-messaging RESPONSE; Meta allows it within 24 h of the buyer's last message. */
export async function sendMessengerText(
  reply: OutboundReply,
  credentials: MessengerCredentials,
  http: PlatformHttp,
): Promise<SendResult> {
  const closed = closedWindow(reply, { platform: 'Messenger', hours: 24 });
  if (closed) return closed;
  const psid = reply.replyContext?.psid ?? reply.buyerId;
  // The Send API documents the Page token as the access_token parameter.
  const url = `${http.apiBase.metaGraph}/me/messages?access_token=${encodeURIComponent(credentials.pageAccessToken)}`;
  const result = await postJson(http, url, {
    recipient: { id: psid },
    messaging_type: 'RESPONSE',
    message: { text: reply.text, metadata: `${SEATMATE_METADATA_PREFIX}${reply.replyId}` },
  });
  if (!isPlatformResponse(result)) return result;
  if (result.status >= 200 && result.status < 300) {
    const id = readField(result.body, ['message_id']);
    return id ? { ok: true, platformMessageId: id } : { ok: true };
  }
  const code = readField(result.body, ['error', 'code']);
  const message = describeFailure(result.status, result.body, ['error', 'message']);
  const error = code ? `${message} (Messenger error ${code})` : message;
  if (code && RETRYABLE_CODES.has(code))
    return { ok: false, retryable: true, error, status: result.status };
  return failureFromStatus(result.status, error);
}
