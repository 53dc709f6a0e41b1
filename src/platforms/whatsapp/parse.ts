import { z } from 'zod';
import type { AppError } from '../../shared/errors';
import {
  kindLabel,
  type MessageEvent,
  type MessageMedia,
  type NormalizedEvent,
  type OpenEvent,
  type ParsedDelivery,
} from '../contract';
import {
  batchResult,
  eachEvent,
  instantOf,
  invalidPayload,
  parseJsonBody,
  parsePayload,
} from '../payload-schema';
import type { WhatsappCredentials } from './credentials';

/** Media objects carry the id to fetch them with (GET /{media-id}), a mime type and maybe a caption. */
const mediaSchema = z.object({
  id: z.string().optional(),
  mime_type: z.string().optional(),
  caption: z.string().optional(),
});

const messageSchema = z.object({
  // A buyer who adopted a username may arrive with only a business-scoped user id (BSUID).
  from: z.string().min(1).optional(),
  from_user_id: z.string().min(1).optional(),
  /** Set when the message was written in a WhatsApp group the business number is in. */
  group_id: z.string().min(1).optional(),
  id: z.string().min(1),
  // Meta documents Unix seconds as a string; the echo reference calls it an integer, so take both.
  timestamp: z
    .union([
      z.string().regex(/^\d+$/, { error: 'must be Unix seconds' }),
      z.number().int().nonnegative(),
    ])
    .transform(Number),
  type: z.string().min(1),
  text: z.object({ body: z.string() }).optional(),
  image: mediaSchema.optional(),
  video: mediaSchema.optional(),
  audio: mediaSchema.optional(),
  sticker: mediaSchema.optional(),
  document: mediaSchema.extend({ filename: z.string().optional() }).optional(),
  location: z
    .object({
      latitude: z.number(),
      longitude: z.number(),
      name: z.string().optional(),
      address: z.string().optional(),
    })
    .optional(),
  button: z.object({ text: z.string() }).optional(),
  interactive: z
    .object({
      button_reply: z.object({ title: z.string() }).optional(),
      list_reply: z.object({ title: z.string() }).optional(),
    })
    .optional(),
});

const valueSchema = z.object({
  metadata: z.object({ phone_number_id: z.string().min(1) }).optional(),
  contacts: z
    .array(
      z.object({
        wa_id: z.string().optional(),
        user_id: z.string().optional(),
        profile: z
          .object({ name: z.string().optional(), username: z.string().optional() })
          .optional(),
      }),
    )
    .optional(),
  // Each message is validated on its own (see parseWhatsappDelivery): one malformed message
  // must not take the good ones beside it down.
  messages: z.array(z.unknown()).optional(),
});

/** smb_message_echoes: what the business typed in the WhatsApp Business app on a coexistence number. */
const echoValueSchema = z.object({
  metadata: z.object({ phone_number_id: z.string().min(1) }).optional(),
  message_echoes: z
    .array(
      messageSchema.extend({
        to: z.string().min(1).optional(),
        to_user_id: z.string().min(1).optional(),
      }),
    )
    .optional(),
});

const deliverySchema = z.object({
  object: z.literal('whatsapp_business_account', { error: 'must be "whatsapp_business_account"' }),
  entry: z.array(
    z.object({
      id: z.string().optional(),
      changes: z.array(z.object({ field: z.string(), value: z.unknown() })),
    }),
  ),
});

type WhatsappMessage = z.infer<typeof messageSchema>;

/** Media and other non-text messages still count as a consultation, so they get a readable placeholder. */
function textOf(message: WhatsappMessage): string {
  switch (message.type) {
    case 'text':
      return message.text?.body ?? '';
    case 'image':
    case 'video':
      return withCaption(`[${message.type}]`, message[message.type]?.caption);
    case 'document':
      return withCaption('[document]', message.document?.caption ?? message.document?.filename);
    case 'audio':
    case 'sticker':
      return `[${message.type}]`;
    case 'location':
      return withCaption('[location]', message.location?.name ?? message.location?.address);
    case 'button':
      return message.button?.text ?? '[button]';
    case 'interactive':
      return (
        message.interactive?.button_reply?.title ??
        message.interactive?.list_reply?.title ??
        '[interactive]'
      );
    default:
      return `[${message.type}]`;
  }
}

function withCaption(placeholder: string, caption: string | undefined): string {
  return caption ? `${placeholder} ${caption}` : placeholder;
}

/**
 * Walks entry[] → changes[] → value: Meta batches up to 1000 updates per
 * POST. `messages[]` are buyers writing. `statuses[]` (sent/delivered/read of
 * our own replies) and other fields yield nothing, nor do `system` messages
 * (a buyer changed number). `smb_message_echoes` are replies typed in the
 * WhatsApp Business app on a coexistence number: agent messages. Cloud API
 * sends (Seatmate's own) are never echoed there, so none needs filtering out.
 */
export function parseWhatsappDelivery(
  rawBody: Buffer,
  credentials: WhatsappCredentials,
): ParsedDelivery {
  const delivery = parsePayload(deliverySchema, parseJsonBody(rawBody));
  const events: NormalizedEvent[] = [];
  const unknownKinds: string[] = [];
  const refused: AppError[] = [];
  delivery.entry.forEach((entry, entryIndex) => {
    entry.changes.forEach((change, changeIndex) => {
      eachEvent(refused, () => {
        const at = ['entry', entryIndex, 'changes', changeIndex, 'value'];
        if (change.field === 'messages') {
          const value = parsePayload(valueSchema, change.value, at);
          if (!isThisShop(value.metadata?.phone_number_id, credentials)) return;
          value.messages?.forEach((raw, index) => {
            eachEvent(refused, () => {
              const message = parsePayload(messageSchema, raw, [...at, 'messages', index]);
              // A reaction (or its removal) is a gesture on an earlier message, not an inquiry.
              if (message.type === 'system' || message.type === 'reaction') return;
              const phone = message.from;
              const userId = message.from_user_id;
              const buyerId = phone ?? userId;
              if (!buyerId)
                throw invalidPayload(
                  [...at, 'messages', index, 'from'].join('.'),
                  'is missing (and so is from_user_id)',
                );
              const contact = value.contacts?.find(
                (c) =>
                  (phone !== undefined && c.wa_id === phone) ||
                  (userId !== undefined && c.user_id === userId),
              );
              const name = contact?.profile?.name ?? contact?.profile?.username;
              const recipient: Recipient = message.group_id
                ? { groupId: message.group_id }
                : phone
                  ? { waId: phone }
                  : { userId: buyerId };
              const base = eventBase(
                message,
                { id: buyerId, name },
                credentials,
                value.metadata?.phone_number_id,
                recipient,
              );
              events.push(
                message.type === 'request_welcome'
                  ? welcomeRequest(base)
                  : toEvent(message, base, 'buyer'),
              );
            });
          });
        } else if (change.field === 'smb_message_echoes') {
          const value = parsePayload(echoValueSchema, change.value, at);
          if (!isThisShop(value.metadata?.phone_number_id, credentials)) return;
          for (const echo of value.message_echoes ?? []) {
            // Edits and deletions of an earlier reply are not new replies.
            if (echo.type === 'edit' || echo.type === 'revoke' || echo.type === 'reaction')
              continue;
            // `to` is the number as typed ("+1 650…"); buyer ids are wa_ids, digits only.
            const phone = echo.to?.replace(/\D/g, '') || undefined;
            const buyerId = phone ?? echo.to_user_id;
            if (!buyerId) continue;
            const base = eventBase(
              echo,
              { id: buyerId },
              credentials,
              value.metadata?.phone_number_id,
              phone ? { waId: phone } : { userId: buyerId },
            );
            events.push(toEvent(echo, base, 'agent'));
          }
        } else unknownKinds.push(kindLabel(change.field));
      });
    });
  });
  return batchResult(events, unknownKinds, refused);
}

/** One Meta app may serve several numbers; only this shop's number is ours. */
function isThisShop(phoneNumberId: string | undefined, credentials: WhatsappCredentials): boolean {
  return phoneNumberId === undefined || phoneNumberId === credentials.phoneNumberId;
}

/** Where a reply goes: the buyer's number, their business-scoped user id, or the group. */
type Recipient = { waId: string } | { userId: string } | { groupId: string };

/** What every event of one WhatsApp message has: its id, the buyer, the group, when, where replies go. */
function eventBase(
  message: WhatsappMessage,
  buyer: { id: string; name?: string | undefined },
  credentials: WhatsappCredentials,
  phoneNumberId: string | undefined,
  recipient: Recipient,
) {
  return {
    eventId: message.id,
    buyer: buyer.name ? { id: buyer.id, name: buyer.name } : { id: buyer.id },
    ...('groupId' in recipient
      ? { thread: { id: recipient.groupId, kind: 'group' as const } }
      : {}),
    sentAt: instantOf(message.timestamp * 1000, `messages.${message.id}.timestamp`),
    replyContext: { phoneNumberId: phoneNumberId ?? credentials.phoneNumberId, ...recipient },
  };
}

type SharedFields = ReturnType<typeof eventBase>;

function toEvent(
  message: WhatsappMessage,
  base: SharedFields,
  from: 'buyer' | 'agent',
): MessageEvent {
  return {
    kind: 'message',
    ...base,
    messageId: message.id,
    from,
    text: textOf(message),
    ...withMedia(mediaOf(message)),
  };
}

/**
 * `request_welcome`: a person opened a chat with the number for the first time
 * without writing. Meta: it "triggers a customer service window which allows
 * your business to send free-form messages", so it opens the conversation for
 * agents (answerable for 24 hours, see send.ts) without counting a consultation.
 */
function welcomeRequest(base: SharedFields): OpenEvent {
  return { kind: 'open', ...base, label: '[welcome request]' };
}

/** The typed media of an image, audio (voice too), video, document, sticker or location message. */
function mediaOf(message: WhatsappMessage): MessageMedia | undefined {
  const withRef = (kind: MessageMedia['kind'], media: z.infer<typeof mediaSchema> | undefined) =>
    media
      ? {
          kind,
          ...(media.id ? { ref: media.id } : {}),
          ...(media.mime_type ? { mimeType: media.mime_type } : {}),
          ...(media.caption ? { caption: media.caption } : {}),
        }
      : undefined;
  switch (message.type) {
    case 'image':
    case 'video':
    case 'audio':
    case 'sticker':
      return withRef(message.type, message[message.type]);
    case 'document': {
      const media = withRef('file', message.document);
      const fileName = message.document?.filename;
      return media && fileName ? { ...media, fileName } : media;
    }
    case 'location': {
      const location = message.location;
      if (!location) return undefined;
      const label = [location.name, location.address].filter(Boolean).join(', ');
      return {
        kind: 'location',
        latitude: location.latitude,
        longitude: location.longitude,
        ...(label ? { label } : {}),
      };
    }
    default:
      return undefined;
  }
}

function withMedia(media: MessageMedia | undefined): { media?: MessageMedia } {
  return media ? { media } : {};
}
