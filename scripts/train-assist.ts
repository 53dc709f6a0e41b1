/**
 * Trains the assist reader from the corpus train split (plus the labelled
 * fixtures in test/fixtures/assist) and writes src/assist/model/reader.json:
 *   npm run train:assist
 * First-contact protocol: every batch not yet in corpus/assist/first-contact.json
 * is scored with the CURRENT model (the committed one) and logged before this
 * run trains on it. Test batches are scored on first contact and never
 * trained on. Training is deterministic: sorted inputs, fixed seed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createAssistant } from '../src/assist/assistant';
import { assistInputOf, type CorpusBatch, loadCorpus } from '../src/assist/corpus';
import { type Scored, summarise } from '../src/assist/corpus-eval';
import { loadEvalSet } from '../src/assist/eval-set';
import { FEW_SHOT_URL, type FewShotExample } from '../src/assist/openai-engine';
import { loadReader, MODEL_URL } from '../src/assist/reader';
import { readerModelSchema } from '../src/assist/reader-model';
import { type TrainingExample, trainReader } from '../src/assist/reader-training';
import { STAGES } from '../src/assist/vocabulary';

export const FIRST_CONTACT_URL = new URL('../corpus/assist/first-contact.json', import.meta.url);

interface FirstContact {
  batch: string;
  split: 'train' | 'test';
  date: string;
  model: string;
  n: number;
  stageAccuracy: number;
  intentAccuracy: number | null;
  complaintRecall: number;
  complaintPrecision: number;
  localeAccuracy: number;
}

const round = (x: number | null) =>
  x === null || Number.isNaN(x) ? x : Math.round(x * 1000) / 1000;

async function firstContact(batch: CorpusBatch, modelName: string): Promise<FirstContact> {
  const assistant = createAssistant({ newId: () => 'fc' });
  const scored: Scored[] = [];
  for (const item of batch.items)
    scored.push({ item, answer: await assistant.suggest(assistInputOf(item)) });
  const s = summarise(scored);
  return {
    batch: batch.name,
    split: batch.split,
    date: new Date().toISOString().slice(0, 10),
    model: modelName,
    n: s.n,
    stageAccuracy: round(s.stageAccuracy) as number,
    intentAccuracy: round(s.intentAccuracy),
    complaintRecall: round(s.complaintRecall) as number,
    complaintPrecision: round(s.complaintPrecision) as number,
    localeAccuracy: round(s.localeAccuracy) as number,
  };
}

const batches = loadCorpus();
const log: FirstContact[] = JSON.parse(readFileSync(FIRST_CONTACT_URL, 'utf8'));
const current = loadReader();
const modelName = current?.version ?? 'lexicons (no model)';
for (const batch of batches) {
  if (log.some((entry) => entry.batch === batch.name)) continue;
  const entry = await firstContact(batch, modelName);
  log.push(entry);
  console.log(
    `first contact ${entry.batch} (${entry.split}, n=${entry.n}) with ${modelName}: stage ${entry.stageAccuracy}, intent ${entry.intentAccuracy}, complaint recall ${entry.complaintRecall} precision ${entry.complaintPrecision}`,
  );
}
writeFileSync(FIRST_CONTACT_URL, `${JSON.stringify(log, null, 2)}\n`);

const train = batches.filter((b) => b.split === 'train');
const examples: TrainingExample[] = train.flatMap((b) =>
  b.items.map((item) => ({
    id: item.id,
    history: item.input.history,
    catalog: assistInputOf(item).catalog,
    stage: item.expected.stage,
    intent: item.expected.intent,
    sentiment: item.expected.sentiment,
  })),
);
const fixtures = loadEvalSet();
for (const f of fixtures)
  examples.push({
    id: `fixture-${f.id}`,
    history: f.input.history,
    catalog: f.input.catalog,
    stage: f.expected.stage,
  });

const started = performance.now();
const { model, heldOutStageAccuracy } = trainReader(examples, {
  batches: train.map((b) => b.name),
  fixtures: fixtures.length,
});
const json = `${JSON.stringify(readerModelSchema.parse(model))}\n`;
writeFileSync(MODEL_URL, json);
console.log(
  `trained ${model.version} on ${examples.length} conversations (${train.length} train batches + ${fixtures.length} fixtures) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
console.log(
  `features ${model.features.length}, file ${(json.length / 1024 / 1024).toFixed(2)} MB, held-out (5-fold) stage accuracy ${(heldOutStageAccuracy * 100).toFixed(1)}%, complaint threshold ${model.complaintThreshold}, temperatures ${JSON.stringify(Object.fromEntries(Object.entries(model.heads).map(([k, h]) => [k, h.temperature])))}`,
);

/**
 * Few-shot examples for the LLM path: one multi-turn train conversation per
 * stage, locales in turn, with its labels and the rules engine's (guarded)
 * replies as the model answer. Deterministic: the first fitting id wins.
 */
const LOCALE_TURN = ['zh-Hans', 'zh-Hant', 'en'] as const;
const fewShot: FewShotExample[] = [];
const fewShotAssistant = createAssistant({ newId: () => 'fs' });
const trainItems = train.flatMap((b) => b.items).sort((a, b) => (a.id < b.id ? -1 : 1));
for (const [i, stage] of STAGES.entries()) {
  const locale = LOCALE_TURN[i % LOCALE_TURN.length];
  const item =
    trainItems.find(
      (t) =>
        t.expected.stage === stage &&
        t.expected.locale === locale &&
        t.input.history.length >= 3 &&
        !t.input.catalog,
    ) ?? trainItems.find((t) => t.expected.stage === stage);
  if (!item) continue;
  const answer = await fewShotAssistant.suggest(assistInputOf(item));
  fewShot.push({
    id: item.id,
    input: { history: item.input.history, locale: item.expected.locale },
    output: {
      stage: item.expected.stage,
      intent: item.expected.intent,
      sentiment: item.expected.sentiment,
      signals: answer.signals,
      suggestions: answer.suggestions.map(({ text, tactic }) => ({ text, tactic })),
    },
  });
}
writeFileSync(FEW_SHOT_URL, `${JSON.stringify(fewShot, null, 2)}\n`);
console.log(`few-shot examples for the LLM path: ${fewShot.map((f) => f.id).join(', ')}`);
