import { z } from 'zod';
import {
  kindLabel,
  type MessageEvent,
  type MessageMedia,
  type ParsedDelivery,
  type Thread,
} from '../contract';
import { instantOf, invalidPayload, parseJsonBody, parsePayload } from '../payload-schema';

/**
 * Telegram ids fit in 52 bits (Bot API: "safe to store in a double"), so
 * JSON numbers are exact; they are still turned into strings at once.
 */
const idSchema = z.number().int().transform(String);

const messageSchema = z
  .object({
    message_id: z.number().int(),
    date: z.number().int().nonnegative(),
    chat: z.object({ id: idSchema, type: z.string(), title: z.string().optional() }),
    /** A forum topic's id; meaningful as a topic only when is_topic_message is true. */
    message_thread_id: z.number().int().optional(),
    is_topic_message: z.boolean().optional(),
    /** Set on messages of a chat the shop's own account owns, reached through a Business connection. */
    business_connection_id: z.string().min(1).optional(),
    /** Set when a bot sent this business message on the account's behalf. */
    sender_business_bot: z.object({ id: idSchema }).loose().optional(),
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
    /** A channel post Telegram copied into the channel's discussion group (sent "from" 777000). */
    is_automatic_forward: z.boolean().optional(),
    /** Set when the message was sent on behalf of a chat (a channel, an anonymous admin). */
    sender_chat: z.object({ type: z.string() }).loose().optional(),
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
  // A forwarded story, paid photos or videos: the buyer sent something, shown by its kind.
  'story',
  'paid_media',
] as const;

type TelegramMessage = z.infer<typeof messageSchema>;

/** Update kinds that are not someone writing: edits, channel posts, buttons, reactions, member changes. */
const SKIPPED_UPDATES = new Set([
  'edited_message',
  'edited_business_message',
  'deleted_business_messages',
  'business_connection',
  'channel_post',
  'edited_channel_post',
  'callback_query',
  'message_reaction',
  'message_reaction_count',
  'my_chat_member',
  'chat_member',
  'chat_join_request',
]);

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
 * One Update per POST. `message` is someone writing to the bot (in a private
 * chat, a group or a forum topic); `business_message` is someone writing to
 * the shop's own account, which the bot reaches through a Business
 * connection. Edits, channel posts, callback queries, reactions, member
 * changes and the rest yield nothing, as do messages from other bots, a
 * channel's posts in its discussion group and service messages (a member joined...).
 */
export function parseTelegramUpdate(rawBody: Buffer): ParsedDelivery {
  const update = parsePayload(updateSchema, parseJsonBody(rawBody));
  const field =
    update.message !== undefined
      ? 'message'
      : update.business_message !== undefined
        ? 'business_message'
        : null;
  if (field === null) {
    const kinds = Object.keys(update).filter((name) => name !== 'update_id');
    const unknownKinds = kinds.filter((name) => !SKIPPED_UPDATES.has(name)).map(kindLabel);
    return unknownKinds.length > 0 ? { events: [], unknownKinds } : { events: [] };
  }
  const message = parsePayload(messageSchema, update[field], [field]);
  if (message.from?.is_bot) return { events: [] };
  // A channel speaking in a group (its posts copied into the discussion group come "from" the
  // service account 777000, not a bot) is no buyer: counting it would bill every channel post.
  if (message.is_automatic_forward === true || message.sender_chat?.type === 'channel')
    return { events: [] };
  if (message.text === undefined && !MEDIA_KINDS.some((name) => name in message))
    return { events: [] };
  const chatId = message.chat.id;
  const connection = field === 'business_message' ? message.business_connection_id : undefined;
  if (field === 'business_message' && !connection)
    throw invalidPayload('business_message.business_connection_id', 'is missing');
  // In a business chat the owner's own messages arrive too: those are the shop answering.
  const fromShop =
    connection !== undefined && message.from !== undefined && message.from.id !== chatId;
  if (fromShop && message.sender_business_bot) return { events: [] };
  const person = fromShop ? chatId : (message.from?.id ?? chatId);
  const name = fromShop ? undefined : nameOf(message.from);
  const topic = message.is_topic_message === true ? message.message_thread_id : undefined;
  const replyContext: Record<string, string> = { chatId };
  if (topic !== undefined) replyContext.messageThreadId = String(topic);
  if (connection) replyContext.businessConnectionId = connection;
  const event: MessageEvent = {
    kind: 'message',
    eventId: String(update.update_id),
    // message_id is unique only within its chat (and a business chat is the account's, not the bot's).
    // No ":" in it: BullMQ refuses custom job ids with extra colons.
    messageId: `${connection ? `${connection}/` : ''}${chatId}/${message.message_id}`,
    buyer: name ? { id: person, name } : { id: person },
    ...threadOf(message, chatId, topic, connection),
    from: fromShop ? 'agent' : 'buyer',
    ...(fromShop ? { agentName: nameOf(message.from) ?? 'Telegram' } : {}),
    text: textOf(message),
    ...mediaOf(message),
    sentAt: instantOf(message.date * 1000, `${field}.date`),
    replyContext,
  };
  return { events: [event] };
}

/** A private chat is the buyer's direct chat; a group, a forum topic or a business chat is a thread of its own. */
function threadOf(
  message: TelegramMessage,
  chatId: string,
  topic: number | undefined,
  connection: string | undefined,
): { thread?: Thread } {
  const title = message.chat.title;
  if (topic !== undefined)
    return { thread: { id: `${chatId}/${topic}`, kind: 'topic', ...(title ? { title } : {}) } };
  if (message.chat.type === 'group' || message.chat.type === 'supergroup')
    return { thread: { id: chatId, kind: 'group', ...(title ? { title } : {}) } };
  if (connection) return { thread: { id: `${connection}/${chatId}`, kind: 'direct' } };
  return {};
}

type FileRef = { file_id?: unknown; mime_type?: unknown; file_name?: unknown };
const KIND_OF: Record<string, MessageMedia['kind']> = {
  photo: 'image',
  video: 'video',
  animation: 'video',
  video_note: 'video',
  audio: 'audio',
  voice: 'audio',
  document: 'file',
  sticker: 'sticker',
};

/** The typed media of a message: the file_id to fetch with getFile, or a location's coordinates. */
function mediaOf(message: TelegramMessage): { media?: MessageMedia } {
  const raw = message as Record<string, unknown>;
  const caption = message.caption ? { caption: message.caption } : {};
  const place =
    (raw.venue as { location?: unknown; title?: unknown } | undefined)?.location ?? raw.location;
  if (place && typeof place === 'object') {
    const { latitude, longitude } = place as { latitude?: unknown; longitude?: unknown };
    if (typeof latitude === 'number' && typeof longitude === 'number') {
      const title = (raw.venue as { title?: unknown } | undefined)?.title;
      return {
        media: {
          kind: 'location',
          latitude,
          longitude,
          ...(typeof title === 'string' ? { label: title } : {}),
        },
      };
    }
  }
  for (const [field, kind] of Object.entries(KIND_OF)) {
    const value = raw[field];
    if (value === undefined) continue;
    // A photo comes as sizes, smallest first: the largest is the one to show.
    const file = (Array.isArray(value) ? value.at(-1) : value) as FileRef | undefined;
    if (!file || typeof file.file_id !== 'string') return { media: { kind, ...caption } };
    return {
      media: {
        kind,
        ref: file.file_id,
        ...(typeof file.mime_type === 'string' ? { mimeType: file.mime_type } : {}),
        ...(typeof file.file_name === 'string' ? { fileName: file.file_name } : {}),
        ...caption,
      },
    };
  }
  return {};
}
