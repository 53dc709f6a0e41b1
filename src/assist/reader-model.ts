import { z } from 'zod';
import { MODEL_FORMAT, type ReaderModel } from './reader';
import { INTENTS, SENTIMENTS, STAGES } from './vocabulary';

/**
 * The reader's model file as a zod schema: training checks what it writes and
 * the tests check the committed file. The reader itself only checks the shape
 * it needs (reader.ts), so the assistant's start-up does not load zod.
 */

const headSchema = <T extends readonly [string, ...string[]]>(classes: T) =>
  z.object({
    classes: z.array(z.enum(classes)).min(2),
    bias: z.array(z.number()),
    /** Weights are int8 (base64, features x classes, row-major) times this scale. */
    scale: z.number().positive(),
    weights: z.string(),
    /** Softmax temperature fitted on held-out folds, so probabilities are calibrated. */
    temperature: z.number().positive(),
  });

export const readerModelSchema: z.ZodType<ReaderModel> = z.object({
  format: z.literal(MODEL_FORMAT),
  version: z.string().min(1),
  trainedOn: z.object({
    conversations: z.number().int(),
    batches: z.array(z.string()),
    fixtures: z.number().int(),
  }),
  features: z.array(z.string()),
  heads: z.object({
    stage: headSchema(STAGES),
    intent: headSchema(INTENTS),
    sentiment: headSchema(SENTIMENTS),
  }),
  /** P(complaint) at or above this reads as a complaint: recall matters more than a sale. */
  complaintThreshold: z.number().min(0).max(1),
});
