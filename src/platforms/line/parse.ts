import { z } from 'zod';
import type { MessageEvent, ParsedDelivery } from '../contract';
import { parseJsonBody, parsePayload } from '../payload-schema';

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
  }),
});

const deliverySchema = z.object({
  destination: z.string().min(1),
  events: z.array(z.object({ type: z.string() }).loose()),
});

type LineMessage = z.infer<typeof messageEventSchema>['message'];

function textOf(message: LineMessage): string {
  if (message.type === 'text') return message.text ?? '';
  if (message.type === 'file' && message.fileName) return `[file] ${message.fileName}`;
  return `[${message.type}]`;
}

/**
 * Reads every event of a delivery. An empty `events` array is LINE checking
 * the URL. Only `message` events in `active` mode are buyer messages:
 * `standby` means another channel (e.g. a chat module) owns the chat, so
 * Seatmate must not answer. Follow, postback, unsend... yield nothing.
 */
export function parseLineDelivery(rawBody: Buffer): ParsedDelivery {
  const delivery = parsePayload(deliverySchema, parseJsonBody(rawBody));
  const events: MessageEvent[] = [];
  delivery.events.forEach((raw, index) => {
    if (raw.type !== 'message') return;
    const event = parsePayload(messageEventSchema, raw, ['events', index]);
    if (event.mode !== 'active') return;
    const { source } = event;
    // A group or multi-person room is its own conversation, never the member's private chat.
    const sharedId = source.groupId ?? source.roomId;
    // A member who has not consented to share their profile may come without userId: the group then stands in.
    const buyerId = source.userId ?? sharedId;
    const to = sharedId ?? source.userId;
    if (!buyerId || !to) return;
    const replyContext: Record<string, string> = { to };
    // A redelivered event arrives late: its reply token is not worth trying, push instead.
    if (event.replyToken && !event.deliveryContext?.isRedelivery) {
      replyContext.replyToken = event.replyToken;
      replyContext.replyTokenIssuedAt = String(event.timestamp);
    }
    events.push({
      kind: 'message',
      eventId: event.webhookEventId,
      messageId: event.message.id,
      buyer: { id: buyerId },
      ...(sharedId ? { thread: { id: sharedId, kind: 'group' as const } } : {}),
      from: 'buyer',
      text: textOf(event.message),
      sentAt: new Date(event.timestamp).toISOString(),
      replyContext,
    });
  });
  return { events };
}
