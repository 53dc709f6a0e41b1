import { namesValue } from './catalog-options';
import { bannedWording, lexicon, matches, matchesOf } from './lexicon';
import { isInLocaleScript } from './locale-detection';
import { findPersonalData, PERSONAL_DATA_PLACEHOLDERS } from './personal-data';
import {
  CLOSING_TACTICS,
  type ChatMessage,
  type DraftSuggestion,
  type Locale,
  type Stage,
} from './vocabulary';

/**
 * Checks every suggestion, from either engine, before an agent sees it. A
 * suggestion with any violation is dropped (the assistant replaces it with a
 * safe rules-engine one).
 */

/** One chat message: 120 characters of Chinese, 300 of English (about the same reading time). */
export const MAX_REPLY_CHARS: Record<Locale, number> = { 'zh-Hans': 120, 'zh-Hant': 120, en: 300 };

export type Violation =
  | 'empty'
  | 'too_long'
  | 'absolute_claim'
  | 'unconfigured_promise'
  | 'personal_data'
  | 'informal_you'
  | 'wrong_script'
  | 'link'
  | 'closing_on_complaint'
  | 'busy_nudge_disabled'
  | 'invented_option';

export interface GuardrailContext {
  locale: Locale;
  /** The stage as both engines saw it; a complaint from either one forbids closing tactics. */
  stages: Stage[];
  busyNudgeEnabled: boolean;
  /** Real option values (catalog or conversation); an either-or question must name two of them. */
  knownValues: string[];
  /** Catalog words (product names, option values) that may be in either script. */
  catalogTerms: string[];
  /** Personal data the buyer typed, which no suggestion may repeat. */
  buyerPersonalData: string[];
}

const LINK = /https?:\/\/|www\.|!\[|\]\(/i;
const DIGITS_ONLY = /\D/g;

export function guardrailContext(
  history: readonly ChatMessage[],
  fields: Omit<GuardrailContext, 'buyerPersonalData'>,
): GuardrailContext {
  const buyerPersonalData = history.flatMap((m) => findPersonalData(m.text).map((p) => p.value));
  return { ...fields, buyerPersonalData };
}

function withoutAllowedPhrases(text: string): string {
  return bannedWording.allowedPhrases ? text.replace(bannedWording.allowedPhrases, ' ') : text;
}

function echoesPersonalData(text: string, ctx: GuardrailContext): boolean {
  if (findPersonalData(text).length > 0) return true;
  if (PERSONAL_DATA_PLACEHOLDERS.some((p) => text.includes(p))) return true;
  const digits = text.replace(DIGITS_ONLY, '');
  return ctx.buyerPersonalData.some((value) => {
    const valueDigits = value.replace(DIGITS_ONLY, '');
    // Compare digit runs too, so "138 1234 5678" cannot come back as "13812345678".
    return text.includes(value) || (valueDigits.length >= 7 && digits.includes(valueDigits));
  });
}

/** An either-or question names two real options and no colour that is not one. */
function inventsOptions(text: string, ctx: GuardrailContext): boolean {
  const named = ctx.knownValues.filter((v) => namesValue(text, v));
  if (new Set(named.map((v) => v.toLowerCase())).size < 2) return true;
  const known = new Set(ctx.knownValues.map((v) => v.toLowerCase()));
  return matchesOf(lexicon.colours, text).some(
    (c) => !known.has(c.toLowerCase()) && !named.some((v) => namesValue(v, c)),
  );
}

export function checkSuggestion(suggestion: DraftSuggestion, ctx: GuardrailContext): Violation[] {
  const { text, tactic } = suggestion;
  const violations: Violation[] = [];
  if (text.trim().length === 0) violations.push('empty');
  if ([...text].length > MAX_REPLY_CHARS[ctx.locale]) violations.push('too_long');
  const checked = withoutAllowedPhrases(text);
  if (matches(bannedWording.absoluteClaims, checked)) violations.push('absolute_claim');
  if (matches(bannedWording.unconfiguredPromises, checked)) violations.push('unconfigured_promise');
  if (echoesPersonalData(text, ctx)) violations.push('personal_data');
  if (ctx.locale !== 'en' && text.includes('你')) violations.push('informal_you');
  const ownWords = ctx.catalogTerms.reduce((rest, term) => rest.split(term).join(' '), text);
  if (!isInLocaleScript(ownWords, ctx.locale)) violations.push('wrong_script');
  if (LINK.test(text)) violations.push('link');
  if (CLOSING_TACTICS.includes(tactic) && ctx.stages.includes('complaint'))
    violations.push('closing_on_complaint');
  if (tactic === 'busy_nudge' && !ctx.busyNudgeEnabled) violations.push('busy_nudge_disabled');
  if (tactic === 'alternative_close' && inventsOptions(text, ctx))
    violations.push('invented_option');
  return violations;
}
