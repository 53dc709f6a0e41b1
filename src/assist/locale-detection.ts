import { ConverterFactory, type ConverterFunction } from 'opencc-js/core';
import HKVariantsRev from 'opencc-js/dict/HKVariantsRev';
import HKVariantsRevPhrases from 'opencc-js/dict/HKVariantsRevPhrases';
import STCharacters from 'opencc-js/dict/STCharacters';
import STPhrases from 'opencc-js/dict/STPhrases';
import TSCharacters from 'opencc-js/dict/TSCharacters';
import TSPhrases from 'opencc-js/dict/TSPhrases';
import TWVariantsRev from 'opencc-js/dict/TWVariantsRev';
import TWVariantsRevPhrases from 'opencc-js/dict/TWVariantsRevPhrases';
import { memoText, memoTextPer } from './text-memo';
import type { ChatMessage, Locale } from './vocabulary';

/**
 * Language and Chinese script, from OpenCC's conversion tables (opencc-js)
 * rather than hand lists: a character is Simplified-only when OpenCC's
 * Simplified-to-Traditional table changes it, Traditional-only when the
 * Traditional-to-Simplified table (with the Hong Kong and Taiwan variant
 * tables) changes it.
 */

/**
 * Characters OpenCC converts from Simplified that are also everyday Traditional
 * characters (台北, 若干, 里長, 皇后, 其余 in names; 床, 吃, 群 as Taiwan and Hong Kong
 * write them, where OpenCC's standard has 牀, 喫, 羣): they never decide the script.
 */
const SHARED_BY_BOTH_SCRIPTS =
  '台干里后余范制系面只冲斗谷丑卷才几了朴松咸云准表征向板姜游划吁志郁借舍床峰群吃秘粽灶皂痴唇';

/** One-character entries of an OpenCC table: source -> first target. */
function characterMap(dictionary: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of dictionary.split('|')) {
    const [source, target] = entry.split(' ');
    if (source && target && [...source].length === 1) out.set(source, target);
  }
  return out;
}

const traditionalToSimplifiedChars = characterMap(TSCharacters);

const SIMPLIFIED_ONLY = new Set(
  [...characterMap(STCharacters)]
    .filter(([s, t]) => s !== t && !SHARED_BY_BOTH_SCRIPTS.includes(s))
    .map(([s]) => s),
);
/**
 * Characters Traditional text uses and Simplified text does not: those the
 * Traditional-to-Simplified table changes, plus Hong Kong and Taiwan variants
 * (綫, 着) whose standard form it changes. A character that is itself a
 * Simplified form (么, 税) never counts.
 */
const TRADITIONAL_ONLY = new Set<string>();
for (const [t, s] of traditionalToSimplifiedChars) if (t !== s) TRADITIONAL_ONLY.add(t);
for (const [variant, standard] of [
  ...characterMap(HKVariantsRev),
  ...characterMap(TWVariantsRev),
]) {
  const simplified = traditionalToSimplifiedChars.get(standard) ?? standard;
  if (simplified !== variant) TRADITIONAL_ONLY.add(variant);
}
for (const ch of SIMPLIFIED_ONLY) TRADITIONAL_ONLY.delete(ch);

/** Traditional (Hong Kong and Taiwan variants included) to Simplified; cheap to build (a few ms). */
export const toSimplified: ConverterFunction = ConverterFactory(
  [HKVariantsRevPhrases, HKVariantsRev],
  [TWVariantsRevPhrases, TWVariantsRev],
  [TSPhrases, TSCharacters],
);

let simplifiedToTraditional: ConverterFunction | undefined;
/**
 * Simplified to Traditional with OpenCC's phrase table (干净 -> 乾淨, not 幹淨).
 * Built on first use: the phrase table is large (about 0.1 s to load), and
 * only Simplified catalog terms in a Traditional reply need it.
 */
export function toTraditional(text: string): string {
  simplifiedToTraditional ??= ConverterFactory([STPhrases, STCharacters]);
  return simplifiedToTraditional(text);
}

/** A catalog term (product name, option value) in the reply's script; English replies keep it as written. */
export function inReplyScript(term: string, locale: Locale): string {
  if (locale === 'en' || countScripts(term).han === 0) return term;
  return locale === 'zh-Hant' ? toTraditional(term) : toSimplified(term);
}

/**
 * Hong Kong written Cantonese and Taiwan's zhuyin: characters only a
 * Traditional writer uses (唔, 嘅, 咗, 喺, 冇 ... and ㄅㄆㄇ), even when the
 * message has no character OpenCC would convert ("睇吓先 唔該", "安安 在ㄇ").
 * Not 嘞: mainland buyers write "好嘞" as often as Cantonese does.
 */
const TRADITIONAL_WRITERS_ONLY =
  /[唔嘅咗喺冇哋啲嚟咁嘢佢睇瞓嬲搵攞俾畀咪啱噉嗰嚿揸褸靚㗎喎囉咩\u3105-\u3129]/u;

const HAN = /[\u3400-\u9fff\uf900-\ufaff]|[\u{20000}-\u{3134f}]/u;
const LATIN_LETTER = /[A-Za-z]/;

export interface ScriptCounts {
  han: number;
  latin: number;
  simplifiedOnly: number;
  traditionalOnly: number;
}

export function countScripts(text: string): ScriptCounts {
  const counts: ScriptCounts = { han: 0, latin: 0, simplifiedOnly: 0, traditionalOnly: 0 };
  for (const ch of text) {
    if (HAN.test(ch)) {
      counts.han += 1;
      if (SIMPLIFIED_ONLY.has(ch)) counts.simplifiedOnly += 1;
      if (TRADITIONAL_ONLY.has(ch) || TRADITIONAL_WRITERS_ONLY.test(ch))
        counts.traditionalOnly += 1;
    } else if (TRADITIONAL_WRITERS_ONLY.test(ch)) {
      counts.traditionalOnly += 1;
    } else if (LATIN_LETTER.test(ch)) {
      counts.latin += 1;
    }
  }
  return counts;
}

/**
 * Latin tokens that do not make a message English: "ok", size codes, "pls".
 * A Chinese buyer types them too ("OK 我要了", "XL码"), so alone they leave the
 * language to the rest of the conversation.
 */
const NEUTRAL_LATIN =
  /^(?:ok|okay|okk|okie|k|kk|ya|yes|no|pls|plz|thx|tks|hi|hello|hey|hiya|yo|xs|s|m|l|xl|xxl|xxxl|cm|kg|mm|ml|g|pcs|sf|ems|qq|vip|app|id|ps|iphone|ipad)$/;
/** Placeholders chat apps put for media ("[Sticker]", "[图片]"): not the buyer's words. */
const MEDIA_PLACEHOLDER = /\[[^\]\n]{1,20}\]/g;
/**
 * Letters mixed with digits are ids and codes ("#W8891", "SF1609283746512"), not words. A match
 * starts only where a token does: the same matches, without rescanning a long run of letters
 * from each of its positions (quadratic time on a pasted wall of text).
 */
const CODE = /(?<![a-z0-9])[a-z]*\d[a-z0-9]*/gi;
/** Full-width punctuation comes from a Chinese input method: "？", "～", "！". */
const FULL_WIDTH_PUNCTUATION = /[？！，。～：；、「」（）]/u;
/** A pinyin syllable (initial + final), for Chinese typed without an input method ("zhe ge you mei you"). */
const PINYIN_SYLLABLE =
  /^(?:(?:[bpmfdtnlgkhjqxrzcsyw]|zh|ch|sh)(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|ai|ei|ao|ou|an|en|in|un|ia|ie|iu|ua|uo|ui|ve|a|o|e|i|u|v)|a|o|e|ai|ei|ao|ou|an|en|ang|eng|er)$/;
/** Words too common in English to count as pinyin evidence, though they spell a syllable. */
const ENGLISH_LOOKALIKES = new Set([
  'he',
  'me',
  'we',
  'you',
  'an',
  'a',
  'ha',
  'lie',
  'die',
  'pie',
  'tie',
  'hang',
  'bang',
  'long',
  'song',
  'men',
  'ten',
  'pen',
  'then',
  'when',
]);

function englishWords(text: string): string[] {
  return (
    text
      .replace(MEDIA_PLACEHOLDER, ' ')
      .replace(CODE, ' ')
      .toLowerCase()
      .match(/[a-z][a-z']+|[a-z]/g) ?? []
  ).filter((w) => !NEUTRAL_LATIN.test(w));
}

function looksLikePinyin(text: string): boolean {
  const tokens = text.toLowerCase().match(/[a-z]+/g) ?? [];
  if (tokens.length < 3) return false;
  const syllables = tokens.filter((t) => PINYIN_SYLLABLE.test(t));
  const distinct = syllables.filter((t) => !ENGLISH_LOOKALIKES.has(t));
  return syllables.length >= tokens.length * 0.85 && distinct.length >= 2;
}

/** Links and e-mail addresses: "item.htm?id=…" is neither English words nor a script. */
// The address part starts only where a run of its characters starts: linear on a long run.
const LINK_OR_EMAIL = /\b(?:https?:\/\/|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+/giu;
export const withoutLinks = (text: string): string => text.replace(LINK_OR_EMAIL, ' ');
/** The text holds a link (a buyer pointing at a product page). */
export const hasLink = (text: string): boolean => withoutLinks(text) !== text;

const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/gu;
const HANGUL = /\p{Script=Hangul}/gu;
/**
 * Japanese or Korean: kana at least as many as the Han characters (a Taiwanese "の" in
 * "我の最愛" is not enough), or Hangul. Its Han characters do not make it Chinese, and
 * its script is not one a reply is written in: the conversation or the shop decides.
 */
function isOtherLanguage(text: string): boolean {
  const kana = text.match(KANA)?.length ?? 0;
  if (kana >= 3 && kana >= countScripts(text).han) return true;
  return (text.match(HANGUL)?.length ?? 0) >= 2;
}

/**
 * The language a message is written in by itself, or null ("？"-free emoji,
 * "ok", an order id). Chinese when it has two Han characters or more ("OK 我要了",
 * "the 32 inch one 还有 stock 吗"), or one that outweighs the Latin letters
 * ("XL码"); when it is pinyin; when full-width punctuation shows a Chinese
 * input method ("AirPods Pro 2？", "hello～"). English when real English words remain.
 */
export const ownLanguage = memoText((raw: string): 'zh' | 'en' | null => {
  const text = withoutLinks(raw);
  if (isOtherLanguage(text)) return null;
  const counts = countScripts(text);
  if (counts.han >= 2 || (counts.han > 0 && counts.han * 4 >= counts.latin)) return 'zh';
  const words = englishWords(text);
  if (looksLikePinyin(text)) return 'zh';
  if (FULL_WIDTH_PUNCTUATION.test(text) && words.length <= 3) return 'zh';
  if (words.length > 0 && words.join('').length >= 2) return 'en';
  return counts.han > 0 ? 'zh' : null;
});

/**
 * The Chinese script a message shows by itself, or null when it only uses shared characters
 * ("好的"). Both readings are remembered per text: every suggestion resolves the locale from
 * the whole recent history.
 */
export const ownScript = memoText((raw: string): 'zh-Hans' | 'zh-Hant' | null => {
  const text = withoutLinks(raw);
  if (isOtherLanguage(text)) return null;
  const counts = countScripts(text);
  if (counts.traditionalOnly > counts.simplifiedOnly) return 'zh-Hant';
  if (counts.simplifiedOnly > counts.traditionalOnly) return 'zh-Hans';
  return null;
});

/**
 * The reply locale for a conversation:
 * - language: the latest buyer message written in a language of its own
 *   (an English "ok" after Chinese questions stays Chinese); else the agent's
 *   latest such message; else the shop default; else Chinese;
 * - Chinese script: the latest buyer message that shows one, else the agent's,
 *   else the shop default when it is Chinese, else Simplified.
 * So "？" in a Chinese conversation or shop never gets an English answer.
 */
export function resolveLocale(history: readonly ChatMessage[], shopDefault?: Locale): Locale {
  const newestFirst = [...history].reverse();
  const buyer = newestFirst.filter((m) => m.from === 'buyer');
  const agent = newestFirst.filter((m) => m.from === 'agent');
  const languageOf = (messages: readonly ChatMessage[]) => {
    for (const m of messages) {
      const language = ownLanguage(m.text);
      if (language) return language;
    }
    return null;
  };
  const language =
    languageOf(buyer) ??
    languageOf(agent) ??
    (shopDefault === 'en' ? 'en' : shopDefault ? 'zh' : null) ??
    'en';
  if (language === 'en') return 'en';
  for (const m of [...buyer, ...agent]) {
    const script = ownScript(m.text);
    if (script) return script;
  }
  return shopDefault && shopDefault !== 'en' ? shopDefault : 'zh-Hans';
}

/** Time zones whose shops write Traditional Chinese by default (lower case). */
const TRADITIONAL_ZONES = new Set(['asia/taipei', 'asia/hong_kong', 'asia/macau', 'asia/macao']);
/** Time zones whose shops write Simplified Chinese by default (lower case). */
const SIMPLIFIED_ZONES = new Set([
  'asia/shanghai',
  'asia/chongqing',
  'asia/harbin',
  'asia/urumqi',
  'prc',
]);

/**
 * A shop's default reply locale: its `settings.locale`, else its time zone
 * (Taiwan, Hong Kong, Macau shops write Traditional; mainland shops
 * Simplified); undefined for other zones (the conversation decides alone).
 */
export function shopDefaultLocale(
  setting: Locale | undefined,
  timezone: string,
): Locale | undefined {
  if (setting) return setting;
  // Zone names compared in lower case: shops saved before names were stored canonically
  // may hold 'asia/taipei'.
  const zone = timezone.toLowerCase();
  if (TRADITIONAL_ZONES.has(zone)) return 'zh-Hant';
  if (SIMPLIFIED_ZONES.has(zone)) return 'zh-Hans';
  return undefined;
}

/**
 * The buyer's language and script from their messages alone (kept for callers
 * that have no conversation): see resolveLocale.
 */
export function detectLocale(buyerTexts: readonly string[]): Locale {
  return resolveLocale(buyerTexts.map((text) => ({ from: 'buyer', text })));
}

/** Whether `text` is written in `locale`'s language and script: Chinese replies are Chinese, in the right script; English ones have no Han. */
export function isInLocaleScript(text: string, locale: Locale): boolean {
  return inLocaleScript(locale, text);
}
/** Remembered per locale and text: every draft is checked, and drafts come from templates. */
const inLocaleScript = memoTextPer((locale: Locale, text: string): boolean => {
  if (locale !== 'en' && countScripts(text).han === 0) return false;
  return foreignScriptCharacters(text, locale).length === 0;
});

/** Characters in `text` that do not belong to `locale`'s script (for the Chinese locales) or any Han at all (for en). */
export function foreignScriptCharacters(text: string, locale: Locale): string[] {
  const out: string[] = [];
  for (const ch of text) {
    if (locale === 'zh-Hans' && TRADITIONAL_ONLY.has(ch)) out.push(ch);
    else if (locale === 'zh-Hant' && SIMPLIFIED_ONLY.has(ch)) out.push(ch);
    else if (locale === 'en' && HAN.test(ch)) out.push(ch);
  }
  return out;
}
