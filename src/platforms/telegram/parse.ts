import { z } from 'zod';
import type { MessageEvent, ParsedDelivery } from '../contract';
import { parseJsonBody, parsePayload } from '../payload-schema';

/**
 * Telegram ids fit in 52 bits (Bot API: "safe to store in a double"), so
 * JSON numbers are exact; they are still turned into strings at once.
 */
const idSchema = z.number().int().transform(String);

const messageSchema = z
  .object({
    message_id: z.number().int(),
    date: z.number().int().nonnegative(),
    chat: z.object({ id: idSchema, type: z.string() }),
    from: z
      .object({
        id: idSchema,
        is_bot: z.boolean(),
        first_name: z.string().optional(),
        last_name: z.string().optional(),
        username: z.string().optional(),
      })
      .optional(),
    text: z.string().optional(),
    caption: z.string().optional(),
  })
  .loose();

const updateSchema = z.object({ update_id: z.number().int().nonnegative() }).loose();

/** Message kinds a buyer can send without text, in the order Telegram's Message object lists them. */
const MEDIA_KINDS = [
  'photo',
  'video',
  'animation',
  'audio',
  'voice',
  'video_note',
  'document',
  'sticker',
  'location',
  'venue',
  'contact',
  'poll',
  'dice',
] as const;

type TelegramMessage = z.infer<typeof messageSchema>;

function textOf(message: TelegramMessage): string {
  if (message.text !== undefined) return message.text;
  const kind = MEDIA_KINDS.find((name) => name in message) ?? 'message';
  return message.caption ? `[${kind}] ${message.caption}` : `[${kind}]`;
}

function nameOf(from: TelegramMessage['from']): string | undefined {
  if (!from) return undefined;
  const full = [from.first_name, from.last_name].filter(Boolean).join(' ');
  return full || from.username;
}

/**
 * One Update per POST. Only `message` is a buyer writing; edits, channel
 * posts, callback queries, member changes and the rest yield nothing, as do
 * messages from other bots and service messages (a member joined...).
 */
export function parseTelegramUpdate(rawBody: Buffer): ParsedDelivery {
  const update = parsePayload(updateSchema, parseJsonBody(rawBody));
  if (update.message === undefined) return { events: [] };
  const message = parsePayload(messageSchema, update.message, ['message']);
  if (message.from?.is_bot) return { events: [] };
  if (message.text === undefined && !MEDIA_KINDS.some((name) => name in message))
    return { events: [] };
  const name = nameOf(message.from);
  const event: MessageEvent = {
    kind: 'message',
    eventId: String(update.update_id),
    // message_id is unique only within its chat. No ":" in it: BullMQ refuses custom job ids with extra colons.
    messageId: `${message.chat.id}/${message.message_id}`,
    buyer: name ? { id: message.chat.id, name } : { id: message.chat.id },
    from: 'buyer',
    text: textOf(message),
    sentAt: new Date(message.date * 1000).toISOString(),
    replyContext: { chatId: message.chat.id },
  };
  return { events: [event] };
}
