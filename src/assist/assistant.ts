import { randomUUID } from 'node:crypto';
import { MAX_MESSAGE_CHARS } from './assist-request-schema';
import { checkSuggestion, type GuardrailContext, guardrailContext } from './guardrails';
import { templatesFor } from './lexicon';
import { inReplyScript } from './locale-detection';
import { createOpenAIEngine, EngineFailure, type OpenAIEngineOptions } from './openai-engine';
import { defaultReader, type Reader } from './reader';
import { analyseConversation, draftWithRules } from './rules-engine';
import type {
  AssistInput,
  AssistResult,
  DraftSuggestion,
  EngineDraft,
  FallbackReason,
  Locale,
  Stage,
  Suggestion,
} from './vocabulary';

export type {
  AssistInput,
  AssistResult,
  ChatMessage,
  FallbackReason,
  Locale,
  Sentiment,
  Stage,
  Suggestion,
  Tactic,
} from './vocabulary';

export interface AssistantOptions {
  /** Use an OpenAI-compatible model; without it the rules engine answers every call. */
  openai?: OpenAIEngineOptions;
  /** Called whenever the rules engine stands in for the model, or replaces a model suggestion a guardrail dropped. */
  onFallback?: (reason: FallbackReason) => void;
  /** Time the answering engine took, in ms (for OpenAI: the model call, whether or not its answer was used). */
  onLatency?: (engine: 'rules' | 'openai', ms: number) => void;
  /** Suggestion ids; random UUIDs by default. */
  newId?: () => string;
  /** The learned reader; the committed model by default, null for the lexicons alone. */
  reader?: Reader | null;
}

export interface Assistant {
  suggest(input: AssistInput): Promise<AssistResult>;
}

/** Catalog terms per catalog object and locale (the shop registry keeps an unchanged catalog's object). */
const termsByCatalog = new WeakMap<NonNullable<AssistInput['catalog']>, Map<Locale, string[]>>();

/** Catalog words as the shop wrote them and as converted into the reply's script. */
function catalogTerms(catalog: AssistInput['catalog'], locale: Locale): string[] {
  if (!catalog) return [];
  let byLocale = termsByCatalog.get(catalog);
  if (!byLocale) {
    byLocale = new Map();
    termsByCatalog.set(catalog, byLocale);
  }
  let terms = byLocale.get(locale);
  if (!terms) {
    terms = termsOf(catalog, locale);
    byLocale.set(locale, terms);
  }
  return terms;
}

function termsOf(catalog: AssistInput['catalog'], locale: Locale): string[] {
  const terms = (catalog?.products ?? []).flatMap((p) => [
    p.name,
    ...Object.values(p.options).flat(),
    ...(p.deliveryDays ?? []),
  ]);
  return [...new Set([...terms, ...terms.map((t) => inReplyScript(t, locale))])];
}

/** Used only when every other suggestion was dropped: static, checked by the unit tests. */
function lastResort(locale: Locale, stage: Stage): DraftSuggestion {
  const t = templatesFor(locale);
  return stage === 'complaint'
    ? { tactic: 'empathy', text: t.empathy.general }
    : { tactic: 'answer', text: t.answer.general };
}

const isSafe = (context: GuardrailContext) => (s: DraftSuggestion) =>
  checkSuggestion(s, context).length === 0;

/**
 * The model's suggestions with each one that breaks a guardrail replaced, in
 * place, by a safe rules suggestion not already shown (or left out when there
 * is none).
 */
function replaceUnsafe(
  model: readonly DraftSuggestion[],
  rules: readonly DraftSuggestion[],
  context: GuardrailContext,
) {
  const safe = isSafe(context);
  const kept = model.filter(safe);
  const spare = rules.filter((r) => safe(r) && !kept.some((k) => k.text === r.text));
  const suggestions = model.flatMap((s) => (safe(s) ? [s] : spare.splice(0, 1)));
  return { suggestions, keptAny: kept.length > 0, replacedAny: kept.length < model.length };
}

/**
 * The conversation as the engines read it: each message cut to MAX_MESSAGE_CHARS, the API's
 * own limit. Platforms deliver longer texts (a pasted page, up to their body limits); read
 * whole, the rules' reading costs time that grows faster than the length, on the worker's
 * one thread, and the model costs tokens, for nothing a suggestion needs.
 */
function bounded(input: AssistInput): AssistInput {
  if (input.history.every((m) => m.text.length <= MAX_MESSAGE_CHARS)) return input;
  return {
    ...input,
    history: input.history.map((m) =>
      m.text.length <= MAX_MESSAGE_CHARS ? m : { ...m, text: headOf(m.text) },
    ),
  };
}

/** The first MAX_MESSAGE_CHARS, never ending on half of a surrogate pair. */
function headOf(text: string): string {
  const last = text.charCodeAt(MAX_MESSAGE_CHARS - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? MAX_MESSAGE_CHARS - 1 : MAX_MESSAGE_CHARS;
  return text.slice(0, end);
}

export function createAssistant(options: AssistantOptions = {}): Assistant {
  const newId = options.newId ?? randomUUID;
  const model = options.openai ? createOpenAIEngine(options.openai) : undefined;
  const reader = options.reader === undefined ? defaultReader() : options.reader;
  const withIds = (drafts: readonly DraftSuggestion[]): Suggestion[] =>
    drafts.map((d) => ({ id: newId(), text: d.text, tactic: d.tactic }));

  return {
    async suggest(whole) {
      const input = bounded(whole);
      // The rules engine always runs (well under a millisecond): it is the fallback,
      // and its reading of a complaint also binds the model.
      const rulesStarted = performance.now();
      const analysis = analyseConversation(input, reader);
      const busyNudgeEnabled = input.settings?.busyNudge === true;
      const rules = draftWithRules(analysis, busyNudgeEnabled);
      const known = analysis.options.knownValues;
      const rulesContext = guardrailContext(input.history, {
        locale: analysis.locale,
        stages: [rules.stage],
        busyNudgeEnabled,
        knownValues: [
          ...new Set([...known, ...known.map((v) => inReplyScript(v, analysis.locale))]),
        ],
        catalogTerms: catalogTerms(input.catalog, analysis.locale),
        allowedDomains: input.settings?.linkDomains ?? [],
        closingAllowed: analysis.policy.closingAllowed,
      });
      const safeRules = rules.suggestions.filter(isSafe(rulesContext));
      if (safeRules.length === 0) safeRules.push(lastResort(analysis.locale, rules.stage));
      const rulesMs = performance.now() - rulesStarted;
      const reading = {
        intent: analysis.intent,
        confidence: Math.round(analysis.confidence * 1000) / 1000,
        state: analysis.state,
      };

      const answerWithRules = (reason?: FallbackReason): AssistResult => {
        if (reason) options.onFallback?.(reason);
        options.onLatency?.('rules', rulesMs);
        const { stage, sentiment, signals } = rules;
        return {
          stage,
          sentiment,
          signals,
          locale: analysis.locale,
          suggestions: withIds(safeRules),
          engine: 'rules',
          ...reading,
        };
      };
      if (!model) return answerWithRules();

      const modelStarted = performance.now();
      let draft: EngineDraft;
      try {
        draft = await model.draft({
          history: input.history,
          locale: analysis.locale,
          catalog: input.catalog,
          options: analysis.options,
          busyNudgeEnabled,
          state: analysis.state,
          reading: {
            stage: analysis.stage,
            intent: analysis.intent,
            confidence: Math.round(analysis.confidence * 100) / 100,
          },
          closingAllowed: analysis.policy.closingAllowed,
        });
      } catch (error) {
        options.onLatency?.('openai', performance.now() - modelStarted);
        return answerWithRules(error instanceof EngineFailure ? error.reason : 'error');
      }
      options.onLatency?.('openai', performance.now() - modelStarted);

      // A complaint seen by either engine forbids closing tactics.
      const merged = replaceUnsafe(draft.suggestions, safeRules, {
        ...rulesContext,
        stages: [draft.stage, rules.stage],
      });
      if (!merged.keptAny) return answerWithRules('guardrail');
      if (merged.replacedAny) options.onFallback?.('guardrail');
      const { stage, sentiment, signals } = draft;
      return {
        stage,
        sentiment,
        signals,
        locale: analysis.locale,
        suggestions: withIds(merged.suggestions),
        engine: 'openai',
        ...reading,
      };
    },
  };
}
