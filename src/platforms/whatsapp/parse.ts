import { z } from 'zod';
import type { MessageEvent, ParsedDelivery } from '../contract';
import { invalidPayload, parseJsonBody, parsePayload } from '../payload-schema';
import type { WhatsappCredentials } from './credentials';

const messageSchema = z.object({
  from: z.string().min(1),
  id: z.string().min(1),
  timestamp: z.string().regex(/^\d+$/, { error: 'must be Unix seconds as a string' }),
  type: z.string().min(1),
  text: z.object({ body: z.string() }).optional(),
  image: z.object({ caption: z.string().optional() }).optional(),
  video: z.object({ caption: z.string().optional() }).optional(),
  document: z.object({ caption: z.string().optional(), filename: z.string().optional() }).optional(),
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
  contacts: z.array(z.object({ wa_id: z.string(), profile: z.object({ name: z.string() }).optional() })).optional(),
  messages: z.array(messageSchema).optional(),
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
      return message.interactive?.button_reply?.title ?? message.interactive?.list_reply?.title ?? '[interactive]';
    case 'reaction':
      return message.reaction?.emoji ? `[reaction ${message.reaction.emoji}]` : '[reaction removed]';
    default:
      return `[${message.type}]`;
  }
}

function withCaption(placeholder: string, caption: string | undefined): string {
  return caption ? `${placeholder} ${caption}` : placeholder;
}

/**
 * Walks entry[] → changes[] → value.messages[]: Meta batches up to 1000
 * updates per POST. `statuses[]` (sent/delivered/read of our own replies) and
 * other fields carry no buyer message and yield nothing. `system` messages
 * (a buyer changed number) are not something a buyer said.
 */
export function parseWhatsappDelivery(rawBody: Buffer, credentials: WhatsappCredentials): ParsedDelivery {
  const delivery = parsePayload(deliverySchema, parseJsonBody(rawBody));
  const events: MessageEvent[] = [];
  delivery.entry.forEach((entry, entryIndex) => {
    entry.changes.forEach((change, changeIndex) => {
      if (change.field !== 'messages') return;
      const value = parsePayload(valueSchema, change.value, ['entry', entryIndex, 'changes', changeIndex, 'value']);
      const phoneNumberId = value.metadata?.phone_number_id;
      // One Meta app may serve several numbers; only this shop's number is ours.
      if (phoneNumberId !== undefined && phoneNumberId !== credentials.phoneNumberId) return;
      (value.messages ?? []).forEach((message, messageIndex) => {
        if (message.type === 'system') return;
        const seconds = Number(message.timestamp);
        if (!Number.isSafeInteger(seconds) || seconds > 8_640_000_000_000) {
          throw invalidPayload(`entry.${entryIndex}.changes.${changeIndex}.value.messages.${messageIndex}.timestamp`, 'is out of range');
        }
        const name = value.contacts?.find((contact) => contact.wa_id === message.from)?.profile?.name;
        events.push({
          kind: 'message',
          eventId: message.id,
          messageId: message.id,
          buyer: name ? { id: message.from, name } : { id: message.from },
          from: 'buyer',
          text: textOf(message),
          sentAt: new Date(seconds * 1000).toISOString(),
          replyContext: { phoneNumberId: phoneNumberId ?? credentials.phoneNumberId, waId: message.from },
        });
      });
    });
  });
  return { events };
}
