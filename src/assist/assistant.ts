import { randomUUID } from 'node:crypto';
import type { Catalog } from '../shops/shop-schema';
import { checkSuggestion, type GuardrailContext, guardrailContext } from './guardrails';
import { templatesFor } from './lexicon';
import { createOpenAIEngine, EngineFailure, type OpenAIEngineOptions } from './openai-engine';
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
}

export interface Assistant {
  suggest(input: AssistInput): Promise<AssistResult>;
}

/** Catalog words may appear in suggestions in whatever script the shop wrote them. */
function catalogTerms(catalog: AssistInput['catalog']): string[] {
  return (catalog?.products ?? []).flatMap((p) => [
    p.name,
    ...Object.values(p.options).flat(),
    ...(p.deliveryDays ?? []),
  ]);
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

export function createAssistant(options: AssistantOptions = {}): Assistant {
  const newId = options.newId ?? randomUUID;
  const model = options.openai ? createOpenAIEngine(options.openai) : undefined;
  const withIds = (drafts: readonly DraftSuggestion[]): Suggestion[] =>
    drafts.map((d) => ({ id: newId(), text: d.text, tactic: d.tactic }));

  return {
    async suggest(input) {
      // The rules engine always runs (well under a millisecond): it is the fallback,
      // and its reading of a complaint also binds the model.
      const rulesStarted = performance.now();
      const analysis = analyseConversation(input);
      const busyNudgeEnabled = input.settings?.busyNudge === true;
      const rules = draftWithRules(analysis, busyNudgeEnabled);
      const rulesContext = guardrailContext(input.history, {
        locale: analysis.locale,
        stages: [rules.stage],
        busyNudgeEnabled,
        knownValues: analysis.options.knownValues,
        catalogTerms: catalogTerms(input.catalog),
      });
      const safeRules = rules.suggestions.filter(isSafe(rulesContext));
      if (safeRules.length === 0) safeRules.push(lastResort(analysis.locale, rules.stage));
      const rulesMs = performance.now() - rulesStarted;

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
      };
    },
  };
}
