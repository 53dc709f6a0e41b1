import type { OutboundReply, PlatformHttp, SendResult } from '../contract';
import { closedWindow, openWindowAllows } from '../reply-window';
import {
  describeFailure,
  failureFromStatus,
  isPlatformResponse,
  postJson,
  readField,
} from '../send-result';
import type { WhatsappCredentials } from './credentials';

/**
 * Meta error codes that mean "slow down", which Graph may answer with a 400:
 * 4 app rate limit, 80007 WABA rate limit, 130429 throughput, 131056 pair rate.
 */
const THROTTLE_CODES = new Set(['4', '80007', '130429', '131056']);

/** Sends free text through the Cloud API; Meta accepts it only within 24 h of the buyer's last message (or welcome request). */
export async function sendWhatsappText(
  reply: OutboundReply,
  credentials: WhatsappCredentials,
  http: PlatformHttp,
): Promise<SendResult> {
  const closed = closedWindow(reply, { platform: 'WhatsApp', hours: 24 });
  // A welcome request (the chat opened without a message) opens the same 24-hour window.
  if (closed && !openWindowAllows(reply, { seconds: 24 * 3600, maxReplies: Infinity }))
    return closed;
  const phoneNumberId = reply.replyContext?.phoneNumberId ?? credentials.phoneNumberId;
  const result = await postJson(
    http,
    `${http.apiBase.metaGraph}/${encodeURIComponent(phoneNumberId)}/messages`,
    {
      messaging_product: 'whatsapp',
      ...addressOf(reply),
      type: 'text',
      text: { preview_url: false, body: reply.text },
    },
    { authorization: `Bearer ${credentials.accessToken}` },
  );
  if (!isPlatformResponse(result)) return result;
  if (result.status >= 200 && result.status < 300) {
    const id = readField(result.body, ['messages', '0', 'id']);
    return id ? { ok: true, platformMessageId: id } : { ok: true };
  }
  const code = readField(result.body, ['error', 'code']);
  const message = describeFailure(result.status, result.body, ['error', 'message']);
  const error = code ? `${message} (WhatsApp error ${code})` : message;
  if ((code && THROTTLE_CODES.has(code)) || isTransient(result.body)) {
    return { ok: false, retryable: true, error, status: result.status };
  }
  return failureFromStatus(result.status, error);
}

function isTransient(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    (body as { error?: { is_transient?: unknown } }).error?.is_transient === true
  );
}

/**
 * The address fields as whatsapp-api-js writes them: a group by `to` with
 * recipient_type "group"; a buyer known by number by `to`; a buyer known only
 * by a business-scoped user id (a username user) by `recipient`, without `to`.
 */
export function addressOf(reply: OutboundReply): Record<string, string> {
  const context = reply.replyContext ?? {};
  if (context.groupId) return { recipient_type: 'group', to: context.groupId };
  const phone = context.waId ?? (/^\d+$/.test(reply.buyerId) ? reply.buyerId : undefined);
  if (phone) return { recipient_type: 'individual', to: phone };
  return { recipient_type: 'individual', recipient: context.userId ?? reply.buyerId };
}
