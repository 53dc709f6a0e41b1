import { z } from 'zod';
import type { AppError } from '../../shared/errors';
import {
  kindLabel,
  type MessageMedia,
  type NormalizedEvent,
  type ParsedDelivery,
  type Thread,
} from '../contract';
import { batchResult, eachEvent, instantOf, parseJsonBody, parsePayload } from '../payload-schema';

const sourceSchema = z.object({
  // A new source type must not make LINE's whole batch fail: unknown ones simply have no ids we use.
  type: z.string(),
  userId: z.string().optional(),
  groupId: z.string().optional(),
  roomId: z.string().optional(),
});

const messageEventSchema = z.object({
  type: z.literal('message'),
  mode: z.string(),
  timestamp: z.number().int().nonnegative(),
  source: sourceSchema,
  webhookEventId: z.string().min(1),
  deliveryContext: z.object({ isRedelivery: z.boolean() }).optional(),
  replyToken: z.string().optional(),
  message: z.object({
    id: z.string().min(1),
    type: z.string().min(1),
    text: z.string().optional(),
    fileName: z.string().optional(),
    title: z.string().optional(),
    address: z.string().optional(),
    latitude: z.number().optional(),
    longitude: z.number().optional(),
    /** `line`: the content API has the file; `external`: it lives at the provider's URL only. */
    contentProvider: z.object({ type: z.string() }).loose().optional(),
  }),
});

/** A tapped postback action (rich menu, button): the buyer asks for something without writing. */
const postbackEventSchema = z.object({
  type: z.literal('postback'),
  mode: z.string(),
  timestamp: z.number().int().nonnegative(),
  source: sourceSchema,
  webhookEventId: z.string().min(1),
  deliveryContext: z.object({ isRedelivery: z.boolean() }).optional(),
  replyToken: z.string().optional(),
  postback: z.object({ data: z.string() }),
});

const deliverySchema = z.object({
  destination: z.string().min(1),
  events: z.array(z.object({ type: z.string() }).loose()),
});

type LineMessage = z.infer<typeof messageEventSchema>['message'];

function textOf(message: LineMessage): string {
  if (message.type === 'text') return message.text ?? '';
  if (message.type === 'file' && message.fileName) return `[file] ${message.fileName}`;
  if (message.type === 'location' && (message.title ?? message.address))
    return `[location] ${message.title ?? message.address}`;
  return `[${message.type}]`;
}

/**
 * Reads every event of a delivery. An empty `events` array is LINE checking
 * the URL. Only `message` events in `active` mode are buyer messages:
 * `standby` means another channel (e.g. a chat module) owns the chat, so
 * Seatmate must not answer. A postback (a tapped rich-menu or button action)
 * opens the conversation without metering it; follow, unsend... yield nothing.
 */
export function parseLineDelivery(rawBody: Buffer): ParsedDelivery {
  const delivery = parsePayload(deliverySchema, parseJsonBody(rawBody));
  const events: NormalizedEvent[] = [];
  const unknownKinds: string[] = [];
  const refused: AppError[] = [];
  delivery.events.forEach((raw, index) => {
    eachEvent(refused, () => {
      if (raw.type === 'postback') {
        const postback = parsePayload(postbackEventSchema, raw, ['events', index]);
        if (postback.mode !== 'active') return;
        const where = addressOf(postback.source);
        if (!where) return;
        events.push({
          kind: 'open',
          eventId: postback.webhookEventId,
          buyer: { id: where.buyerId },
          ...where.thread,
          label: `[postback] ${postback.postback.data}`,
          sentAt: instantOf(postback.timestamp, `events.${index}.timestamp`),
          replyContext: replyContextOf(postback, where.to),
        });
        return;
      }
      if (raw.type !== 'message') {
        if (!SKIPPED_TYPES.has(raw.type)) unknownKinds.push(kindLabel(raw.type));
        return;
      }
      const event = parsePayload(messageEventSchema, raw, ['events', index]);
      if (event.mode !== 'active') return;
      const where = addressOf(event.source);
      if (!where) return;
      events.push({
        kind: 'message',
        eventId: event.webhookEventId,
        messageId: event.message.id,
        buyer: { id: where.buyerId },
        ...where.thread,
        from: 'buyer',
        text: textOf(event.message),
        ...mediaOf(event.message),
        sentAt: instantOf(event.timestamp, `events.${index}.timestamp`),
        replyContext: replyContextOf(event, where.to),
      });
    });
  });
  return batchResult(events, unknownKinds, refused);
}

/** LINE's event types that are not a buyer asking (docs/platforms.md: follow and unfollow are ignored). */
const SKIPPED_TYPES = new Set(['follow', 'unfollow']);

/**
 * Who is speaking and where the answer goes. A group or multi-person room is
 * its own conversation, never the member's private chat; a member who has not
 * shared their profile comes without userId, and the group then stands in.
 */
function addressOf(
  source: z.infer<typeof sourceSchema>,
): { buyerId: string; to: string; thread: { thread?: Thread } } | null {
  const sharedId = source.groupId ?? source.roomId;
  const buyerId = source.userId ?? sharedId;
  const to = sharedId ?? source.userId;
  if (!buyerId || !to) return null;
  return { buyerId, to, thread: sharedId ? { thread: { id: sharedId, kind: 'group' } } : {} };
}

function replyContextOf(
  event: {
    replyToken?: string | undefined;
    timestamp: number;
    deliveryContext?: { isRedelivery: boolean } | undefined;
  },
  to: string,
): Record<string, string> {
  const replyContext: Record<string, string> = { to };
  // A redelivered event arrives late: its reply token is not worth trying, push instead.
  if (event.replyToken && !event.deliveryContext?.isRedelivery) {
    replyContext.replyToken = event.replyToken;
    replyContext.replyTokenIssuedAt = String(event.timestamp);
  }
  return replyContext;
}

/** Images, video, audio and files are fetched by message id from the content API; stickers and locations carry no content. */
function mediaOf(message: LineMessage): { media?: MessageMedia } {
  switch (message.type) {
    case 'image':
    case 'video':
    case 'audio':
      // Content from an external provider is not on LINE's content API: nothing Seatmate can fetch.
      return message.contentProvider?.type === 'external'
        ? { media: { kind: message.type } }
        : { media: { kind: message.type, ref: message.id } };
    case 'file':
      return {
        media: {
          kind: 'file',
          ref: message.id,
          ...(message.fileName ? { fileName: message.fileName } : {}),
        },
      };
    case 'sticker':
      return { media: { kind: 'sticker' } };
    case 'location': {
      if (message.latitude === undefined || message.longitude === undefined) return {};
      const label = [message.title, message.address].filter(Boolean).join(', ');
      return {
        media: {
          kind: 'location',
          latitude: message.latitude,
          longitude: message.longitude,
          ...(label ? { label } : {}),
        },
      };
    }
    default:
      return {};
  }
}
