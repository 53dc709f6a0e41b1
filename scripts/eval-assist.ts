/**
 * Evaluates the assistant on the corpus's LOCKED TEST SPLIT (corpus/assist/*-test-*.jsonl)
 * and on the old labelled fixtures (test/fixtures/assist/conversations.json):
 *   npm run eval:assist                       # built-in engine (learned reader + rules)
 *   npm run eval:assist -- --reader none      # the lexicons alone, for comparison
 *   npm run eval:assist -- --split train      # the train split (the model has seen it)
 *   npm run eval:assist -- --split blind      # round nine's blind set (never trained on)
 *   npm run eval:assist -- --split blind10    # round ten's blind set (never trained on)
 *   npm run eval:assist -- --engine openai    # any OpenAI-compatible endpoint:
 *       OPENAI_API_KEY=... OPENAI_BASE_URL=https://api.deepseek.com/v1 OPENAI_MODEL=deepseek-chat
 * Prints stage, intent, locale and reply-script accuracy, complaint recall and
 * precision, closing tactics on complaints, re-offers of settled choices,
 * requests for what was already given, guardrail violations, per locale,
 * region and single vs multi-turn, the confusion matrix, latency, model size,
 * cold start and the first-contact history. Exits 1 on a guardrail violation.
 */
import { readOptions, usageError, wholeNumber } from './lib/cli-options';

// Options first: a mistyped one stops here, before the assistant is loaded and timed.
const USAGE =
  'npm run eval:assist -- [--split test|train|blind|blind10] [--engine rules|openai] ' +
  '[--reader model|none] [--timing-runs 10] [--limit N] [--verbose]';
const values = readOptions(USAGE, {
  engine: { type: 'string', default: 'rules' },
  reader: { type: 'string', default: 'model' },
  split: { type: 'string', default: 'test' },
  'timing-runs': { type: 'string', default: '10' },
  limit: { type: 'string' },
  verbose: { type: 'boolean', default: false },
});
const engine = values.engine;
if (engine !== 'rules' && engine !== 'openai')
  usageError('--engine must be rules or openai', USAGE);
if (values.reader !== 'model' && values.reader !== 'none')
  usageError('--reader must be model or none', USAGE);
const SPLITS = ['train', 'test', 'blind', 'blind10'] as const;
const split = SPLITS.find((s) => s === values.split);
if (!split) usageError('--split must be train, test, blind or blind10', USAGE);
const timingRuns = wholeNumber('timing-runs', values['timing-runs'], { min: 0, max: 1000 }, USAGE);
const limit =
  values.limit === undefined
    ? undefined
    : wholeNumber('limit', values.limit, { min: 1, max: 1_000_000 }, USAGE);

const coldStarted = performance.now();
const assistModule = await import('../src/assist/assistant');
const imported = performance.now();
const { createAssistant } = assistModule;
const coldAssistant = createAssistant({ newId: () => 'cold' });
const created = performance.now();
await coldAssistant.suggest({ history: [{ from: 'buyer', text: '这件有黑色吗' }] });
const coldStartMs = performance.now() - coldStarted;
const coldParts = {
  importMs: imported - coldStarted,
  createMs: created - imported,
  firstAnswerMs: coldStartMs - (created - coldStarted),
};

const { runAssistEval } = await import('./lib/assist-eval');

const apiKey = process.env.OPENAI_API_KEY;
const report = await runAssistEval({
  engine,
  reader: values.reader === 'none' ? 'none' : 'model',
  split,
  timingRuns,
  limit,
  verbose: values.verbose,
  coldStartMs,
  coldParts,
  openai: apiKey
    ? {
        apiKey,
        baseURL: process.env.OPENAI_BASE_URL,
        model: process.env.OPENAI_MODEL ?? 'gpt-4o-mini',
        timeoutMs: Number(process.env.ASSIST_TIMEOUT_MS ?? 15_000),
      }
    : undefined,
  print: (line) => console.log(line),
});
process.exitCode = report.violations.length > 0 ? 1 : 0;
