/**
 * Evaluates the assist engines on the labelled conversations in
 * test/fixtures/assist/conversations.json:
 *   npx tsx scripts/eval-assist.ts
 * Prints stage, tactic and locale accuracy, guardrail violations and p50/p99
 * latency per engine. The OpenAI engine runs only when OPENAI_API_KEY is set
 * (OPENAI_BASE_URL and OPENAI_MODEL pick the endpoint and model). Exits 1 when
 * any suggestion breaks a guardrail.
 */
import { type AssistResult, createAssistant, type FallbackReason } from '../src/assist/assistant';
import { auditResult, type EvalItem, loadEvalSet } from '../src/assist/eval-set';

/** Timing runs per conversation for the rules engine: enough samples for a stable p99. */
const RULES_TIMING_RUNS = 20;
const TARGETS = { stageAccuracy: 0.9, tacticAccuracy: 0.9, rulesP99Ms: 20 };

interface Report {
  engine: string;
  items: number;
  stageHits: number;
  tacticHits: number;
  localeHits: number;
  violations: string[];
  misses: string[];
  latencies: number[];
  fallbacks: Partial<Record<FallbackReason, number>>;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

function score(report: Report, item: EvalItem, result: AssistResult) {
  const first = result.suggestions[0]?.tactic;
  if (result.stage === item.expected.stage) report.stageHits += 1;
  if (first === item.expected.tactic) report.tacticHits += 1;
  if (result.locale === item.expected.locale) report.localeHits += 1;
  if (
    result.stage !== item.expected.stage ||
    first !== item.expected.tactic ||
    result.locale !== item.expected.locale
  ) {
    report.misses.push(
      `${item.id}: expected ${item.expected.stage}/${item.expected.tactic}/${item.expected.locale}, got ${result.stage}/${first}/${result.locale}`,
    );
  }
  for (const problem of auditResult(item.input, result, item.expected.stage))
    report.violations.push(`${item.id}: ${problem}`);
}

function print(report: Report) {
  const pct = (hits: number) =>
    `${((100 * hits) / report.items).toFixed(1)}% (${hits}/${report.items})`;
  const sorted = [...report.latencies].sort((a, b) => a - b);
  console.log(`\n== ${report.engine} engine ==`);
  console.log(`stage accuracy   ${pct(report.stageHits)}`);
  console.log(`tactic accuracy  ${pct(report.tacticHits)}  (first suggestion)`);
  console.log(`locale accuracy  ${pct(report.localeHits)}`);
  console.log(`violations       ${report.violations.length}`);
  console.log(
    `latency          p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms (${sorted.length} calls)`,
  );
  if (Object.keys(report.fallbacks).length > 0)
    console.log(`fallbacks        ${JSON.stringify(report.fallbacks)}`);
  for (const v of report.violations) console.log(`  violation  ${v}`);
  for (const m of report.misses) console.log(`  miss       ${m}`);
}

const emptyReport = (engine: string, items: number): Report => ({
  engine,
  items,
  stageHits: 0,
  tacticHits: 0,
  localeHits: 0,
  violations: [],
  misses: [],
  latencies: [],
  fallbacks: {},
});

async function evaluateRules(items: readonly EvalItem[]): Promise<Report> {
  const report = emptyReport('rules', items.length);
  let n = 0;
  const assistant = createAssistant({ newId: () => `s${(n += 1)}` });
  for (const item of items) {
    score(report, item, await assistant.suggest(item.input));
  }
  // Timed separately, after a warm-up pass, so JIT compilation does not count as engine latency.
  for (let run = 0; run < RULES_TIMING_RUNS; run += 1) {
    for (const item of items) {
      const started = performance.now();
      await assistant.suggest(item.input);
      report.latencies.push(performance.now() - started);
    }
  }
  return report;
}

async function evaluateOpenAI(items: readonly EvalItem[], apiKey: string): Promise<Report> {
  const model = process.env.OPENAI_MODEL ?? 'gpt-4o-mini';
  const report = emptyReport(`openai (${model})`, items.length);
  const timeoutMs = Number(process.env.ASSIST_TIMEOUT_MS ?? 15_000);
  const assistant = createAssistant({
    openai: { apiKey, baseURL: process.env.OPENAI_BASE_URL, model, timeoutMs },
    onFallback: (reason) => {
      report.fallbacks[reason] = (report.fallbacks[reason] ?? 0) + 1;
    },
  });
  for (const item of items) {
    const started = performance.now();
    const result = await assistant.suggest(item.input);
    report.latencies.push(performance.now() - started);
    score(report, item, result);
  }
  return report;
}

const items = loadEvalSet();
console.log(`eval set: ${items.length} labelled conversations`);
const rules = await evaluateRules(items);
print(rules);
const rulesP99 = percentile(
  [...rules.latencies].sort((a, b) => a - b),
  99,
);
const met =
  rules.stageHits / rules.items >= TARGETS.stageAccuracy &&
  rules.tacticHits / rules.items >= TARGETS.tacticAccuracy &&
  rules.violations.length === 0 &&
  rulesP99 < TARGETS.rulesP99Ms;
console.log(
  `targets (stage and tactic >= 90%, 0 violations, p99 < 20 ms): ${met ? 'met' : 'NOT met'}`,
);

let violations = rules.violations.length;
const apiKey = process.env.OPENAI_API_KEY;
if (apiKey) {
  const openai = await evaluateOpenAI(items, apiKey);
  print(openai);
  violations += openai.violations.length;
} else {
  console.log('\n== openai engine ==\nskipped: OPENAI_API_KEY is not set');
}
process.exitCode = violations > 0 ? 1 : 0;
