import { memoText } from './text-memo';
/**
 * Recognisers for personal data a buyer may type into a chat: phone numbers,
 * mainland ID numbers, e-mail addresses and street addresses (zh and en).
 * Used to redact text before it reaches an LLM or a log line, and by the
 * guardrails to make sure no suggestion echoes such data.
 *
 * Regexes, not a model: like Presidio, they cannot promise to find
 * everything, so they lean towards over-redaction.
 */

export type PersonalDataKind = 'id_number' | 'email' | 'phone' | 'address';

const CN_DIGIT = '[0-9一二三四五六七八九十百零]';
/**
 * Between the digit groups of a phone number: spaces, dots, and every dash an
 * IME types (full-width －, em dash —...), which buyers use as often as '-'.
 */
const SEP = '[\\s.\\-‐‑‒–—―－]';
/** A number that follows a letter, a digit or a dash is part of a code, not a phone number. */
const CODE_START = '(?<![0-9A-Za-z-])';
/**
 * Nor one that an order, tracking or style label names (订单号0412345678, order #…,
 * 单号：…), however the buyer spaced the label from it. A bare "No." or "#" is no such
 * label: "Contact No. 0917-123-4567" is a phone number.
 */
const NOT_A_CODE = `${CODE_START}(?<!(?:单号|單號|订单|訂單|编号|編號|款号|款號|(?:[Oo]rder|ORDER|[Tt]racking|TRACKING|[Ii]nvoice|INVOICE)\\s*(?:[Nn]o\\.?|NO\\.?|[Nn]umber|#)?)\\s*[:：#]?\\s*)`;
const CODE_END = '(?![0-9A-Za-z-])';

/** Order matters: ID numbers before phones (an ID holds phone-like runs), e-mails before phones. */
const RECOGNISERS: ReadonlyArray<{ kind: PersonalDataKind; pattern: RegExp }> = [
  // Mainland resident ID: 6-digit area, birth date 18xx-20xx, 3-digit sequence, check digit or X.
  {
    kind: 'id_number',
    pattern:
      /(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])/g,
  },
  // Anchored at the start of a run of address characters, so a long run without '@' is scanned once, not once per character.
  {
    kind: 'email',
    pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g,
  },
  // Chinese mobiles, optionally with +86/0086 (＋86 typed full-width) and separators: 1[3-9]x xxxx xxxx.
  {
    kind: 'phone',
    pattern: new RegExp(
      `(?<!\\d)(?:(?:[+＋]|00)86${SEP}?)?1[3-9]\\d${SEP}?\\d{4}${SEP}?\\d{4}(?!\\d)`,
      'g',
    ),
  },
  // International form: +country code then 6-14 more digits in groups.
  {
    kind: 'phone',
    pattern: new RegExp(`[+＋]\\d{1,3}(?:${SEP}?[(（]?\\d{1,4}[)）]?){2,5}(?!\\d)`, 'g'),
  },
  // Taiwan mobiles 09xx-xxx-xxx.
  {
    kind: 'phone',
    pattern: new RegExp(`(?<!\\d)09\\d{2}${SEP}?\\d{3}${SEP}?\\d{3}(?!\\d)`, 'g'),
  },
  // Mainland landlines: area code 0xx(x), in brackets or not, then 7-8 digits in one or two
  // groups, or all run together (010-12345678, (010)12345678, 010 1234 5678, 01012345678);
  // not inside a tracking or order code (JT0099812334) nor named by one's label.
  {
    kind: 'phone',
    pattern: new RegExp(
      `${NOT_A_CODE}(?:0\\d{2,3}|[(（]0\\d{2,3}[)）])${SEP}?\\d{3,4}${SEP}?\\d{4}${CODE_END}`,
      'g',
    ),
  },
  // National forms with a trunk 0 and no country code, as buyers in the UK, Australia and the
  // Philippines write them: 07700 900123, 0161 496 0000, 0412 345 678, 0917-123-4567, (02) 9876 5432,
  // and unspaced mobiles 07xxxxxxxxx (UK), 09xxxxxxxxx (PH), 04xxxxxxxx (AU). Not inside a code
  // (JT0412345678) nor right after an order or tracking label (订单号0412345678, order #…).
  {
    kind: 'phone',
    pattern: new RegExp(`${NOT_A_CODE}0[1-9]\\d{3}[\\s-]\\d{6}${CODE_END}`, 'g'),
  },
  {
    kind: 'phone',
    pattern: new RegExp(`${NOT_A_CODE}0[1-9]\\d{2,3}[\\s-]\\d{3}[\\s-]\\d{3,4}${CODE_END}`, 'g'),
  },
  {
    kind: 'phone',
    pattern: new RegExp(
      `${NOT_A_CODE}(?:\\(0[2-9]\\)\\s?|0[2-9][\\s-])\\d{4}[\\s-]?\\d{4}${CODE_END}`,
      'g',
    ),
  },
  {
    kind: 'phone',
    pattern: new RegExp(`${NOT_A_CODE}0(?:7\\d{9}|9\\d{9}|4\\d{8})${CODE_END}`, 'g'),
  },
  // Indian mobiles in two groups of five, spaced: 98765 43210 (a dash is a range: 60000-80000元).
  {
    kind: 'phone',
    pattern: new RegExp(
      `${NOT_A_CODE}[6-9]\\d{4} \\d{5}${CODE_END}(?!\\s?(?:元|块|塊|円|₹|Rs))`,
      'g',
    ),
  },
  // Hong Kong and Macau 8-digit numbers as usually written, in two groups of four.
  { kind: 'phone', pattern: /(?<!\d)[2-9]\d{3}[\s-]\d{4}(?![\d-])/g },
  // North American style (415) 555-0123 / 415-555-0123.
  { kind: 'phone', pattern: /(?<!\d)\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\d)/g },
  // zh street address: a run of Han characters ending in a road/street word, then a house number.
  {
    kind: 'address',
    pattern: new RegExp(
      `[\\u4e00-\\u9fff0-9]{0,24}(?:路|街|道|巷|弄|胡同|村)(?:(?:${CN_DIGIT}+|[东南西北中東])段)?(?:${CN_DIGIT}+(?:巷|弄))*\\s?${CN_DIGIT}+(?:号|號)` +
        `(?:[0-9A-Za-z-]*(?:栋|棟|幢|楼|樓|单元|單元|室|层|層|座|F))*[0-9A-Za-z-]*`,
      'g',
    ),
  },
  // zh residential compound: "xx小区3栋502".
  {
    kind: 'address',
    pattern:
      /[\u4e00-\u9fff]{1,15}(?:小区|小區|花园|花園|公寓|大厦|大廈|新村|苑)\d+(?:栋|棟|幢|号楼|號樓)(?:\d+(?:单元|單元))?[0-9-]*(?:室|号|號)?/g,
  },
  // zh building, unit and flat wherever the compound's name is ("现代城5号楼1201室", "A座1501室",
  // "12栋3单元502"): a flat number must follow, so "2座沙发" or "3室1厅" stay, and never a size,
  // a length or a price after it ("3座210长").
  {
    kind: 'address',
    pattern:
      /(?<![0-9A-Za-z])[0-9A-Za-z]{1,4}(?:号楼|號樓|栋|棟|幢)(?:\d{1,2}(?:单元|單元))?(?:\d{1,2}(?:层|層|楼|樓|F))?\d{2,5}(?:室|号|號)?(?![0-9A-Za-z]|cm|mm|米|长|長|宽|寬|高|元|块|塊)/g,
  },
  // "座" is also a sofa's seats and a style code's letter ("T1座2025"): a tower ("A座") counts only
  // with a unit or floor step, or a flat number that says 室 or 号.
  {
    kind: 'address',
    pattern:
      /(?<![0-9A-Za-z])[0-9A-Za-z]{1,4}座(?:(?:\d{1,2}(?:单元|單元|层|層|楼|樓|F))+\d{2,5}(?:室|号|號)?|\d{2,5}(?:室|号|號))/g,
  },
  // A flat number on its own ("T1 1501室").
  { kind: 'address', pattern: /(?<!\d)\d{3,5}室/g },
  // en street address: house number, 1-4 words, a street suffix, optional unit.
  {
    kind: 'address',
    pattern:
      /\b\d{1,5}[A-Za-z]?\s+(?:[A-Za-z][A-Za-z'.-]*\s+){1,4}(?:Street|St|Road|Rd|Avenue|Ave|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|Terrace|Close|Crescent)\b\.?(?:,?\s*(?:Apt|Apartment|Unit|Suite|Flat|#)\s*[\w-]+)?/gi,
  },
];

const PLACEHOLDER: Record<PersonalDataKind, string> = {
  id_number: '[id-number]',
  email: '[email]',
  phone: '[phone]',
  address: '[address]',
};

/** The placeholders redaction leaves behind; a suggestion that repeats one is echoing personal data. */
export const PERSONAL_DATA_PLACEHOLDERS: readonly string[] = Object.values(PLACEHOLDER);

/** Full-width digits (１３８…) are how many IME users type numbers; read them as ASCII, one for one. */
function asciiDigits(text: string): string {
  return text.replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
}

/** Replaces every recognised phone, ID number, e-mail and street address with a placeholder such as `[phone]`. */
export const redactPersonalData = memoText((text: string): string => {
  let out = asciiDigits(text);
  for (const { kind, pattern } of RECOGNISERS) out = out.replace(pattern, PLACEHOLDER[kind]);
  return out;
});

/** Every piece of personal data found in `text`, with its kind (empty when none). */
export function findPersonalData(text: string): Array<{ kind: PersonalDataKind; value: string }> {
  // A copy: callers own the list they get; the memory keeps frozen findings.
  return [...personalDataIn(text)];
}

const personalDataIn = memoText(
  (text: string): ReadonlyArray<Readonly<{ kind: PersonalDataKind; value: string }>> => {
    const found: Array<{ kind: PersonalDataKind; value: string }> = [];
    let rest = asciiDigits(text);
    for (const { kind, pattern } of RECOGNISERS) {
      for (const m of rest.matchAll(pattern)) found.push(Object.freeze({ kind, value: m[0] }));
      // Blank out what was found so a later, looser recogniser does not report it twice.
      rest = rest.replace(pattern, ' ');
    }
    return Object.freeze(found);
  },
);
