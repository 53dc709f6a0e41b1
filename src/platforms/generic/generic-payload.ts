import { z } from 'zod';

const instant = z.iso.datetime({
  offset: true,
  message: 'must be an ISO-8601 time with an offset',
});
const id = z.string().min(1).max(256);

export const genericMessageData = z.object({
  messageId: id,
  buyer: z.object({ id, name: z.string().max(200).optional() }),
  from: z.enum(['buyer', 'agent']),
  agentName: z.string().max(200).optional(),
  text: z.string().max(10_000),
  sentAt: instant,
});

export const genericOrderData = z.object({
  orderId: id,
  buyerId: id,
  amountFen: z.number().int().nonnegative(),
  paidAt: instant,
});

export const genericRatingData = z.object({
  buyerId: id,
  score: z.number().int().min(1).max(5),
  ratedAt: instant,
});

/** The body of a generic (Standard Webhooks) delivery. */
export const genericPayload = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('message'),
    timestamp: z.unknown().optional(),
    data: genericMessageData,
  }),
  z.object({ type: z.literal('order'), timestamp: z.unknown().optional(), data: genericOrderData }),
  z.object({
    type: z.literal('rating'),
    timestamp: z.unknown().optional(),
    data: genericRatingData,
  }),
]);

/** Seatmate refuses webhook secrets with fewer random bytes than this, generated or given. */
export const MIN_SECRET_BYTES = 24;

const webhookSecret = z
  .string()
  .startsWith('whsec_', { message: 'must start with whsec_' })
  .refine((s) => Buffer.from(s.slice('whsec_'.length), 'base64').length >= MIN_SECRET_BYTES, {
    message: `must be whsec_ followed by the base64 of at least ${MIN_SECRET_BYTES} random bytes`,
  });

export const genericCredentials = z.object({
  webhookSecret,
  /** The secret before the last rotation, still accepted until `previousWebhookSecretUntil` (ms). */
  previousWebhookSecret: webhookSecret.optional(),
  previousWebhookSecretUntil: z.number().int().optional(),
  /** Where replies are POSTed, signed with the same secret; https (see the outbound policy). */
  replyUrl: z
    .url({ protocol: /^https?$/, message: 'must be an absolute https URL' })
    .max(2048)
    .optional(),
});

export type GenericCredentials = z.infer<typeof genericCredentials>;
