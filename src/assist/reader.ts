import { existsSync, readFileSync } from 'node:fs';
import type { Catalog } from '../shops/shop-schema';
import { conversationFeatures } from './features';
import {
  type ChatMessage,
  INTENTS,
  type Intent,
  SENTIMENTS,
  type Sentiment,
  STAGES,
  type Stage,
} from './vocabulary';

/**
 * The learned reader: multinomial logistic regression over the features in
 * features.ts, one head each for stage, intent and sentiment, trained by
 * `npm run train:assist` (reader-training.ts) and loaded from a versioned
 * model file committed in the repo. Pure in-process arithmetic: no network,
 * deterministic, well under a millisecond per conversation.
 */

export const MODEL_URL = new URL('./model/reader.json', import.meta.url);
export const MODEL_FORMAT = 'seatmate-reader/1';

/** One head of the model: a linear layer over the features, softmax with a fitted temperature. */
export interface ReaderHead<C extends string> {
  classes: C[];
  bias: number[];
  /** Weights are int8 (base64, features x classes, row-major) times this scale. */
  scale: number;
  weights: string;
  /** Softmax temperature fitted on held-out folds, so probabilities are calibrated. */
  temperature: number;
}

/** The model file (schema for tests and training: reader-model.ts). */
export interface ReaderModel {
  format: typeof MODEL_FORMAT;
  version: string;
  trainedOn: { conversations: number; batches: string[]; fixtures: number };
  features: string[];
  heads: { stage: ReaderHead<Stage>; intent: ReaderHead<Intent>; sentiment: ReaderHead<Sentiment> };
  /** P(complaint) at or above this reads as a complaint: recall matters more than a sale. */
  complaintThreshold: number;
}

export interface ReaderOutput {
  stage: Stage;
  /** Probability of each stage (calibrated). */
  stageProbabilities: Record<Stage, number>;
  /** Probability of the chosen stage. */
  confidence: number;
  intent: Intent;
  intentConfidence: number;
  sentiment: Sentiment;
}

export interface Reader {
  version: string;
  read(history: readonly ChatMessage[], catalog?: Catalog): ReaderOutput;
}

interface CompiledHead<C extends string> {
  classes: readonly C[];
  bias: Float64Array;
  /** The int8 weights as stored; multiplied by `scale` when summed (no float copy to build at start). */
  weights: Int8Array;
  scale: number;
  temperature: number;
}

function compileHead<C extends string>(
  name: string,
  head: ReaderHead<C>,
  vocabulary: readonly C[],
  features: number,
): CompiledHead<C> {
  const bytes = Buffer.from(head.weights, 'base64');
  const k = head.classes.length;
  if (
    !head.classes.every((c) => vocabulary.includes(c)) ||
    head.bias.length !== k ||
    bytes.length !== features * k ||
    !(head.scale > 0 && head.temperature > 0)
  )
    throw new Error(`the reader model's ${name} head does not fit its ${features} features`);
  return {
    classes: head.classes,
    bias: Float64Array.from(head.bias),
    weights: new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length),
    scale: head.scale,
    temperature: head.temperature,
  };
}

export function softmax(logits: ArrayLike<number>, temperature = 1): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i += 1) max = Math.max(max, (logits[i] ?? 0) / temperature);
  const exps = Array.from(logits, (l) => Math.exp(l / temperature - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

function probabilities<C extends string>(
  head: CompiledHead<C>,
  active: ReadonlyArray<readonly [number, number]>,
): number[] {
  const k = head.classes.length;
  const logits = Float64Array.from(head.bias);
  for (const [index, value] of active) {
    const row = index * k;
    const scaled = value * head.scale;
    for (let c = 0; c < k; c += 1)
      logits[c] = (logits[c] ?? 0) + scaled * (head.weights[row + c] ?? 0);
  }
  return softmax(logits, head.temperature);
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i += 1) if ((values[i] ?? 0) > (values[best] ?? 0)) best = i;
  return best;
}

export function createReader(model: ReaderModel): Reader {
  if (model.format !== MODEL_FORMAT)
    throw new Error(`the reader model is ${String(model.format)}, this code reads ${MODEL_FORMAT}`);
  const index = new Map(model.features.map((f, i) => [f, i]));
  const n = model.features.length;
  const stageHead = compileHead('stage', model.heads.stage, STAGES, n);
  const intentHead = compileHead('intent', model.heads.intent, INTENTS, n);
  const sentimentHead = compileHead('sentiment', model.heads.sentiment, SENTIMENTS, n);
  return {
    version: model.version,
    read(history, catalog) {
      const active: Array<readonly [number, number]> = [];
      for (const [feature, value] of conversationFeatures(history, catalog)) {
        const i = index.get(feature);
        if (i !== undefined) active.push([i, value]);
      }
      const stageP = probabilities(stageHead, active);
      const stageProbabilities = Object.fromEntries(
        STAGES.map((s) => [s, stageP[stageHead.classes.indexOf(s)] ?? 0]),
      ) as Record<Stage, number>;
      let stage = stageHead.classes[argmax(stageP)] as Stage;
      if (stageProbabilities.complaint >= model.complaintThreshold) stage = 'complaint';
      const intentP = probabilities(intentHead, active);
      const intentAt = argmax(intentP);
      const sentimentP = probabilities(sentimentHead, active);
      return {
        stage,
        stageProbabilities,
        confidence: stageProbabilities[stage],
        intent: intentHead.classes[intentAt] as Intent,
        intentConfidence: intentP[intentAt] ?? 0,
        sentiment: sentimentHead.classes[argmax(sentimentP)] as Sentiment,
      };
    },
  };
}

/** The committed model, or null when there is none yet (the lexicons then read alone). */
export function loadReader(url: URL = MODEL_URL): Reader | null {
  if (!existsSync(url)) return null;
  // Checked by shape in createReader, not by its zod schema (reader-model.ts, used by the
  // tests and by training): zod would be most of the assistant's cold start.
  return createReader(JSON.parse(readFileSync(url, 'utf8')) as ReaderModel);
}

let committed: Reader | null | undefined;
/** The committed model, parsed once per process (every assistant shares it). */
export function defaultReader(): Reader | null {
  if (committed === undefined) committed = loadReader();
  return committed;
}
