import { createHash } from 'node:crypto';
import { seededRandom } from '../shared/seeded-random';
import type { Catalog } from '../shops/shop-schema';
import { conversationFeatures } from './features';
import { MODEL_FORMAT, type ReaderModel, softmax } from './reader';
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
 * Trains the reader (reader.ts): multinomial logistic regression by SGD with
 * L2, per head, on sorted examples shuffled with a fixed seed, so the same
 * corpus always gives the same model file. Used by scripts/train-assist.ts and,
 * on a tiny sample, by the unit tests.
 */

export interface TrainingExample {
  id: string;
  history: readonly ChatMessage[];
  catalog?: Catalog;
  stage: Stage;
  /** Heads without a label for an example skip it (the old fixtures have stage only). */
  intent?: Intent;
  sentiment?: Sentiment;
}

export interface TrainingOptions {
  epochs: number;
  learningRate: number;
  l2: number;
  /**
   * A feature must occur in this many training conversations to be kept. 3 rather than 2:
   * the same held-out accuracy (88.2% both) with 40% fewer features, so a smaller file
   * that loads faster at start-up.
   */
  minCount: number;
  seed: number;
  /** Folds for the held-out predictions that fit the temperature and complaint threshold. */
  folds: number;
  /**
   * The floors the complaint threshold is fitted against (the targets: recall 95%,
   * precision 90%): see fitComplaintThreshold.
   */
  complaintRecall: number;
  complaintPrecision: number;
}

export const DEFAULT_TRAINING: TrainingOptions = {
  epochs: 16,
  learningRate: 0.2,
  l2: 1e-4,
  minCount: 3,
  seed: 20261129,
  folds: 5,
  complaintRecall: 0.95,
  complaintPrecision: 0.9,
};

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

type Sparse = Array<readonly [number, number]>;

interface Encoded {
  x: Sparse;
  labels: { stage: number; intent: number; sentiment: number };
}

interface HeadWeights {
  w: Float64Array;
  b: Float64Array;
  k: number;
}

const HEADS = { stage: STAGES, intent: INTENTS, sentiment: SENTIMENTS } as const;
type HeadName = keyof typeof HEADS;
const HEAD_NAMES = Object.keys(HEADS) as HeadName[];

function featurise(examples: readonly TrainingExample[]) {
  return examples.map((e) => conversationFeatures(e.history, e.catalog));
}

function vocabularyOf(vectors: ReadonlyArray<Map<string, number>>, minCount: number): string[] {
  const counts = new Map<string, number>();
  for (const v of vectors) for (const f of v.keys()) counts.set(f, (counts.get(f) ?? 0) + 1);
  return [...counts]
    .filter(([, c]) => c >= minCount)
    .map(([f]) => f)
    .sort();
}

function encode(
  examples: readonly TrainingExample[],
  vectors: ReadonlyArray<Map<string, number>>,
  index: Map<string, number>,
): Encoded[] {
  return examples.map((e, i) => {
    const x: Sparse = [];
    for (const [f, value] of vectors[i] ?? new Map()) {
      const at = index.get(f);
      if (at !== undefined) x.push([at, value]);
    }
    x.sort((a, b) => a[0] - b[0]);
    return {
      x,
      labels: {
        stage: STAGES.indexOf(e.stage),
        intent: e.intent ? INTENTS.indexOf(e.intent) : -1,
        sentiment: e.sentiment ? SENTIMENTS.indexOf(e.sentiment) : -1,
      },
    };
  });
}

function logits(head: HeadWeights, x: Sparse): Float64Array {
  const out = Float64Array.from(head.b);
  for (const [i, v] of x) {
    const row = i * head.k;
    for (let c = 0; c < head.k; c += 1) out[c] = (out[c] ?? 0) + v * (head.w[row + c] ?? 0);
  }
  return out;
}

/**
 * AdaGrad: a step size per weight, so rare n-grams learn as fast as common
 * ones (plain SGD leaves the many small character features underfitted).
 */
function fitHeads(data: readonly Encoded[], features: number, options: TrainingOptions) {
  const heads = Object.fromEntries(
    HEAD_NAMES.map((name) => {
      const k = HEADS[name].length;
      return [name, { w: new Float64Array(features * k), b: new Float64Array(k), k }];
    }),
  ) as Record<HeadName, HeadWeights>;
  const squares = Object.fromEntries(
    HEAD_NAMES.map((name) => {
      const k = HEADS[name].length;
      return [name, { w: new Float64Array(features * k), b: new Float64Array(k) }];
    }),
  ) as Record<HeadName, { w: Float64Array; b: Float64Array }>;
  const random = seededRandom(options.seed);
  const rate = options.learningRate;
  for (let epoch = 0; epoch < options.epochs; epoch += 1) {
    for (const example of shuffled(data, random)) {
      for (const name of HEAD_NAMES) {
        const label = example.labels[name];
        if (label < 0) continue;
        const head = heads[name];
        const sq = squares[name];
        const p = softmax(logits(head, example.x));
        for (let c = 0; c < head.k; c += 1) {
          const g = (p[c] ?? 0) - (c === label ? 1 : 0);
          sq.b[c] = (sq.b[c] ?? 0) + g * g;
          head.b[c] = (head.b[c] ?? 0) - (rate * g) / (Math.sqrt(sq.b[c] ?? 0) + 1e-8);
          for (const [i, v] of example.x) {
            const at = i * head.k + c;
            const w = head.w[at] ?? 0;
            const grad = g * v + options.l2 * w;
            if (grad === 0) continue;
            sq.w[at] = (sq.w[at] ?? 0) + grad * grad;
            head.w[at] = w - (rate * grad) / (Math.sqrt(sq.w[at] ?? 0) + 1e-8);
          }
        }
      }
    }
  }
  return heads;
}

function predict(heads: Record<HeadName, HeadWeights>, x: Sparse) {
  return Object.fromEntries(
    HEAD_NAMES.map((name) => [name, [...logits(heads[name], x)]]),
  ) as Record<HeadName, number[]>;
}

/** The temperature that minimises held-out log loss (a coarse grid is enough for a scalar). */
function fitTemperature(held: ReadonlyArray<{ logits: number[]; label: number }>): number {
  let best = 1;
  let bestLoss = Infinity;
  for (let t = 0.4; t <= 4.001; t += 0.1) {
    let loss = 0;
    for (const { logits: l, label } of held) loss -= Math.log(softmax(l, t)[label] ?? 1e-12);
    if (loss < bestLoss) {
      bestLoss = loss;
      best = Math.round(t * 10) / 10;
    }
  }
  return best;
}

/**
 * The complaint threshold (0.15–0.5; argmax already decides above 0.5) that leaves the most
 * room above both floors on held-out predictions: the largest min(recall − recall floor,
 * precision − precision floor). A threshold fitted to just meet one floor meets it on unseen
 * conversations only about half the time (round eight's model, fitted to exactly 95% held-out
 * recall, read 93.6% on the locked split); with the room shared, each floor has about a point
 * of margin (r1-328ad10a03: 0.32, held out recall 96.0%, precision 91.1%). Earlier rules:
 * the lowest threshold keeping 85% precision (until round five), then the highest keeping
 * 95% recall (rounds five to eight).
 */
export function fitComplaintThreshold(
  held: ReadonlyArray<{ pComplaint: number; isComplaint: boolean; argmaxComplaint: boolean }>,
  floors: { recall: number; precision: number },
): number {
  const complaints = held.filter((h) => h.isComplaint).length;
  if (complaints === 0) return 0.5;
  let best = { threshold: 0.5, room: -Infinity };
  for (let t = 50; t >= 15; t -= 1) {
    let found = 0;
    let flagged = 0;
    for (const h of held) {
      if (!(h.argmaxComplaint || h.pComplaint >= t / 100)) continue;
      flagged += 1;
      if (h.isComplaint) found += 1;
    }
    const precision = flagged === 0 ? 1 : found / flagged;
    const room = Math.min(found / complaints - floors.recall, precision - floors.precision);
    // Strictly more room wins: on a tie the higher threshold (fewer false alarms) stays.
    if (room > best.room) best = { threshold: t / 100, room };
  }
  return best.threshold;
}

function quantise(w: Float64Array): { scale: number; weights: string } {
  let max = 0;
  for (const v of w) max = Math.max(max, Math.abs(v));
  const scale = max > 0 ? max / 127 : 1;
  const bytes = Buffer.alloc(w.length);
  for (let i = 0; i < w.length; i += 1) bytes.writeInt8(Math.round((w[i] ?? 0) / scale), i);
  return { scale, weights: bytes.toString('base64') };
}

export interface TrainingReport {
  model: ReaderModel;
  /** Held-out (cross-validated) stage accuracy on the training data. */
  heldOutStageAccuracy: number;
  /** Each training conversation's held-out reading (argmax), for error analysis. */
  heldOut: Array<{ id: string; stage: Stage; intent: Intent; stageLogits: number[] }>;
}

export function trainReader(
  input: readonly TrainingExample[],
  meta: { batches: string[]; fixtures: number },
  options: TrainingOptions = DEFAULT_TRAINING,
): TrainingReport {
  const examples = [...input].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const vectors = featurise(examples);

  // Held-out predictions by k-fold, for calibration (never the locked test split).
  const held = {
    stage: [] as Array<{ logits: number[]; label: number }>,
    intent: [] as Array<{ logits: number[]; label: number }>,
    sentiment: [] as Array<{ logits: number[]; label: number }>,
  };
  const foldOf = (i: number) => i % options.folds;
  let heldRight = 0;
  const heldOutOf: Array<{ id: string; stage: Stage; intent: Intent; stageLogits: number[] }> = [];
  if (options.folds >= 2 && examples.length >= options.folds * 4) {
    for (let fold = 0; fold < options.folds; fold += 1) {
      const trainIdx = examples.map((_, i) => i).filter((i) => foldOf(i) !== fold);
      const testIdx = examples.map((_, i) => i).filter((i) => foldOf(i) === fold);
      const vocab = vocabularyOf(
        trainIdx.map((i) => vectors[i] as Map<string, number>),
        options.minCount,
      );
      const index = new Map(vocab.map((f, i) => [f, i]));
      const train = encode(
        trainIdx.map((i) => examples[i] as TrainingExample),
        trainIdx.map((i) => vectors[i] as Map<string, number>),
        index,
      );
      const test = encode(
        testIdx.map((i) => examples[i] as TrainingExample),
        testIdx.map((i) => vectors[i] as Map<string, number>),
        index,
      );
      const heads = fitHeads(train, vocab.length, options);
      test.forEach((e, j) => {
        const out = predict(heads, e.x);
        heldOutOf.push({
          id: examples[testIdx[j] as number]?.id ?? '',
          stage: STAGES[out.stage.indexOf(Math.max(...out.stage))] as Stage,
          intent: INTENTS[out.intent.indexOf(Math.max(...out.intent))] as Intent,
          stageLogits: out.stage,
        });
        for (const name of HEAD_NAMES)
          if (e.labels[name] >= 0) held[name].push({ logits: out[name], label: e.labels[name] });
      });
    }
  }
  const temperatures = Object.fromEntries(
    HEAD_NAMES.map((name) => [name, held[name].length > 0 ? fitTemperature(held[name]) : 1]),
  ) as Record<HeadName, number>;
  const complaintAt = STAGES.indexOf('complaint');
  const heldStage = held.stage.map(({ logits: l, label }) => {
    const p = softmax(l, temperatures.stage);
    const top = p.indexOf(Math.max(...p));
    if (top === label) heldRight += 1;
    return {
      pComplaint: p[complaintAt] ?? 0,
      isComplaint: label === complaintAt,
      argmaxComplaint: top === complaintAt,
    };
  });
  // With no held-out predictions (too few examples for folds) there are no complaints: 0.5.
  const complaintThreshold = fitComplaintThreshold(heldStage, {
    recall: options.complaintRecall,
    precision: options.complaintPrecision,
  });

  const vocab = vocabularyOf(vectors, options.minCount);
  const index = new Map(vocab.map((f, i) => [f, i]));
  const heads = fitHeads(encode(examples, vectors, index), vocab.length, options);
  const packed = Object.fromEntries(
    HEAD_NAMES.map((name) => {
      const head = heads[name];
      return [
        name,
        {
          classes: [...HEADS[name]],
          bias: [...head.b].map((b) => Math.round(b * 1e4) / 1e4),
          ...quantise(head.w),
          temperature: temperatures[name],
        },
      ];
    }),
  );
  // The version names the model's content: same corpus and code, same version.
  const digest = createHash('sha256')
    .update(JSON.stringify({ vocab, packed, complaintThreshold }))
    .digest('hex')
    .slice(0, 10);
  const model = {
    format: MODEL_FORMAT,
    version: `r1-${digest}`,
    trainedOn: { conversations: examples.length, batches: meta.batches, fixtures: meta.fixtures },
    features: vocab,
    heads: packed,
    complaintThreshold,
  } as ReaderModel;
  return {
    model,
    heldOutStageAccuracy: held.stage.length > 0 ? heldRight / held.stage.length : Number.NaN,
    heldOut: heldOutOf,
  };
}
