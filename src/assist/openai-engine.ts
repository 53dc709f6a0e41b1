import { existsSync, readFileSync } from 'node:fs';
import type OpenAI from 'openai';
import type { Catalog } from '../shops/shop-schema';
import type { OptionsInFocus } from './catalog-options';
import type { FewShotExample } from './openai-schemas';
import { redactPersonalData } from './personal-data';
import {
  type ChatMessage,
  type DialogueState,
  type EngineDraft,
  type FallbackReason,
  INTENTS,
  type Intent,
  type Locale,
  MAX_SUGGESTIONS,
  SENTIMENTS,
  SIGNAL_NAMES,
  STAGES,
  type Stage,
  TACTICS,
} from './vocabulary';

export interface OpenAIEngineOptions {
  apiKey: string;
  /** Any OpenAI-compatible endpoint (DeepSeek, Qwen...); the SDK's default host when absent. */
  baseURL?: string;
  model: string;
  /** Whole-request budget; past it the rules engine answers. */
  timeoutMs: number;
  /**
   * `json_schema` (structured outputs: OpenAI) or `json_object` (DeepSeek,
   * Qwen and most compatible hosts). By default json_schema for OpenAI's own
   * host, json_object for any other base URL.
   */
  responseFormat?: 'json_schema' | 'json_object';
}

export interface OpenAIEngineInput {
  history: readonly ChatMessage[];
  locale: Locale;
  catalog?: Catalog;
  /** The real options of this conversation as the rules engine found them (catalog product in focus, or named in the chat). */
  options: OptionsInFocus;
  busyNudgeEnabled: boolean;
  /** What the conversation settled and what the buyer gave (never asked again). */
  state?: DialogueState;
  /** The learned reader's reading, a hint the model may overrule. */
  reading?: { stage: Stage; intent: Intent; confidence: number };
  /** The tactic policy: false means no closing tactic (either-or, help-choose, busy nudge). */
  closingAllowed?: boolean;
}

/** Why the model's answer could not be used; the assistant reports it and lets the rules engine answer. */
export class EngineFailure extends Error {
  constructor(
    readonly reason: FallbackReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EngineFailure';
  }
}

/** Caps the reply so a runaway model cannot run up the bill (OWASP LLM10). */
const MAX_COMPLETION_TOKENS = 800;

/** The same shape as a JSON Schema, for providers with structured outputs (strict mode: all keys required). */
export const MODEL_OUTPUT_JSON_SCHEMA = {
  name: 'assist_suggestions',
  strict: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['stage', 'intent', 'sentiment', 'signals', 'suggestions'],
    properties: {
      stage: { type: 'string', enum: [...STAGES] },
      intent: { type: 'string', enum: [...INTENTS] },
      sentiment: { type: 'string', enum: [...SENTIMENTS] },
      signals: { type: 'array', items: { type: 'string', enum: [...SIGNAL_NAMES] } },
      suggestions: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_SUGGESTIONS,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['text', 'tactic'],
          properties: {
            text: { type: 'string' },
            tactic: { type: 'string', enum: [...TACTICS] },
          },
        },
      },
    },
  },
} as const;

/** Worked examples from the corpus train split (written by `npm run train:assist`). */
export type { FewShotExample } from './openai-schemas';
export const FEW_SHOT_URL = new URL('./model/few-shot.json', import.meta.url);

/** Read at creation, checked against its schema on the first model call (with the output schema). */
function readFewShot(): unknown {
  return existsSync(FEW_SHOT_URL) ? JSON.parse(readFileSync(FEW_SHOT_URL, 'utf8')) : [];
}

let systemPrompt: string | undefined;
/** Read once: the prompts are files so they can be reviewed and edited without touching code. */
function loadSystemPrompt(): string {
  if (systemPrompt === undefined) {
    const read = (file: string) =>
      readFileSync(new URL(`../../prompts/${file}`, import.meta.url), 'utf8');
    systemPrompt = `${read('system.md')}\n\n${read('tactics.md')}`;
  }
  return systemPrompt;
}

/** JSON whose angle brackets are escaped, so buyer text cannot close the block it is quoted in. */
const quoted = (value: unknown) =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e');

/** The user message: settings, catalog and conversation as delimited data, personal data redacted. */
export function buildUserMessage(input: OpenAIEngineInput): string {
  const conversation = input.history.map((m) => ({
    from: m.from,
    text: redactPersonalData(m.text),
  }));
  const catalog = (input.catalog?.products ?? []).map((p) => ({
    name: p.name,
    options: p.options,
    deliveryDays: p.deliveryDays ?? [],
  }));
  const realOptions = {
    product: input.options.productName ?? null,
    options: Object.fromEntries(input.options.dimensions.map((d) => [d.key, d.values])),
  };
  const state = input.state && {
    settled: input.state.settled,
    given: input.state.given,
  };
  return [
    `<settings>${quoted({
      replyLocale: input.locale,
      busyNudgeAllowed: input.busyNudgeEnabled,
      closingAllowed: input.closingAllowed ?? true,
    })}</settings>`,
    `<catalog>${quoted(catalog)}</catalog>`,
    `<real_options>${quoted(realOptions)}</real_options>`,
    ...(state ? [`<state>${quoted(state)}</state>`] : []),
    ...(input.reading ? [`<reading>${quoted(input.reading)}</reading>`] : []),
    `<conversation>${quoted(conversation)}</conversation>`,
  ].join('\n');
}

function reasonFor(error: unknown, sdk: typeof OpenAI | undefined): FallbackReason {
  if (
    sdk &&
    (error instanceof sdk.APIConnectionTimeoutError || error instanceof sdk.APIUserAbortError)
  )
    return 'timeout';
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return 'timeout';
  return 'error';
}

/** Few-shot turns: each example's user message and the answer it deserves. */
function fewShotMessages(examples: readonly FewShotExample[], busyNudgeEnabled: boolean) {
  return examples.flatMap((e) => [
    {
      role: 'user' as const,
      content: buildUserMessage({
        history: e.input.history,
        locale: e.input.locale,
        options: { dimensions: [], knownValues: [] },
        busyNudgeEnabled,
      }),
    },
    { role: 'assistant' as const, content: JSON.stringify(e.output) },
  ]);
}

/** OpenAI's own host supports structured outputs; compatible hosts reliably support json_object. */
function defaultResponseFormat(baseURL: string | undefined): 'json_schema' | 'json_object' {
  return !baseURL || /(^|\/\/)api\.openai\.com(\/|$)/.test(baseURL) ? 'json_schema' : 'json_object';
}

/**
 * The SDK and the zod schemas are loaded on the first model call, so a
 * service without a key never pays for them at start-up (zod alone is most of
 * the assistant's cold start).
 */
let sdkModule: Promise<typeof import('openai')> | undefined;
let schemasModule: Promise<typeof import('./openai-schemas')> | undefined;

export function createOpenAIEngine(options: OpenAIEngineOptions) {
  // At creation, so a missing prompt file stops the service at start-up instead of turning every call into a fallback.
  const system = loadSystemPrompt();
  const rawExamples = readFewShot();
  let examples: FewShotExample[] | undefined;
  const responseFormat = options.responseFormat ?? defaultResponseFormat(options.baseURL);
  let client: OpenAI | undefined;
  let sdk: typeof OpenAI | undefined;

  return {
    async draft(input: OpenAIEngineInput): Promise<EngineDraft> {
      schemasModule ??= import('./openai-schemas');
      const schemas = await schemasModule;
      examples ??= schemas.fewShotSchema.parse(rawExamples);
      let content: string | null | undefined;
      try {
        if (!client) {
          sdkModule ??= import('openai');
          sdk = (await sdkModule).default;
          client = new sdk({
            apiKey: options.apiKey,
            baseURL: options.baseURL,
            timeout: options.timeoutMs,
            // The rules engine is the retry: a slow model must not make the agent wait twice.
            maxRetries: 0,
          });
        }
        const completion = await client.chat.completions.create(
          {
            model: options.model,
            messages: [
              { role: 'system', content: system },
              ...fewShotMessages(examples, input.busyNudgeEnabled),
              { role: 'user', content: buildUserMessage(input) },
            ],
            response_format:
              responseFormat === 'json_schema'
                ? { type: 'json_schema', json_schema: MODEL_OUTPUT_JSON_SCHEMA }
                : { type: 'json_object' },
            max_tokens: MAX_COMPLETION_TOKENS,
          },
          // The SDK timeout covers the request; the signal also bounds reading the body.
          { signal: AbortSignal.timeout(options.timeoutMs) },
        );
        content = completion.choices[0]?.message.content;
      } catch (error) {
        throw new EngineFailure(reasonFor(error, sdk), 'the model call failed', { cause: error });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(content ?? '');
      } catch (error) {
        throw new EngineFailure('invalid_output', 'the model did not answer with JSON', {
          cause: error,
        });
      }
      const result = schemas.modelOutputSchema.safeParse(parsed);
      if (!result.success)
        throw new EngineFailure('invalid_output', 'the model answer does not fit the schema', {
          cause: result.error,
        });
      return result.data;
    },
  };
}
