import { namesValue } from './catalog-options';
import { bannedWording, lexicon, matches, matchesOf } from './lexicon';
import { isInLocaleScript } from './locale-detection';
import { findPersonalData, PERSONAL_DATA_PLACEHOLDERS } from './personal-data';
import { memoText } from './text-memo';
import {
  type ChatMessage,
  CLOSING_TACTICS,
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
  | 'deep_link'
  | 'sensitive_request'
  | 'closing_not_allowed'
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
  /** The shop's own domains: the only ones a link may point at (none by default). */
  allowedDomains?: readonly string[];
  /** The tactic policy's verdict: false forbids closing tactics (no buying evidence, or trouble). */
  closingAllowed?: boolean;
}

/**
 * Links in any form. Model output is untrusted: a link can phish, leak or
 * pull a buyer off the platform, so only the shop's own domains may appear.
 */
const SCHEME_URL = /\b([a-z][a-z0-9+.-]{1,20}):\/\/([^\s/?#<>"'，。]*)/giu;
/** Script and data URLs need no "//" to run. */
const DANGEROUS_SCHEME = /\b(?:javascript|data|vbscript|file|intent|blob)\s*:/iu;
/** Messenger and payment apps: deep links or short links that open a chat or a payment off the platform. */
const DEEP_LINK =
  /\b(?:weixin|wechat|alipays?|mqq|tg|whatsapp|line|taobao|tmall|openapp\.jdmobile|pinduoduo|snssdk\d*|paypal|venmo|cashapp|zoommtg)\s*:|\b(?:t\.me|wa\.me|line\.me|lin\.ee|telegram\.me|qm\.qq\.com|u\.wechat\.com|paypal\.me|cash\.app|venmo\.com|m\.me|chat\.whatsapp\.com)\b/iu;
const MARKDOWN_LINK = /!\[|\]\(/;
/** "example dot com", "example[.]com", "example 点 com": the dot spelled out to slip past a filter. */
const OBFUSCATED_DOT =
  /\s*(?:\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\}|\bdot\b|点|點|。|．|\s\.\s)\s*/giu;
const TLDS =
  'com|net|org|info|biz|io|co|me|ly|app|dev|shop|store|online|site|xyz|top|vip|club|link|live|page|cloud|tech|ai|to|gl|gd|cc|tk|ml|ga|cf|gq|cn|hk|tw|mo|sg|my|jp|kr|uk|us|au|ca|in|ph|ru|de|fr|it|es|nl|eu|asia|tv|fm|so|im|gg|be|ch|vn|th|id|nz|ie|se|no|pl|br|mx|ar';
// ASCII labels: Chinese text has no spaces, so a domain is told from the words around it by script.
const DOMAIN = new RegExp(
  `(?<![A-Za-z0-9@._-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+(?:${TLDS}))(?![A-Za-z0-9-])`,
  'giu',
);
/** Asking for what no agent may ask for in chat: card numbers, CVV, passwords, codes, bank details. */
const SENSITIVE_REQUEST =
  /卡号|卡號|银行卡号|銀行卡號|信用卡号|信用卡號|银行账号|銀行帳號|銀行賬號|账户号|帳戶號碼|網銀|网银|密码|密碼|验证码|驗證碼|校验码|校驗碼|动态码|動態碼|短信码|簡訊碼|安全码|安全碼|卡的有效期|卡片有效期|\b(?:card (?:number|no\.?|details|info)|(?:credit|debit) card (?:number|details|info)|cvv2?|cvc2?|cv2|security code|card expiry|card expiration|expiry date of (?:your|the) card|passwords?|passcode|pin(?! ?code)(?: number)?|verification code|one[- ]time (?:pass)?code|otp|2fa|login code|sms code|iban|swift code|swift\/bic|bic code|sort code|routing number|account number|bank (?:details|account|login|transfer details)|online banking)\b/iu;

/** Every host a text points at, spelled plainly or obfuscated, full-width folded. */
function hostsIn(text: string): string[] {
  const plain = text.normalize('NFKC');
  const hosts: string[] = [];
  for (const m of plain.matchAll(SCHEME_URL)) hosts.push((m[2] ?? '').toLowerCase());
  const deobfuscated = plain.replace(OBFUSCATED_DOT, '.');
  for (const source of [plain, deobfuscated])
    for (const m of source.matchAll(DOMAIN)) hosts.push((m[1] ?? '').toLowerCase());
  return hosts;
}

function isAllowedHost(host: string, allowed: readonly string[]): boolean {
  const bare = host.replace(/:\d+$/, '').replace(/\.$/, '');
  return allowed.some((d) => {
    const domain = d.toLowerCase();
    return bare === domain || bare.endsWith(`.${domain}`);
  });
}

/** A link to anywhere but the shop's own domains (any scheme, bare domains, obfuscated dots, Markdown). */
function hasForeignLink(text: string, ctx: GuardrailContext): boolean {
  const links = linksIn(text);
  return (
    links === 'foreign' || links.some((host) => !isAllowedHost(host, ctx.allowedDomains ?? []))
  );
}

/**
 * What a text links to: 'foreign' whatever the shop allows (Markdown, a dangerous or non-web
 * scheme), else the hosts it names. Remembered per text: the rules' drafts are written from
 * templates, so the same texts are checked again and again.
 */
const linksIn = memoText((text: string): 'foreign' | readonly string[] => {
  const plain = text.normalize('NFKC');
  if (MARKDOWN_LINK.test(plain) || DANGEROUS_SCHEME.test(plain)) return 'foreign';
  for (const m of plain.matchAll(SCHEME_URL)) {
    const scheme = (m[1] ?? '').toLowerCase();
    if (scheme !== 'https' && scheme !== 'http') return 'foreign';
  }
  return hostsIn(text);
});
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
  if (DEEP_LINK.test(text.normalize('NFKC'))) violations.push('deep_link');
  else if (hasForeignLink(text, ctx)) violations.push('link');
  if (SENSITIVE_REQUEST.test(text.normalize('NFKC'))) violations.push('sensitive_request');
  if (ctx.closingAllowed === false && CLOSING_TACTICS.includes(tactic))
    violations.push('closing_not_allowed');
  if (CLOSING_TACTICS.includes(tactic) && ctx.stages.includes('complaint'))
    violations.push('closing_on_complaint');
  if (tactic === 'busy_nudge' && !ctx.busyNudgeEnabled) violations.push('busy_nudge_disabled');
  if (tactic === 'alternative_close' && inventsOptions(text, ctx))
    violations.push('invented_option');
  return violations;
}
