import type { Catalog } from '../shops/shop-schema';
import { productMentionDetector } from './catalog-options';
import { givenIn } from './dialogue-state';
import { lexicon, matches } from './lexicon';
import { toSimplified } from './locale-detection';
import {
  type ConversationReading,
  classifyConversation,
  readMessage,
  splitSentences,
} from './stage-classifier';
import { memoText } from './text-memo';
import type { ChatMessage, GivenKind } from './vocabulary';

/**
 * The reader's features for one conversation, shared by training and
 * inference so both see exactly the same thing: character 1–3-grams of the
 * buyer's last message, of their earlier messages (weighted down with
 * distance) and of the agent's last message, Latin word uni- and bigrams,
 * the last message's word segments and shape, the lexicon's signals, and what
 * the buyer already gave.
 */

/**
 * Weights of the feature blocks, chosen by 5-fold cross-validation on the
 * train split (3,107 conversations): agent weight 0.4-1, context decay
 * 0.55-0.8, 3- vs 4-grams, word features on or off all scored within a point;
 * the word segments of the last message (+0.6) and its shape (+0.2) helped.
 */
export interface FeatureConfig {
  /** Earlier buyer messages read, and the weight of each step back: older words count less. */
  contextTurns: number;
  contextDecay: number;
  agentWeight: number;
  maxGram: number;
  wordWeight: number;
  lastWeight: number;
  /** Words of the last message as ICU's dictionary segmenter cuts them (unigrams and bigrams). */
  segmentWeight: number;
  /** Length, a closing question mark, punctuation only. */
  shapeWeight: number;
}
export const FEATURE_CONFIG: FeatureConfig = {
  contextTurns: 4,
  contextDecay: 0.55,
  agentWeight: 0.4,
  maxGram: 3,
  wordWeight: 0.7,
  lastWeight: 1,
  segmentWeight: 0.6,
  shapeWeight: 1,
};

const EMOJI = /\p{Extended_Pictographic}/gu;
/** Emoji that carry anger or exasperation keep their own class: 😡 is not 😊. */
const ANGRY_EMOJI = /[😡🤬😤😠💢👿🙄😒😑😩😫😭💔👎]/gu;
const LONG_NUMBER = /\d{5,}/g;

/**
 * One script, one case, one digit, one emoji: Traditional to Simplified
 * (OpenCC, with Hong Kong and Taiwan variants), NFKC (full-width to ASCII),
 * lower case, runs of 5+ digits to "#", other digits to "0", every emoji to
 * "☺", and letters repeated more than twice cut to two ("!!!!" -> "!!").
 */
export const normalise = memoText((text: string): string =>
  toSimplified(text.normalize('NFKC'))
    .toLowerCase()
    .replace(LONG_NUMBER, '#')
    .replace(/\d/g, '0')
    .replace(ANGRY_EMOJI, '☹')
    .replace(EMOJI, '☺')
    .replace(/(.)\1{2,}/gu, '$1$1')
    .replace(/\s+/g, ' ')
    .trim(),
);

export type FeatureVector = Map<string, number>;

/** Character n-grams (1–3) of a normalised text with boundary marks, as counts. */
function charGrams(text: string, min = 1, max = 3): Map<string, number> {
  const chars = ['^', ...text.replace(/ /g, '_'), '$'];
  const out = new Map<string, number>();
  // Hot (every message of the recent history, every suggestion): grams built by concatenation,
  // not by slicing and joining an array per gram.
  for (let n = min; n <= max; n += 1) {
    for (let i = 0; i + n <= chars.length; i += 1) {
      let gram = chars[i]!;
      for (let j = 1; j < n; j += 1) gram += chars[i + j]!;
      if (gram === '^' || gram === '$') continue;
      out.set(gram, (out.get(gram) ?? 0) + 1);
    }
  }
  return out;
}

let segmenter: Intl.Segmenter | undefined;
/** Word uni- and bigrams by ICU's dictionary segmenter: Chinese words, not only character runs. */
function segmentWords(text: string): Map<string, number> {
  segmenter ??= new Intl.Segmenter('zh', { granularity: 'word' });
  const out = new Map<string, number>();
  let prev = '^';
  for (const s of segmenter.segment(text)) {
    if (!s.isWordLike) continue;
    const pair = `${prev}+${s.segment}`;
    out.set(s.segment, (out.get(s.segment) ?? 0) + 1);
    out.set(pair, (out.get(pair) ?? 0) + 1);
    prev = s.segment;
  }
  return out;
}

function wordGrams(text: string): Map<string, number> {
  const words = text.match(/[a-z][a-z']*/g) ?? [];
  const out = new Map<string, number>();
  words.forEach((w, i) => {
    out.set(w, (out.get(w) ?? 0) + 1);
    const next = words[i + 1];
    if (next) out.set(`${w} ${next}`, (out.get(`${w} ${next}`) ?? 0) + 1);
  });
  return out;
}

/** The grams of a block, counted, for one normalised text. */
export type Grams = (text: string) => Map<string, number>;

const gramsUpTo = new Map<number, Grams>();
/** The last message's character grams, 1 to `max` (a function per `max`, so it names its grams). */
function lastGrams(max: number): Grams {
  let grams = gramsUpTo.get(max);
  if (!grams) {
    grams = (text) => charGrams(text, 1, max);
    gramsUpTo.set(max, grams);
  }
  return grams;
}
const agentGrams: Grams = (text) => charGrams(text, 2, 3);

/** What `counts` are divided by for a block of unit length: long texts do not drown short ones. */
export function blockNorm(counts: Map<string, number>): number {
  let norm = 0;
  for (const c of counts.values()) norm += c * c;
  return Math.sqrt(norm);
}

/**
 * Where the features go: a map of them for training (`conversationFeatures`), or
 * straight into the model's sums (reader.ts). A block is `grams(text)` under `prefix`,
 * scaled to unit length times `weight`; the same prefix and text always give the same
 * grams, so a sink may remember a text's block (the earlier messages come back in the
 * next few suggestions).
 */
export interface FeatureSink {
  add(key: string, value: number): void;
  block(prefix: string, text: string, grams: Grams, weight: number): void;
}

/** The reader's features for one conversation, as a map (training, tests). */
export function conversationFeatures(
  history: readonly ChatMessage[],
  catalog?: Catalog,
  config: FeatureConfig = FEATURE_CONFIG,
): FeatureVector {
  const vector: FeatureVector = new Map();
  const add = (key: string, value: number) => vector.set(key, (vector.get(key) ?? 0) + value);
  emitFeatures(
    {
      add,
      block(prefix, text, grams, weight) {
        const counts = grams(text);
        const norm = blockNorm(counts);
        if (norm === 0) return;
        const scale = weight / norm;
        for (const [key, c] of counts) add(`${prefix}${key}`, c * scale);
      },
    },
    history,
    catalog,
    config,
  );
  return vector;
}

/**
 * The buyer's words without sentences that try to instruct the assistant
 * ("ignore previous instructions..."): those are data, never the buyer's intent.
 */
export const withoutInstructions = memoText((text: string): string =>
  splitSentences(text)
    .filter((s) => !matches(lexicon.signals.instruction_like_text, s))
    .join(''),
);

/**
 * What the rules engine already read of the same history and catalog (rules-engine.ts reads it
 * before the reader): given, the features use it instead of reading the conversation again.
 */
export interface Preread {
  reading: ConversationReading;
  given: readonly GivenKind[];
}

export function emitFeatures(
  sink: FeatureSink,
  history: readonly ChatMessage[],
  catalog?: Catalog,
  config: FeatureConfig = FEATURE_CONFIG,
  preread?: Preread,
): void {
  const mentions = productMentionDetector(catalog);
  const buyerTexts = history
    .filter((m) => m.from === 'buyer')
    .map((m) => withoutInstructions(m.text));
  const last = buyerTexts[buyerTexts.length - 1] ?? '';
  const lastNorm = normalise(last);
  sink.block('L|', lastNorm, lastGrams(config.maxGram), config.lastWeight);
  sink.block('LW|', lastNorm, wordGrams, config.wordWeight);
  const lastReading = readMessage(last, mentions);
  for (const signal of lastReading.signals) sink.add(`LS|${signal}`, 1);
  if (lastReading.greeting) sink.add('LS|greeting', 1);
  // The lexicon engine's own verdict on the whole conversation, as one more feature to weigh.
  const lexiconReading = preread?.reading ?? classifyConversation(history, mentions);
  sink.add(`LX|${lexiconReading.stage}`, 1);
  if (lexiconReading.stage === 'complaint')
    sink.add(`LX|topic:${lexiconReading.complaintTopic}`, 1);

  sink.block('LG|', lastNorm, segmentWords, config.segmentWeight);
  // The shape of the last message: "?" alone, a long story and a two-word answer read differently.
  const length = [...last].length;
  const lengthBucket = length <= 2 ? 0 : length <= 6 ? 1 : length <= 15 ? 2 : length <= 40 ? 3 : 4;
  sink.add(`S|len${lengthBucket}`, config.shapeWeight);
  if (/[?？]\s*$/.test(last)) sink.add('S|endq', config.shapeWeight);
  if (/^[\p{P}\p{S}\s]*$/u.test(last)) sink.add('S|punctonly', config.shapeWeight);

  const earlier = buyerTexts.slice(0, -1).slice(-config.contextTurns).reverse();
  earlier.forEach((text, index) => {
    const weight = config.contextDecay ** (index + 1);
    const norm = normalise(text);
    sink.block('P|', norm, charGrams, weight);
    sink.block('PW|', norm, wordGrams, weight * 0.7);
    for (const signal of readMessage(text, mentions).signals) sink.add(`PS|${signal}`, weight);
  });

  // The agent's last words before the buyer's last message tell what the buyer is answering.
  let lastBuyerIndex = history.length - 1;
  while (lastBuyerIndex >= 0 && history[lastBuyerIndex]?.from !== 'buyer') lastBuyerIndex -= 1;
  for (let i = lastBuyerIndex - 1; i >= 0; i -= 1) {
    const m = history[i];
    if (m?.from === 'agent') {
      sink.block('A|', normalise(m.text), agentGrams, config.agentWeight);
      break;
    }
  }

  const turns = buyerTexts.length;
  sink.add(`T|${turns === 1 ? '1' : turns === 2 ? '2' : turns <= 4 ? '3-4' : '5+'}`, 1);
  if (history.some((m) => m.from === 'agent')) sink.add('T|agent', 1);
  for (const kind of preread?.given ?? givenIn(history)) sink.add(`G|${kind}`, 1);
  if (matches(lexicon.negative, buyerTexts.slice(-2).join('\n'))) sink.add('N|negative', 1);
  // Shouting: words in capitals ("STILL NOT HERE", "WTF"), a tone lower-casing would lose.
  const shouted = (last.match(/\b[A-Z]{3,}\b/g) ?? []).length;
  if (shouted > 0) sink.add('N|caps', Math.min(shouted, 3));
  if (/[!！]{2,}|[?？]{2,}/.test(last)) sink.add('N|repeated-punctuation', 1);
  if (matches(lexicon.positive, last)) sink.add('N|positive', 1);
  sink.add('B|bias', 1);
}
