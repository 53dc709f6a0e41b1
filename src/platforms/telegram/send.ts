import type { OutboundReply, PlatformHttp, SendResult } from '../contract';
import {
  describeFailure,
  failureFromStatus,
  isPlatformResponse,
  postJson,
  readField,
} from '../send-result';
import type { TelegramCredentials } from './credentials';

/** Telegram has no reply window: a bot may write to anyone who started it and has not blocked it. */
export async function sendTelegramText(
  reply: OutboundReply,
  credentials: TelegramCredentials,
  http: PlatformHttp,
): Promise<SendResult> {
  const context = reply.replyContext ?? {};
  const chatId = context.chatId ?? reply.buyerId;
  // As grammY's ctx.reply does: back into the forum topic, and through the Business connection the buyer wrote on.
  const result = await postJson(
    http,
    `${http.apiBase.telegram}/bot${credentials.botToken}/sendMessage`,
    {
      chat_id: chatId,
      text: reply.text,
      ...(context.messageThreadId ? { message_thread_id: Number(context.messageThreadId) } : {}),
      ...(context.businessConnectionId
        ? { business_connection_id: context.businessConnectionId }
        : {}),
    },
  );
  if (!isPlatformResponse(result)) return result;
  // The Bot API wraps every answer as {ok, result} or {ok: false, error_code, description}.
  const accepted =
    typeof result.body === 'object' &&
    result.body !== null &&
    (result.body as { ok?: unknown }).ok === true;
  if (result.status >= 200 && result.status < 300 && accepted) {
    const id = readField(result.body, ['result', 'message_id']);
    return id ? { ok: true, platformMessageId: `${chatId}/${id}` } : { ok: true };
  }
  const description = describeFailure(result.status, result.body, ['description']);
  return failureFromStatus(result.status, description);
}
