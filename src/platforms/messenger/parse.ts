import { z } from 'zod';
import type { AppError } from '../../shared/errors';
import { kindLabel, type MessageEvent, type MessageMedia, type ParsedDelivery } from '../contract';
import { batchResult, eachEvent, instantOf, parseJsonBody, parsePayload } from '../payload-schema';
import type { MessengerCredentials } from './credentials';

/** Seatmate tags what it sends (see send.ts) so an echo of it is recognised even without app_id. */
export const SEATMATE_METADATA_PREFIX = 'seatmate:';

const idSchema = z.union([z.string().min(1), z.number().int()]).transform(String);

/**
 * Milliseconds since the epoch. Meta's Messenger deliveries carry milliseconds
 * as a number, but its webhook-events reference shows Unix seconds as a string
 * (`"timestamp": "1527459824"`, "all JSON properties in a webhook notification
 * are strings"), and the App Dashboard's samples follow it. Seconds and
 * milliseconds cannot be confused: 10^11 s is the year 5138, 10^11 ms is 1973.
 */
const timestampSchema = z
  .union(
    [
      z.number().int().nonnegative(),
      z
        .string()
        .regex(/^\d{1,16}$/)
        .transform(Number),
    ],
    {
      error: 'must be Unix milliseconds or seconds',
    },
  )
  .transform((value) => (value < 1e11 ? value * 1000 : value));

/**
 * A person is a PSID (`id`); someone who acted through the checkbox plugin or
 * a Get Started before any conversation is only a `user_ref`, which no PSID reply reaches.
 */
const partySchema = z.object({ id: idSchema.optional(), user_ref: z.string().optional() });

const messagingSchema = z.object({
  sender: partySchema,
  recipient: partySchema,
  timestamp: timestampSchema,
  message: z
    .object({
      mid: z.string().min(1),
      text: z.string().optional(),
      is_echo: z.boolean().optional(),
      is_deleted: z.boolean().optional(),
      app_id: idSchema.optional(),
      metadata: z.string().optional(),
      attachments: z
        .array(
          z.object({
            type: z.string(),
            payload: z
              .object({
                url: z.string().optional(),
                sticker_id: z.union([z.number(), z.string()]).optional(),
              })
              .nullable()
              .optional(),
          }),
        )
        .optional(),
    })
    .optional(),
  postback: z
    .object({
      mid: z.string().optional(),
      title: z.string().optional(),
      payload: z.string().optional(),
    })
    .optional(),
});

const deliverySchema = z.object({
  object: z.literal('page', { error: 'must be "page"' }),
  entry: z.array(
    z.object({
      id: idSchema,
      time: z.number().optional(),
      messaging: z.array(z.unknown()).optional(),
      standby: z.array(z.unknown()).optional(),
    }),
  ),
});

type Messaging = z.infer<typeof messagingSchema>;

function textOf(message: NonNullable<Messaging['message']>): string {
  if (message.text) return message.text;
  const types = (message.attachments ?? []).map((attachment) => `[${attachment.type}]`);
  return types.length > 0 ? types.join(' ') : '[message]';
}

const KIND_OF: Record<string, MessageMedia['kind']> = {
  image: 'image',
  video: 'video',
  audio: 'audio',
  file: 'file',
};

/**
 * The first attachment with content, as a typed message: its `payload.url`
 * (Meta's CDN) is the reference the media proxy fetches. An image with a
 * `sticker_id` is a sticker. Templates and fallbacks (shared links) carry no file.
 */
function mediaOf(message: NonNullable<Messaging['message']>): { media?: MessageMedia } {
  for (const attachment of message.attachments ?? []) {
    const kind = KIND_OF[attachment.type];
    const url = attachment.payload?.url;
    if (!kind || !url) continue;
    const sticker = kind === 'image' && attachment.payload?.sticker_id !== undefined;
    return { media: { kind: sticker ? 'sticker' : kind, ref: url } };
  }
  return {};
}

/**
 * Reads entry[].messaging[] (Meta batches several). Deliveries, reads,
 * reactions and unsent-message notices carry nothing a buyer said and yield
 * nothing. `standby[]` is traffic another app owns under the handover
 * protocol, so it is left to that app. Echoes (`is_echo`) of what Seatmate
 * sent are ignored; other echoes were typed by a person in Page Inbox and
 * become `agent` messages.
 */
export function parseMessengerDelivery(
  rawBody: Buffer,
  credentials: MessengerCredentials,
): ParsedDelivery {
  const delivery = parsePayload(deliverySchema, parseJsonBody(rawBody));
  const events: MessageEvent[] = [];
  const unknownKinds: string[] = [];
  const refused: AppError[] = [];
  delivery.entry.forEach((entry, entryIndex) => {
    if (credentials.pageId !== undefined && entry.id !== credentials.pageId) return;
    // The App Dashboard's "Test" button sends a sample (sender 12334, "random_text") under
    // Page id 0, which no real Page has: acknowledged, never a buyer to count.
    if (entry.id === DASHBOARD_SAMPLE_PAGE_ID) {
      unknownKinds.push('dashboard sample (entry id 0)');
      return;
    }
    (entry.messaging ?? []).forEach((raw, index) => {
      eachEvent(refused, () => {
        // Delivery and read receipts have no timestamp of their own; only validate what could be a message.
        if (!carriesMessage(raw)) {
          const kind = kindOf(raw);
          if (!SKIPPED_KINDS.has(kind)) unknownKinds.push(kindLabel(kind));
          return;
        }
        const at = ['entry', entryIndex, 'messaging', index];
        const item = parsePayload(messagingSchema, raw, at);
        const person = item.message?.is_echo ? item.recipient : item.sender;
        if (person.id === undefined) {
          unknownKinds.push(person.user_ref !== undefined ? 'user_ref' : 'no sender id');
          return;
        }
        const event = toEvent(
          item,
          person.id,
          entry.id,
          credentials,
          [...at, 'timestamp'].join('.'),
        );
        if (event) events.push(event);
      });
    });
  });
  return batchResult(events, unknownKinds, refused);
}

const DASHBOARD_SAMPLE_PAGE_ID = '0';

/** Messaging items that carry nothing a buyer said: receipts, reactions (see above). */
const SKIPPED_KINDS = new Set(['delivery', 'read', 'reaction']);

/** A messaging item's kind: its field beside the envelope's sender, recipient and timestamp. */
function kindOf(raw: unknown): string {
  if (typeof raw !== 'object' || raw === null) return typeof raw;
  const envelope = new Set(['sender', 'recipient', 'timestamp']);
  return Object.keys(raw).find((name) => !envelope.has(name)) ?? 'empty';
}

function carriesMessage(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && ('message' in raw || 'postback' in raw);
}

/** `person`: the buyer's PSID (the sender, or for an echo the recipient). */
function toEvent(
  item: Messaging,
  person: string,
  pageId: string,
  credentials: MessengerCredentials,
  timestampField: string,
): MessageEvent | null {
  const sentAt = instantOf(item.timestamp, timestampField);
  const message = item.message;
  if (message) {
    if (message.is_deleted) return null;
    if (message.is_echo) {
      const ours =
        message.app_id === credentials.appId ||
        message.metadata?.startsWith(SEATMATE_METADATA_PREFIX) === true;
      if (ours) return null;
      // An echo is sent by the Page to the buyer: the buyer is the recipient.
      return {
        kind: 'message',
        eventId: message.mid,
        messageId: message.mid,
        buyer: { id: person },
        from: 'agent',
        text: textOf(message),
        ...mediaOf(message),
        sentAt,
        replyContext: { pageId, psid: person },
      };
    }
    return {
      kind: 'message',
      eventId: message.mid,
      messageId: message.mid,
      buyer: { id: person },
      from: 'buyer',
      text: textOf(message),
      ...mediaOf(message),
      sentAt,
      replyContext: { pageId, psid: person },
    };
  }
  // A tapped button is the buyer speaking; only postbacks with a mid can be deduplicated.
  if (item.postback?.mid) {
    return {
      kind: 'message',
      eventId: item.postback.mid,
      messageId: item.postback.mid,
      buyer: { id: person },
      from: 'buyer',
      text: item.postback.title ?? item.postback.payload ?? '[postback]',
      sentAt,
      replyContext: { pageId, psid: person },
    };
  }
  return null;
}
