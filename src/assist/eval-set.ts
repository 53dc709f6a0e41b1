import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { catalogSchema } from '../shops/shop-schema';
import { chatMessageSchema, localeSchema } from './assist-request-schema';
import { namesValue } from './catalog-options';
import { checkSuggestion, guardrailContext } from './guardrails';
import { lexicon, matchesOf } from './lexicon';
import { findPersonalData } from './personal-data';
import type { AssistInput, AssistResult, Tactic } from './vocabulary';

/**
 * The labelled conversations in test/fixtures/assist and an audit of any
 * engine's answer to them, shared by scripts/eval-assist.ts and the unit tests.
 */

const stageSchema = z.enum([
  'browsing',
  'interested',
  'ready',
  'hesitating',
  'complaint',
  'after_sale',
]);
const tacticSchema = z.enum([
  'greeting',
  'answer',
  'empathy',
  'help_choose',
  'alternative_close',
  'busy_nudge',
  'follow_up',
]);

export const evalItemSchema = z
  .object({
    id: z.string().min(1),
    note: z.string(),
    input: z
      .object({
        history: z.array(chatMessageSchema).min(1),
        locale: localeSchema.optional(),
        catalog: catalogSchema.optional(),
        settings: z.object({ busyNudge: z.boolean().optional() }).strict().optional(),
      })
      .strict(),
    expected: z.object({ stage: stageSchema, tactic: tacticSchema, locale: localeSchema }).strict(),
  })
  .strict();
export type EvalItem = z.infer<typeof evalItemSchema>;

export const EVAL_SET_URL = new URL(
  '../../test/fixtures/assist/conversations.json',
  import.meta.url,
);

export function loadEvalSet(url: URL = EVAL_SET_URL): EvalItem[] {
  const items = z.array(evalItemSchema).parse(JSON.parse(readFileSync(url, 'utf8')));
  const ids = new Set(items.map((i) => i.id));
  if (ids.size !== items.length) throw new Error('eval set ids must be unique');
  return items;
}

const CLOSING: readonly Tactic[] = ['alternative_close', 'busy_nudge'];

/** Every real option value of this conversation: catalog values, else colours and sizes the chat named. */
function realOptionValues(input: AssistInput): string[] {
  const fromCatalog = (input.catalog?.products ?? []).flatMap((p) => [
    ...Object.values(p.options).flat(),
    ...(p.deliveryDays ?? []),
  ]);
  if (fromCatalog.length > 0) return fromCatalog;
  return input.history.flatMap((m) => [
    ...matchesOf(lexicon.colours, m.text),
    ...(m.text.match(/\b(?:XS|S|M|L|XL|XXL)\b|[SMLX]{1,3}(?=码|碼)/g) ?? []),
  ]);
}

/**
 * Problems with one answer: the guardrail checker's verdict on every
 * suggestion plus checks written independently of it (suggestion count, the
 * buyer's personal data, options of an either-or question, closing tactics on
 * a labelled complaint).
 */
export function auditResult(
  input: AssistInput,
  result: AssistResult,
  expectedStage?: string,
): string[] {
  const problems: string[] = [];
  if (result.suggestions.length < 1 || result.suggestions.length > 3)
    problems.push(`suggestion count ${result.suggestions.length}`);
  const context = guardrailContext(input.history, {
    locale: result.locale,
    stages: [result.stage],
    busyNudgeEnabled: input.settings?.busyNudge === true,
    knownValues: realOptionValues(input),
    catalogTerms: (input.catalog?.products ?? []).flatMap((p) => [
      p.name,
      ...Object.values(p.options).flat(),
      ...(p.deliveryDays ?? []),
    ]),
  });
  const buyerData = input.history.flatMap((m) => findPersonalData(m.text).map((p) => p.value));
  const options = realOptionValues(input);
  for (const s of result.suggestions) {
    for (const v of checkSuggestion(s, context)) problems.push(`${s.tactic}: ${v}`);
    if (result.locale !== 'en' && (s.text.includes('你') || !s.text.includes('您')))
      problems.push(`${s.tactic}: does not address the buyer as 您`);
    if (buyerData.some((d) => s.text.includes(d)))
      problems.push(`${s.tactic}: echoes personal data`);
    if (
      s.tactic === 'alternative_close' &&
      new Set(options.filter((o) => namesValue(s.text, o))).size < 2
    ) {
      problems.push('alternative_close: fewer than two real options named');
    }
    if (expectedStage === 'complaint' && CLOSING.includes(s.tactic))
      problems.push(`${s.tactic} on a complaint`);
  }
  return problems;
}
