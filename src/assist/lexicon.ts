import { readFileSync } from 'node:fs';

export type { ReplyTemplates } from './lexicon-files';

import type {
  BannedClaimsFile,
  LexiconFile,
  PhrasesByLocale,
  ReplyTemplates,
} from './lexicon-files';
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
 * Loads the data files under `lexicon/` once and compiles the matchers (their
 * schemas are in lexicon-files.ts, checked by the unit tests).
 */

/**
 * A data file under `lexicon/`, as committed. Its schema (lexicon-files.ts)
 * is checked by the unit tests rather than here, so the assistant's start-up
 * does not load zod: a typo in a data file fails `npm test`.
 */
function loadJson<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`./lexicon/${file}`, import.meta.url), 'utf8')) as T;
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
  idioms: RegExp | null;
  acknowledgements: RegExp | null;
  materialWords: RegExp | null;
  voiceNotes: RegExp | null;
  personalContact: RegExp | null;
  bulkWords: RegExp | null;
  compatibilityWords: RegExp | null;
  dutyWords: RegExp | null;
  stackingWords: RegExp | null;
  digitalGoods: RegExp | null;
}

/**
 * Buyers mix scripts and languages ("XL码", "OK 我要了"), so every message is
 * read with the union of all three lexicons: one compiled lexicon, not three.
 */
function compileUnion(files: ReadonlyArray<LexiconFile>): CompiledLexicon {
  const union = (pick: (f: LexiconFile) => string[]) =>
    compilePhrases([...new Set(files.flatMap(pick))]);
  const each = <K extends string>(keys: readonly K[], pick: (f: LexiconFile, key: K) => string[]) =>
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
    idioms: union((f) => f.idioms),
    acknowledgements: union((f) => f.acknowledgements),
    materialWords: union((f) => f.materialWords),
    voiceNotes: union((f) => f.voiceNotes),
    personalContact: union((f) => f.personalContact),
    bulkWords: union((f) => f.bulkWords),
    compatibilityWords: union((f) => f.compatibilityWords),
    dutyWords: union((f) => f.dutyWords),
    stackingWords: union((f) => f.stackingWords),
    digitalGoods: union((f) => f.digitalGoods),
  };
}

export const lexicon: CompiledLexicon = compileUnion(
  LOCALES.map((locale) => loadJson<LexiconFile>(`${locale}.json`)),
);

const templatesByLocale: Record<Locale, ReplyTemplates> = {
  'zh-Hans': loadJson<ReplyTemplates>('templates.zh-Hans.json'),
  'zh-Hant': loadJson<ReplyTemplates>('templates.zh-Hant.json'),
  en: loadJson<ReplyTemplates>('templates.en.json'),
};
export const templatesFor = (locale: Locale): ReplyTemplates => templatesByLocale[locale];

const bannedFile = loadJson<BannedClaimsFile>('banned-claims.json');
const allOf = (lists: PhrasesByLocale) => [
  ...new Set([...lists['zh-Hans'], ...lists['zh-Hant'], ...lists.en]),
];
/** Compiled from `lexicon/banned-claims.json`, the one place the banned wording lives. */
export const bannedWording = {
  absoluteClaims: compilePhrases(allOf(bannedFile.absoluteClaims)),
  unconfiguredPromises: compilePhrases(allOf(bannedFile.unconfiguredPromises)),
  allowedPhrases: compilePhrases(allOf(bannedFile.allowedPhrases)),
};

/** `text` with the lexicons' idioms blanked out ("torn between" holds no complaint). */
export function withoutIdioms(text: string): string {
  if (!lexicon.idioms) return text;
  lexicon.idioms.lastIndex = 0;
  return text.replace(lexicon.idioms, ' ');
}

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
