import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { z } from 'zod';
import type { Catalog } from '../shops/shop-schema';
import type { OptionsInFocus } from './catalog-options';
import { redactPersonalData } from './personal-data';
import {
  type ChatMessage,
  type EngineDraft,
  type FallbackReason,
  type Locale,
  MAX_SUGGESTIONS,
  SIGNAL_NAMES,
  type SignalName,
} from './vocabulary';

export interface OpenAIEngineOptions {
  apiKey: string;
  /** Any OpenAI-compatible endpoint (DeepSeek, Qwen...); the SDK's default host when absent. */
  baseURL?: string;
  model: string;
  /** Whole-request budget; past it the rules engine answers. */
  timeoutMs: number;
}

export interface OpenAIEngineInput {
  history: readonly ChatMessage[];
  locale: Locale;
  catalog?: Catalog;
  /** The real options of this conversation as the rules engine found them (catalog product in focus, or named in the chat). */
  options: OptionsInFocus;
  busyNudgeEnabled: boolean;
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
  stage: z.enum(['browsing', 'interested', 'ready', 'hesitating', 'complaint', 'after_sale']),
  sentiment: z.enum(['positive', 'neutral', 'negative']),
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
    .array(
      z.object({
        text: z.string().trim().min(1).max(2000),
        tactic: z.enum([
          'greeting',
          'answer',
          'empathy',
          'help_choose',
          'alternative_close',
          'busy_nudge',
          'follow_up',
        ]),
      }),
    )
    .min(1)
    .max(MAX_SUGGESTIONS),
});

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
  return [
    `<settings>${quoted({ replyLocale: input.locale, busyNudgeAllowed: input.busyNudgeEnabled })}</settings>`,
    `<catalog>${quoted(catalog)}</catalog>`,
    `<real_options>${quoted(realOptions)}</real_options>`,
    `<conversation>${quoted(conversation)}</conversation>`,
  ].join('\n');
}

function reasonFor(error: unknown): FallbackReason {
  if (
    error instanceof OpenAI.APIConnectionTimeoutError ||
    error instanceof OpenAI.APIUserAbortError
  )
    return 'timeout';
  return 'error';
}

export function createOpenAIEngine(options: OpenAIEngineOptions) {
  // At creation, so a missing prompt file stops the service at start-up instead of turning every call into a fallback.
  const system = loadSystemPrompt();
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    timeout: options.timeoutMs,
    // The rules engine is the retry: a slow model must not make the agent wait twice.
    maxRetries: 0,
  });

  return {
    async draft(input: OpenAIEngineInput): Promise<EngineDraft> {
      let content: string | null | undefined;
      try {
        const completion = await client.chat.completions.create(
          {
            model: options.model,
            messages: [
              { role: 'system', content: system },
              { role: 'user', content: buildUserMessage(input) },
            ],
            response_format: { type: 'json_object' },
            max_tokens: MAX_COMPLETION_TOKENS,
          },
          // The SDK timeout covers the request; the signal also bounds reading the body.
          { signal: AbortSignal.timeout(options.timeoutMs) },
        );
        content = completion.choices[0]?.message.content;
      } catch (error) {
        throw new EngineFailure(reasonFor(error), 'the model call failed', { cause: error });
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
