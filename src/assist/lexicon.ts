import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  AFTER_SALE_TOPICS,
  type AfterSaleTopic,
  COMPLAINT_TOPICS,
  type ComplaintTopic,
  LOCALES,
  type Locale,
  SIGNAL_NAMES,
  type SignalName,
} from './vocabulary';

/**
 * Loads the data files under `lexicon/` once, validates them (a typo in a data
 * file fails at start-up, not on a buyer's message) and compiles the matchers.
 */

const phrases = z.array(z.string().min(1));
const lexiconFileSchema = z.object({
  greeting: phrases,
  signals: z.object(
    Object.fromEntries(SIGNAL_NAMES.map((name) => [name, phrases])) as Record<
      SignalName,
      typeof phrases
    >,
  ),
  complaintTopics: z.object({ delivery: phrases, quality: phrases, service: phrases }),
  afterSaleTopics: z.object({
    tracking: phrases,
    return: phrases,
    cancel: phrases,
    exchange: phrases,
    invoice: phrases,
    address: phrases,
  }),
  sentiment: z.object({ positive: phrases, negative: phrases }),
  colours: phrases,
  /** Words that make a question about size and fit (asking height and weight only makes sense then). */
  sizeWords: phrases,
});

const text = z.string().min(1);
const templatesFileSchema = z.object({
  /** How a catalog product is referred to ("the {name}" in English). */
  productName: text,
  productFallback: text,
  listSeparator: text,
  listLastSeparator: text,
  optionLabels: z
    .record(z.string(), text)
    .refine((labels) => '_other' in labels, 'needs an _other label'),
  greeting: z.array(text).min(1),
  answer: z.object({
    asks_price: text,
    asks_stock: text,
    asks_delivery: text,
    delivery_days: text,
    asks_discount: text,
    asks_how_to_order: text,
    /** "Is there a grey one?" with no catalog to look in: promise to check the one value the buyer named. */
    option_check: text,
    asks_payment: text,
    will_buy: text,
    general: text,
    material: text,
    shipping_fee: text,
    invoice: text,
    hesitation: text,
    comparing: text,
    /** Low confidence: ask what the buyer needs instead of guessing (never a pitch). */
    clarify: text,
    /** Every option is settled: confirm the choice instead of offering it again. */
    confirm_choice: text,
  }),
  afterSale: z.object({
    tracking: text,
    return: text,
    cancel: text,
    exchange: text,
    invoice: text,
    address: text,
    general: text,
  }),
  /** After-sale replies when the buyer already gave the order number: never ask for it again. */
  afterSaleGiven: z.object({
    tracking: text,
    return: text,
    cancel: text,
    exchange: text,
    invoice: text,
    address: text,
    general: text,
  }),
  empathy: z.object({
    delivery: text,
    quality: text,
    service: text,
    general: text,
    reassure: text,
  }),
  /** Empathy when the buyer already sent photos of the problem. */
  empathyGiven: z.object({ quality: text }),
  helpChoose: z.object({ options: text, size: text, generic: text }),
  alternativeClose: z.object({ option: text, delivery: text }),
  busyNudge: text,
  followUp: z.object({ default: text, hesitating: text, ready: text, after_sale: text }),
});
export type ReplyTemplates = z.infer<typeof templatesFileSchema>;

const byLocale = z.object({ 'zh-Hans': phrases, 'zh-Hant': phrases, en: phrases });
const bannedClaimsFileSchema = z.object({
  absoluteClaims: byLocale,
  unconfiguredPromises: byLocale,
  allowedPhrases: byLocale,
});

function loadJson<T>(file: string, schema: z.ZodType<T>): T {
  const url = new URL(`./lexicon/${file}`, import.meta.url);
  return schema.parse(JSON.parse(readFileSync(url, 'utf8')));
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ALNUM = /[A-Za-z0-9]/;

/**
 * Regex source for one phrase. An end that is a Latin letter or digit must be
 * a word boundary ("hi" must not fire on "this", size "M" not on "MM");
 * Chinese ends match anywhere, since Chinese has no spaces between words.
 */
export function phraseSource(phrase: string): string {
  const before = ALNUM.test(phrase[0] ?? '') ? '(?<![A-Za-z0-9])' : '';
  const after = ALNUM.test(phrase[phrase.length - 1] ?? '') ? '(?![A-Za-z0-9])' : '';
  return `${before}${escapeRegExp(phrase)}${after}`;
}

/** One case-insensitive regex per phrase list. */
function compilePhrases(list: readonly string[]): RegExp | null {
  if (list.length === 0) return null;
  // Longest first so "light grey" wins over "grey" when the match itself is used.
  const sorted = [...list].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map(phraseSource).join('|'), 'giu');
}

export interface CompiledLexicon {
  greeting: RegExp | null;
  signals: Record<SignalName, RegExp | null>;
  complaintTopics: Record<ComplaintTopic, RegExp | null>;
  afterSaleTopics: Record<AfterSaleTopic, RegExp | null>;
  positive: RegExp | null;
  negative: RegExp | null;
  colours: RegExp | null;
  sizeWords: RegExp | null;
}

/**
 * Buyers mix scripts and languages ("XL码", "OK 我要了"), so every message is
 * read with the union of all three lexicons: one compiled lexicon, not three.
 */
function compileUnion(files: ReadonlyArray<z.infer<typeof lexiconFileSchema>>): CompiledLexicon {
  const union = (pick: (f: z.infer<typeof lexiconFileSchema>) => string[]) =>
    compilePhrases([...new Set(files.flatMap(pick))]);
  const each = <K extends string>(
    keys: readonly K[],
    pick: (f: z.infer<typeof lexiconFileSchema>, key: K) => string[],
  ) =>
    Object.fromEntries(keys.map((key) => [key, union((f) => pick(f, key))])) as Record<
      K,
      RegExp | null
    >;
  return {
    greeting: union((f) => f.greeting),
    signals: each(SIGNAL_NAMES, (f, name) => f.signals[name]),
    complaintTopics: each(COMPLAINT_TOPICS, (f, topic) => f.complaintTopics[topic]),
    afterSaleTopics: each(AFTER_SALE_TOPICS, (f, topic) => f.afterSaleTopics[topic]),
    positive: union((f) => f.sentiment.positive),
    negative: union((f) => f.sentiment.negative),
    colours: union((f) => f.colours),
    sizeWords: union((f) => f.sizeWords),
  };
}

export const lexicon: CompiledLexicon = compileUnion(
  LOCALES.map((locale) => loadJson(`${locale}.json`, lexiconFileSchema)),
);

const templatesByLocale: Record<Locale, ReplyTemplates> = {
  'zh-Hans': loadJson('templates.zh-Hans.json', templatesFileSchema),
  'zh-Hant': loadJson('templates.zh-Hant.json', templatesFileSchema),
  en: loadJson('templates.en.json', templatesFileSchema),
};
export const templatesFor = (locale: Locale): ReplyTemplates => templatesByLocale[locale];

const bannedFile = loadJson('banned-claims.json', bannedClaimsFileSchema);
const allOf = (lists: z.infer<typeof byLocale>) => [
  ...new Set([...lists['zh-Hans'], ...lists['zh-Hant'], ...lists.en]),
];
/** Compiled from `lexicon/banned-claims.json`, the one place the banned wording lives. */
export const bannedWording = {
  absoluteClaims: compilePhrases(allOf(bannedFile.absoluteClaims)),
  unconfiguredPromises: compilePhrases(allOf(bannedFile.unconfiguredPromises)),
  allowedPhrases: compilePhrases(allOf(bannedFile.allowedPhrases)),
};

/** Every match of `pattern` in `text` (the regexes are global, so this also resets lastIndex). */
// The compiled patterns are global (for matchAll), so they carry lastIndex
// between calls: matchAll starts where the last test() stopped. Always reset.
export function matchesOf(pattern: RegExp | null, text: string): string[] {
  if (!pattern) return [];
  pattern.lastIndex = 0;
  return [...text.matchAll(pattern)].map((m) => m[0]);
}

export function matches(pattern: RegExp | null, text: string): boolean {
  if (!pattern) return false;
  pattern.lastIndex = 0;
  const found = pattern.test(text);
  pattern.lastIndex = 0;
  return found;
}
