import { z } from 'zod';
import type { MessageEvent, ParsedDelivery } from '../contract';
import { invalidPayload, parseJsonBody, parsePayload } from '../payload-schema';
import type { WhatsappCredentials } from './credentials';

const messageSchema = z.object({
  from: z.string().min(1),
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
  image: z.object({ caption: z.string().optional() }).optional(),
  video: z.object({ caption: z.string().optional() }).optional(),
  document: z
    .object({ caption: z.string().optional(), filename: z.string().optional() })
    .optional(),
  button: z.object({ text: z.string() }).optional(),
  interactive: z
    .object({
      button_reply: z.object({ title: z.string() }).optional(),
      list_reply: z.object({ title: z.string() }).optional(),
    })
    .optional(),
  reaction: z.object({ emoji: z.string().optional() }).optional(),
});

const valueSchema = z.object({
  metadata: z.object({ phone_number_id: z.string().min(1) }).optional(),
  contacts: z
    .array(z.object({ wa_id: z.string(), profile: z.object({ name: z.string() }).optional() }))
    .optional(),
  messages: z.array(messageSchema).optional(),
});

/** smb_message_echoes: what the business typed in the WhatsApp Business app on a coexistence number. */
const echoValueSchema = z.object({
  metadata: z.object({ phone_number_id: z.string().min(1) }).optional(),
  message_echoes: z.array(messageSchema.extend({ to: z.string().min(1) })).optional(),
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
    case 'button':
      return message.button?.text ?? '[button]';
    case 'interactive':
      return (
        message.interactive?.button_reply?.title ??
        message.interactive?.list_reply?.title ??
        '[interactive]'
      );
    case 'reaction':
      return message.reaction?.emoji
        ? `[reaction ${message.reaction.emoji}]`
        : '[reaction removed]';
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
  const events: MessageEvent[] = [];
  delivery.entry.forEach((entry, entryIndex) => {
    entry.changes.forEach((change, changeIndex) => {
      const at = ['entry', entryIndex, 'changes', changeIndex, 'value'];
      if (change.field === 'messages') {
        const value = parsePayload(valueSchema, change.value, at);
        if (!isThisShop(value.metadata?.phone_number_id, credentials)) return;
        for (const message of value.messages ?? []) {
          if (message.type === 'system') continue;
          const name = value.contacts?.find((contact) => contact.wa_id === message.from)?.profile
            ?.name;
          events.push(
            toEvent(
              message,
              { id: message.from, name },
              'buyer',
              credentials,
              value.metadata?.phone_number_id,
            ),
          );
        }
      } else if (change.field === 'smb_message_echoes') {
        const value = parsePayload(echoValueSchema, change.value, at);
        if (!isThisShop(value.metadata?.phone_number_id, credentials)) return;
        for (const echo of value.message_echoes ?? []) {
          // Edits and deletions of an earlier reply are not new replies.
          if (echo.type === 'edit' || echo.type === 'revoke') continue;
          // `to` is the number as typed ("+1 650…"); buyer ids are wa_ids, digits only.
          const buyerId = echo.to.replace(/\D/g, '');
          events.push(
            toEvent(echo, { id: buyerId }, 'agent', credentials, value.metadata?.phone_number_id),
          );
        }
      }
    });
  });
  return { events };
}

/** One Meta app may serve several numbers; only this shop's number is ours. */
function isThisShop(phoneNumberId: string | undefined, credentials: WhatsappCredentials): boolean {
  return phoneNumberId === undefined || phoneNumberId === credentials.phoneNumberId;
}

function toEvent(
  message: WhatsappMessage,
  buyer: { id: string; name?: string | undefined },
  from: 'buyer' | 'agent',
  credentials: WhatsappCredentials,
  phoneNumberId: string | undefined,
): MessageEvent {
  const sentAt = new Date(message.timestamp * 1000);
  if (Number.isNaN(sentAt.getTime()))
    throw invalidPayload(`messages.${message.id}.timestamp`, 'is out of range');
  return {
    kind: 'message',
    eventId: message.id,
    messageId: message.id,
    buyer: buyer.name ? { id: buyer.id, name: buyer.name } : { id: buyer.id },
    from,
    text: textOf(message),
    sentAt: sentAt.toISOString(),
    replyContext: { phoneNumberId: phoneNumberId ?? credentials.phoneNumberId, waId: buyer.id },
  };
}
