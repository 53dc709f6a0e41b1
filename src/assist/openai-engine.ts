import { existsSync, readFileSync } from 'node:fs';
import type OpenAI from 'openai';
import { z } from 'zod';
import type { Catalog } from '../shops/shop-schema';
import type { OptionsInFocus } from './catalog-options';
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
  type SignalName,
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

const modelOutputSchema = z.object({
  stage: z.enum(STAGES),
  intent: z.enum(INTENTS).optional(),
  sentiment: z.enum(SENTIMENTS),
  // Only names the service knows: free text from the model has no business in the response.
  signals: z
    .array(z.string())
    .max(20)
    .default([])
    .transform((signals) =>
      [...new Set(signals)].filter((s): s is SignalName =>
        (SIGNAL_NAMES as readonly string[]).includes(s),
      ),
    ),
  suggestions: z
    .array(z.object({ text: z.string().trim().min(1).max(2000), tactic: z.enum(TACTICS) }))
    .min(1)
    .max(MAX_SUGGESTIONS),
});

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
export const FEW_SHOT_URL = new URL('./model/few-shot.json', import.meta.url);
const fewShotSchema = z.array(
  z.object({
    id: z.string(),
    input: z.object({
      history: z.array(z.object({ from: z.enum(['buyer', 'agent']), text: z.string() })),
      locale: z.enum(['zh-Hans', 'zh-Hant', 'en']),
    }),
    output: z.object({
      stage: z.enum(STAGES),
      intent: z.enum(INTENTS),
      sentiment: z.enum(SENTIMENTS),
      signals: z.array(z.string()),
      suggestions: z.array(z.object({ text: z.string(), tactic: z.enum(TACTICS) })),
    }),
  }),
);
export type FewShotExample = z.infer<typeof fewShotSchema>[number];

function loadFewShot(): FewShotExample[] {
  return existsSync(FEW_SHOT_URL)
    ? fewShotSchema.parse(JSON.parse(readFileSync(FEW_SHOT_URL, 'utf8')))
    : [];
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

/** The SDK is loaded on the first model call, so a service without a key never pays for it at start-up. */
let sdkModule: Promise<typeof import('openai')> | undefined;

export function createOpenAIEngine(options: OpenAIEngineOptions) {
  // At creation, so a missing prompt file stops the service at start-up instead of turning every call into a fallback.
  const system = loadSystemPrompt();
  const examples = loadFewShot();
  const responseFormat = options.responseFormat ?? defaultResponseFormat(options.baseURL);
  let client: OpenAI | undefined;
  let sdk: typeof OpenAI | undefined;

  return {
    async draft(input: OpenAIEngineInput): Promise<EngineDraft> {
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
      const result = modelOutputSchema.safeParse(parsed);
      if (!result.success)
        throw new EngineFailure('invalid_output', 'the model answer does not fit the schema', {
          cause: result.error,
        });
      return result.data;
    },
  };
}
