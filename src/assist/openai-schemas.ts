import { z } from 'zod';
import {
  INTENTS,
  MAX_SUGGESTIONS,
  SENTIMENTS,
  SIGNAL_NAMES,
  type SignalName,
  STAGES,
  TACTICS,
} from './vocabulary';

/**
 * What the OpenAI-compatible engine reads from files and from the model,
 * as zod schemas. A module of its own so that zod is loaded on the first
 * model call, not when the assistant starts.
 */

export const modelOutputSchema = z.object({
  stage: z.enum(STAGES),
  intent: z.enum(INTENTS).optional(),
  sentiment: z.enum(SENTIMENTS),
  // Only names the service knows: free text from the model has no business in the response.
  signals: z
    .array(z.string())
    .max(20)
    .default([])
    .transform((signals) =>
      [...new Set(signals)].filter((s): s is SignalName =>
        (SIGNAL_NAMES as readonly string[]).includes(s),
      ),
    ),
  suggestions: z
    .array(z.object({ text: z.string().trim().min(1).max(2000), tactic: z.enum(TACTICS) }))
    .min(1)
    .max(MAX_SUGGESTIONS),
});

export const fewShotSchema = z.array(
  z.object({
    id: z.string(),
    input: z.object({
      history: z.array(z.object({ from: z.enum(['buyer', 'agent']), text: z.string() })),
      locale: z.enum(['zh-Hans', 'zh-Hant', 'en']),
    }),
    output: z.object({
      stage: z.enum(STAGES),
      intent: z.enum(INTENTS),
      sentiment: z.enum(SENTIMENTS),
      signals: z.array(z.string()),
      suggestions: z.array(z.object({ text: z.string(), tactic: z.enum(TACTICS) })),
    }),
  }),
);
export type FewShotExample = z.infer<typeof fewShotSchema>[number];
