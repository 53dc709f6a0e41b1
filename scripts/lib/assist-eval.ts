/**
 * The assist evaluation behind `npm run eval:assist` (scripts/eval-assist.ts),
 * as a function so the OpenAI-compatible path can be tested against nock.
 */
import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createAssistant } from '../../src/assist/assistant';
import {
  assistInputOf,
  BLIND10_SET_NAME,
  BLIND10_SET_URL,
  loadBlindSet,
  loadCorpus,
} from '../../src/assist/corpus';
import type { Scored, Summary } from '../../src/assist/corpus-eval';
import * as corpusEval from '../../src/assist/corpus-eval';
import { sameValue } from '../../src/assist/dialogue-state';
import { auditResult, loadEvalSet } from '../../src/assist/eval-set';
import { isInLocaleScript } from '../../src/assist/locale-detection';
import { MODEL_URL } from '../../src/assist/reader';
import { type AssistResult, STAGES } from '../../src/assist/vocabulary';

export interface AssistEvalOptions {
  engine: 'rules' | 'openai';
  /** `none`: the lexicons alone, for comparison. */
  reader: 'model' | 'none';
  /**
   * `blind`: round nine's blind set (test/fixtures/assist/blind-round9.jsonl), `blind10` round
   * ten's (blind-round10.jsonl); never trained on.
   */
  split: 'train' | 'test' | 'blind' | 'blind10';
  /** Extra timed passes over the split (rules engine only). */
  timingRuns: number;
  /** Evaluate only the first N conversations of the split and of the fixtures. */
  limit?: number;
  verbose?: boolean;
  coldStartMs?: number;
  /** The cold start's parts: module import (tsx transpile, zod, lexicons), model load, first answer. */
  coldParts?: { importMs: number; createMs: number; firstAnswerMs: number };
  openai?: { apiKey: string; baseURL?: string; model: string; timeoutMs: number };
  print: (line: string) => void;
}

export interface AssistEvalReport {
  summary: Summary;
  violations: string[];
  fixtureStageRate: number;
  fallbacks: Record<string, number>;
  targets: Array<[string, boolean]>;
}

export async function runAssistEval(values: AssistEvalOptions): Promise<AssistEvalReport> {
  const console = { log: values.print };
  const TARGETS = {
    stage: 0.9,
    complaintRecall: 0.95,
    complaintPrecision: 0.9,
    hongKong: 0.85,
    multiTurn: 0.85,
    script: 0.99,
    p99Ms: 5,
    modelMb: 5,
    coldStartMs: 300,
    fixtures: 0.95,
  };

  function percentile(sorted: readonly number[], p: number): number {
    if (sorted.length === 0) return Number.NaN;
    const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
    return sorted[Math.max(0, index)] ?? Number.NaN;
  }
  const pct = (x: number | null) =>
    x === null || Number.isNaN(x) ? '   -  ' : `${(100 * x).toFixed(1).padStart(5)}%`;

  function makeAssistant(fallbacks: Record<string, number>) {
    let n = 0;
    const common = {
      newId: () => `s${(n += 1)}`,
      reader: values.reader === 'none' ? null : undefined,
      onFallback: (reason: string) => {
        fallbacks[reason] = (fallbacks[reason] ?? 0) + 1;
      },
    };
    if (values.engine === 'rules') return createAssistant(common);
    if (!values.openai)
      throw new Error('--engine openai needs OPENAI_API_KEY (and OPENAI_BASE_URL, OPENAI_MODEL)');
    return createAssistant({ ...common, openai: values.openai });
  }

  /** The reply is in the expected locale and every suggestion is written in its script. */
  const scriptRight = (s: Scored & { result: AssistResult }) =>
    s.result.locale === s.item.expected.locale &&
    s.result.suggestions.every((x) =>
      isInLocaleScript(stripCatalog(x.text, s), s.item.expected.locale),
    );
  function stripCatalog(text: string, s: Scored): string {
    const terms = (s.item.input.catalog?.products ?? []).flatMap((p) => [
      p.name,
      ...Object.values(p.options).flat(),
    ]);
    return terms.reduce((rest, t) => rest.split(t).join(' '), text);
  }

  function row(label: string, s: Summary, extra = '') {
    console.log(
      `${label.padEnd(22)} n=${String(s.n).padStart(4)}  stage ${pct(s.stageAccuracy)}  intent ${pct(s.intentAccuracy)}  locale ${pct(s.localeAccuracy)}  complaint R ${pct(s.complaintRecall)} P ${pct(s.complaintPrecision)}${extra}`,
    );
  }

  const batches =
    values.split === 'blind'
      ? [loadBlindSet()]
      : values.split === 'blind10'
        ? [loadBlindSet(BLIND10_SET_URL, BLIND10_SET_NAME)]
        : loadCorpus().filter((b) => b.split === values.split);
  const items = batches.flatMap((b) => b.items).slice(0, values.limit);
  const fallbacks: Record<string, number> = {};
  const assistant = makeAssistant(fallbacks);
  const scored: Array<Scored & { result: AssistResult }> = [];
  const violations: string[] = [];
  const latencies: number[] = [];
  /** CPU time of each timed call (user + system): what the call costs, without time spent descheduled. */
  const cpuTimes: number[] = [];
  const fastest = new Map<string, number>();
  for (const item of items) {
    const input = assistInputOf(item);
    const started = performance.now();
    const result = await assistant.suggest(input);
    latencies.push(performance.now() - started);
    scored.push({ item, answer: result, result });
    for (const problem of auditResult(input, result, item.expected.stage))
      violations.push(`${item.id}: ${problem}`);
  }
  if (values.engine === 'rules') {
    // Timed again after the first pass, so start-up and JIT do not count as per-call latency.
    latencies.length = 0;
    for (let run = 0; run < values.timingRuns; run += 1)
      for (const item of items) {
        const input = assistInputOf(item);
        const cpuStarted = process.cpuUsage();
        const started = performance.now();
        await assistant.suggest(input);
        const ms = performance.now() - started;
        const cpu = process.cpuUsage(cpuStarted);
        latencies.push(ms);
        cpuTimes.push((cpu.user + cpu.system) / 1000);
        fastest.set(item.id, Math.min(fastest.get(item.id) ?? Infinity, ms));
      }
  }
  // Each conversation's fastest run: the engine's own cost, without other processes' CPU contention.
  const fastestSorted = [...fastest.values()].sort((a, b) => a - b);

  const all = corpusEval.summarise(scored);
  const sorted = [...latencies].sort((a, b) => a - b);
  const p99 = percentile(sorted, 99);
  const scriptRate = scored.filter(scriptRight).length / scored.length;
  const modelBytes = statSync(MODEL_URL, { throwIfNoEntry: false })?.size ?? 0;
  const settledRight = scored.filter((s) => {
    const got = s.result.state.settled;
    const want = s.item.expected.settled;
    const keys = Object.keys(want).filter((k) => k !== 'quantity');
    return keys.every((k) => got[k] !== undefined && sameValue(got[k], want[k] ?? ''));
  }).length;
  const givenRight = scored.filter((s) => {
    const want = new Set(s.item.expected.given.filter((g) => g !== 'name'));
    const got = new Set(s.result.state.given.filter((g) => g !== 'name'));
    return [...want].every((g) => got.has(g)) && [...got].every((g) => want.has(g));
  }).length;

  console.log(
    `engine ${values.engine}${values.engine === 'rules' ? ` (reader: ${values.reader === 'none' ? 'lexicons only' : (JSON.parse(readFileSync(MODEL_URL, 'utf8')).version as string)})` : ` (${values.openai?.model} at ${values.openai?.baseURL ?? 'api.openai.com'})`}`,
  );
  console.log(
    `${values.split} split: ${batches.map((b) => b.name).join(', ')} — ${items.length} conversations\n`,
  );
  row('ALL', all);
  console.log('\nper locale');
  for (const [k, s] of corpusEval.groupBy(scored, corpusEval.byLocale)) row(`  ${k}`, s);
  console.log('per region');
  for (const [k, s] of corpusEval.groupBy(scored, corpusEval.byRegion)) row(`  ${k}`, s);
  console.log('single vs multi-turn');
  for (const [k, s] of corpusEval.groupBy(scored, corpusEval.byTurns)) row(`  ${k}`, s);

  console.log('\nconfusion matrix (rows: expected stage, columns: read stage)');
  const matrix = corpusEval.confusionMatrix(scored);
  console.log(`${''.padEnd(12)}${STAGES.map((s) => s.slice(0, 10).padStart(11)).join('')}`);
  for (const e of STAGES)
    console.log(`${e.padEnd(12)}${STAGES.map((r) => String(matrix[e][r]).padStart(11)).join('')}`);

  console.log('\nsafety and state');
  console.log(`closing tactics on complaints   ${all.closingOnComplaint}`);
  console.log(`re-offers of a settled choice   ${all.reoffers}`);
  console.log(`asks again for what was given   ${all.asksForGiven}`);
  console.log(
    `settled read right              ${pct(settledRight / scored.length)} (quantity not read)`,
  );
  console.log(`given read right                ${pct(givenRight / scored.length)} (name not read)`);
  console.log(`reply script right              ${pct(scriptRate)}`);
  const repeatedTactic = scored.filter(
    (s) => new Set(s.result.suggestions.map((x) => x.tactic)).size < s.result.suggestions.length,
  ).length;
  const withCount = (k: number) => scored.filter((s) => s.result.suggestions.length === k).length;
  console.log(`answers with a repeated tactic  ${repeatedTactic}`);
  console.log(
    `answers with 1 / 2 / 3 suggestions  ${withCount(1)} / ${withCount(2)} / ${withCount(3)}`,
  );
  // Calibration of the stage confidence: expected calibration error over 10 equal-width bins.
  const bins = Array.from({ length: 10 }, () => ({ n: 0, right: 0, confidence: 0 }));
  for (const s of scored) {
    const bin = bins[Math.min(9, Math.floor(s.result.confidence * 10))];
    if (!bin) continue;
    bin.n += 1;
    bin.confidence += s.result.confidence;
    if (s.result.stage === s.item.expected.stage) bin.right += 1;
  }
  const ece = bins.reduce(
    (sum, b) => (b.n === 0 ? sum : sum + Math.abs(b.right - b.confidence) / scored.length),
    0,
  );
  const confident = bins.slice(8).reduce((n, b) => n + b.n, 0);
  const confidentRight = bins.slice(8).reduce((n, b) => n + b.right, 0);
  console.log(
    `stage confidence calibration    ECE ${(100 * ece).toFixed(1)} points; confidence >= 0.8 on ${pct(confident / scored.length)} of conversations, right on ${pct(confidentRight / Math.max(1, confident))} of those`,
  );
  console.log(`guardrail violations            ${violations.length}`);
  for (const v of violations) console.log(`  violation  ${v}`);
  if (Object.keys(fallbacks).length > 0) console.log(`fallbacks ${JSON.stringify(fallbacks)}`);
  console.log(
    `\nlatency in process              p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (${sorted.length} calls)`,
  );
  if (cpuTimes.length > 0) {
    const cpuSorted = [...cpuTimes].sort((a, b) => a - b);
    console.log(
      `  CPU time per call              p50 ${percentile(cpuSorted, 50).toFixed(2)} ms, p99 ${percentile(cpuSorted, 99).toFixed(2)} ms (the wall-clock tail above this is time descheduled by other processes)`,
    );
  }
  if (fastestSorted.length > 0)
    console.log(
      `  each conversation's fastest run p50 ${percentile(fastestSorted, 50).toFixed(2)} ms, p99 ${percentile(fastestSorted, 99).toFixed(2)} ms, max ${(fastestSorted.at(-1) ?? 0).toFixed(2)} ms (load average ${loadavg()[0]?.toFixed(1)})`,
    );
  console.log(`model file                      ${(modelBytes / 1024 / 1024).toFixed(2)} MB`);
  if (values.coldStartMs !== undefined)
    console.log(
      `cold start                      ${values.coldStartMs.toFixed(0)} ms (import, model load, first answer)`,
    );
  if (values.coldParts)
    console.log(
      `  import ${values.coldParts.importMs.toFixed(0)} ms (tsx transpile, lexicon and OpenCC tables), createAssistant (model load) ${values.coldParts.createMs.toFixed(0)} ms, first answer ${values.coldParts.firstAnswerMs.toFixed(0)} ms`,
    );

  // The old labelled fixtures: the lexicon-era set must still score.
  const fixtures = loadEvalSet().slice(0, values.limit);
  const fixtureAssistant = makeAssistant({});
  let fixtureStage = 0;
  let fixtureTactic = 0;
  let fixtureLocale = 0;
  for (const f of fixtures) {
    const r = await fixtureAssistant.suggest(f.input);
    if (r.stage === f.expected.stage) fixtureStage += 1;
    if (r.suggestions[0]?.tactic === f.expected.tactic) fixtureTactic += 1;
    if (r.locale === f.expected.locale) fixtureLocale += 1;
    for (const problem of auditResult(f.input, r, f.expected.stage))
      violations.push(`fixture ${f.id}: ${problem}`);
  }
  const fixtureRate = fixtureStage / fixtures.length;
  console.log(
    `old fixtures (${fixtures.length})              stage ${pct(fixtureRate)}  first tactic ${pct(fixtureTactic / fixtures.length)}  locale ${pct(fixtureLocale / fixtures.length)}`,
  );

  console.log('\nfirst-contact history (corpus/assist/first-contact.json)');
  const log = JSON.parse(
    readFileSync(new URL('../../corpus/assist/first-contact.json', import.meta.url), 'utf8'),
  ) as Array<{
    batch: string;
    split: string;
    model: string;
    n: number;
    stageAccuracy: number;
    complaintRecall: number;
    complaintPrecision: number;
  }>;
  for (const e of log)
    console.log(
      `  ${e.batch.padEnd(14)} ${e.split.padEnd(5)} n=${String(e.n).padStart(3)}  stage ${pct(e.stageAccuracy)}  complaint R ${pct(e.complaintRecall)} P ${pct(e.complaintPrecision)}  model ${e.model}`,
    );

  const hk = corpusEval.groupBy(scored, corpusEval.byRegion).find(([k]) => k === 'HK')?.[1];
  const multi = corpusEval
    .groupBy(scored, corpusEval.byTurns)
    .find(([k]) => k.startsWith('multi'))?.[1];
  const checks: Array<[string, boolean]> = [
    ['stage >= 90%', all.stageAccuracy >= TARGETS.stage],
    ['complaint recall >= 95%', all.complaintRecall >= TARGETS.complaintRecall],
    ['complaint precision >= 90%', all.complaintPrecision >= TARGETS.complaintPrecision],
    ['zero closing tactics on complaints', all.closingOnComplaint === 0],
    ['zero re-offers of a settled choice', all.reoffers === 0],
    ['Hong Kong >= 85%', (hk?.stageAccuracy ?? 0) >= TARGETS.hongKong],
    ['multi-turn >= 85%', (multi?.stageAccuracy ?? 0) >= TARGETS.multiTurn],
    ['reply script >= 99%', scriptRate >= TARGETS.script],
    ['p99 <= 5 ms in process', values.engine !== 'rules' || p99 <= TARGETS.p99Ms],
    ['model file <= 5 MB', modelBytes <= TARGETS.modelMb * 1024 * 1024],
    ['cold start <= 300 ms', (values.coldStartMs ?? 0) <= TARGETS.coldStartMs],
    ['old fixtures stage >= 95%', fixtureRate >= TARGETS.fixtures],
    ['zero guardrail violations', violations.length === 0],
  ];
  console.log('\ntargets');
  for (const [name, ok] of checks) console.log(`  ${ok ? 'met    ' : 'NOT met'}  ${name}`);

  // Misses are listed for the train split and the blind set only: the locked test split is
  // measured, never studied.
  if (values.verbose && values.split !== 'test')
    for (const s of scored)
      if (s.result.stage !== s.item.expected.stage)
        console.log(
          `  miss ${s.item.id}: expected ${s.item.expected.stage}/${s.item.expected.intent}, read ${s.result.stage}/${s.result.intent} (${s.result.confidence})`,
        );
  return { summary: all, violations, fixtureStageRate: fixtureRate, fallbacks, targets: checks };
}
