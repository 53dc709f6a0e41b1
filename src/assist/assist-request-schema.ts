import { z } from 'zod';

/** Longest conversation sent for one suggestion: enough context for a stage, bounded cost per call. */
export const MAX_HISTORY_ENTRIES = 50;
/** One chat message; longer text is a paste, not a message. */
export const MAX_MESSAGE_CHARS = 2000;

export const localeSchema = z.enum(['zh-Hans', 'zh-Hant', 'en']);

export const chatMessageSchema = z
  .object({
    from: z.enum(['buyer', 'agent']),
    text: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(MAX_MESSAGE_CHARS, `must be at most ${MAX_MESSAGE_CHARS} characters`),
    at: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

/** Body of `POST /v1/assist/suggest`. */
export const assistRequestSchema = z
  .object({
    shopId: z.string().min(1).max(100).optional(),
    locale: localeSchema.optional(),
    history: z
      .array(chatMessageSchema)
      .min(1, 'needs at least one message')
      .max(MAX_HISTORY_ENTRIES, `holds at most ${MAX_HISTORY_ENTRIES} messages`),
  })
  .strict();

export type AssistRequest = z.infer<typeof assistRequestSchema>;
