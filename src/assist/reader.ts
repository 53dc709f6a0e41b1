import { existsSync, readFileSync } from 'node:fs';
import type { Catalog } from '../shops/shop-schema';
import { blockNorm, emitFeatures, FEATURE_CONFIG, type Grams, type Preread } from './features';
import { TextMemory } from './text-memo';
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
  /** `preread`: the rules engine's reading of the same history and catalog, when it has one. */
  read(history: readonly ChatMessage[], catalog?: Catalog, preread?: Preread): ReaderOutput;
}

interface CompiledHead<C extends string> {
  classes: readonly C[];
  bias: Float64Array;
  /** The int8 weights' factor, applied once to the summed rows. */
  scale: number;
  temperature: number;
}

function compileHead<C extends string>(
  name: string,
  head: ReaderHead<C>,
  vocabulary: readonly C[],
  features: number,
): { head: CompiledHead<C>; weights: Int8Array } {
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
    head: {
      classes: head.classes,
      bias: Float64Array.from(head.bias),
      scale: head.scale,
      temperature: head.temperature,
    },
    // The int8 weights as stored (features x classes); copied into the reader's table.
    weights: new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length),
  };
}

/** A feature's prefix ("P|") and the rest (a gram): no name holds a "|" before its prefix's own. */
function splitFeature(feature: string): [prefix: string, rest: string] {
  const cut = feature.indexOf('|') + 1;
  return [feature.slice(0, cut), feature.slice(cut)];
}

export function softmax(logits: ArrayLike<number>, temperature = 1): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i += 1) max = Math.max(max, (logits[i] ?? 0) / temperature);
  // Loops, not Array.from and map: this runs three times for every suggestion.
  const exps = new Array<number>(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i += 1) {
    exps[i] = Math.exp((logits[i] ?? 0) / temperature - max);
    sum += exps[i]!;
  }
  for (let i = 0; i < exps.length; i += 1) exps[i] = exps[i]! / sum;
  return exps;
}

/** Blocks of the earlier buyer messages and the agent's last one: later suggestions read them. */
const REMEMBERED_PREFIXES = new Set(['P|', 'PW|', 'A|']);

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i += 1) if ((values[i] ?? 0) > (values[best] ?? 0)) best = i;
  return best;
}

export function createReader(model: ReaderModel): Reader {
  if (model.format !== MODEL_FORMAT)
    throw new Error(`the reader model is ${String(model.format)}, this code reads ${MODEL_FORMAT}`);
  // Feature rows by prefix and the rest, so a block's grams are looked up without building
  // "P|" + gram for each.
  const byPrefix = new Map<string, Map<string, number>>();
  model.features.forEach((feature, i) => {
    const [prefix, rest] = splitFeature(feature);
    let rows = byPrefix.get(prefix);
    if (!rows) byPrefix.set(prefix, (rows = new Map()));
    rows.set(rest, i);
  });
  const n = model.features.length;
  const parts = [
    compileHead('stage', model.heads.stage, STAGES, n),
    compileHead('intent', model.heads.intent, INTENTS, n),
    compileHead('sentiment', model.heads.sentiment, SENTIMENTS, n),
  ] as const;
  const [stageHead, intentHead, sentimentHead] = [parts[0].head, parts[1].head, parts[2].head];
  // The three heads' int8 weights side by side per feature row (3.6 MB; the stored arrays are
  // not kept), so a feature's contribution to every class is one pass over adjacent bytes;
  // each head's scale is applied once to the sums, not per feature.
  const width = parts.reduce((sum, part) => sum + part.head.classes.length, 0);
  const table = new Int8Array(n * width);
  let column = 0;
  for (const { head, weights } of parts) {
    const k = head.classes.length;
    for (let row = 0; row < n; row += 1)
      for (let c = 0; c < k; c += 1) table[row * width + column + c] = weights[row * k + c]!;
    column += k;
  }
  // A plain loop: Float64Array.from with a map function is several times slower, per call.
  const logitsOf = (head: CompiledHead<string>, sums: Float64Array, from: number) => {
    const logits = new Float64Array(head.bias.length);
    for (let c = 0; c < logits.length; c += 1)
      logits[c] = head.bias[c]! + head.scale * sums[from + c]!;
    return logits;
  };

  // A block's sums over every class: its rows are scattered over the 3.6 MB table, so
  // reading them costs a cache miss each (most of the reader's time); the sums are
  // `width` numbers.
  const blockSums = (prefix: string, text: string, grams: Grams): Float64Array | null => {
    const counts = grams(text);
    const norm = blockNorm(counts);
    const rows = byPrefix.get(prefix);
    if (norm === 0 || !rows) return null;
    const sums = new Float64Array(width);
    for (const [gram, c] of counts) {
      const row = rows.get(gram);
      if (row === undefined) continue;
      const value = c / norm;
      const at = row * width;
      for (let k = 0; k < width; k += 1) sums[k] = sums[k]! + value * table[at + k]!;
    }
    return sums;
  };
  // An earlier message is read again by the next few suggestions of its conversation (as
  // "P|" up to four times; the agent's last words until the agent speaks again), so those
  // blocks' sums are remembered: ~0.5 KB a text, bounded like the other text memories.
  const memory = new TextMemory<Record<string, Float64Array | null>>();
  const rememberedSums = (prefix: string, text: string, grams: Grams): Float64Array | null => {
    let byText = memory.get(text);
    const remembered = byText?.[prefix];
    if (remembered !== undefined) return remembered;
    const sums = blockSums(prefix, text, grams);
    if (!byText) {
      byText = Object.create(null) as Record<string, Float64Array | null>;
      memory.set(text, byText);
    }
    byText[prefix] = sums;
    return sums;
  };

  return {
    version: model.version,
    read(history, catalog, preread) {
      const sums = new Float64Array(width);
      const addRow = (row: number, value: number) => {
        const at = row * width;
        for (let c = 0; c < width; c += 1) sums[c] = sums[c]! + value * table[at + c]!;
      };
      emitFeatures(
        {
          add(feature, value) {
            const [prefix, rest] = splitFeature(feature);
            const row = byPrefix.get(prefix)?.get(rest);
            if (row !== undefined) addRow(row, value);
          },
          block(prefix, text, grams, weight) {
            const block = REMEMBERED_PREFIXES.has(prefix)
              ? rememberedSums(prefix, text, grams)
              : blockSums(prefix, text, grams);
            if (block) for (let k = 0; k < width; k += 1) sums[k] = sums[k]! + weight * block[k]!;
          },
        },
        history,
        catalog,
        FEATURE_CONFIG,
        preread,
      );
      const stageP = softmax(logitsOf(stageHead, sums, 0), stageHead.temperature);
      const stageProbabilities = Object.fromEntries(
        STAGES.map((s) => [s, stageP[stageHead.classes.indexOf(s)] ?? 0]),
      ) as Record<Stage, number>;
      let stage = stageHead.classes[argmax(stageP)] as Stage;
      if (stageProbabilities.complaint >= model.complaintThreshold) stage = 'complaint';
      const intentP = softmax(
        logitsOf(intentHead, sums, stageHead.classes.length),
        intentHead.temperature,
      );
      const intentAt = argmax(intentP);
      const sentimentP = softmax(
        logitsOf(sentimentHead, sums, width - sentimentHead.classes.length),
        sentimentHead.temperature,
      );
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
/** The committed model, parsed once per thread that drafts suggestions (every assistant shares it). */
export function defaultReader(): Reader | null {
  if (committed === undefined) committed = loadReader();
  return committed;
}
