import { describe, expect, it } from 'vitest';
import { createAssistant } from '../../../src/assist/assistant';
import {
  assistInputOf,
  BLIND_CHECK_URL,
  BLIND10_CHECK_URL,
  BLIND10_SET_NAME,
  BLIND10_SET_URL,
  type CorpusItem,
  loadBlindSet,
} from '../../../src/assist/corpus';
import { auditResult } from '../../../src/assist/eval-set';
import { templatesFor } from '../../../src/assist/lexicon';
import { isInLocaleScript } from '../../../src/assist/locale-detection';
import { findPersonalData } from '../../../src/assist/personal-data';
import {
  type AssistInput,
  type AssistResult,
  CLOSING_TACTICS,
  type Locale,
} from '../../../src/assist/vocabulary';

/**
 * Round nine's blind set (test/fixtures/assist/blind-round9.jsonl): 60 buyer conversations
 * written without looking at the corpus and never trained on, with the awkward inputs buyers
 * really send (emoji only, a bare order number, a pasted link, a voice note, a photo, capitals,
 * a long rant, an address and phone in the message, a demand for a promised refund or date,
 * Japanese and Malay), and 20 more written after the fixes (blind-round9-check.jsonl, Korean
 * among them). Round ten's set (blind-round10.jsonl) adds 60 more on other goods and situations
 * (expiry dates, car-part fitment, top-ups, bookings, wholesale quotes, customs duty, a buyer
 * asking for the agent's WeChat, Thai and Vietnamese buyers, pinyin), and 20 written after its
 * fixes (blind-round10-check.jsonl). These tests hold the
 * guarantees every answer must keep, whatever the reader makes of a conversation, not its
 * per-conversation labels (stage, intent).
 */
const blind = loadBlindSet().items;
const check = loadBlindSet(BLIND_CHECK_URL).items;
const round10 = loadBlindSet(BLIND10_SET_URL, BLIND10_SET_NAME).items;
const check10 = loadBlindSet(BLIND10_CHECK_URL, BLIND10_SET_NAME).items;

/** The committed reader, as in production; every answer once without and once with the busy nudge. */
const assistant = createAssistant({ newId: () => 'id' });
async function answers(): Promise<
  Array<{ item: CorpusItem; input: AssistInput; result: AssistResult }>
> {
  const out = [];
  for (const item of [...blind, ...check, ...round10, ...check10])
    for (const busyNudge of [false, true]) {
      const base = assistInputOf(item);
      const input = { ...base, settings: { ...base.settings, busyNudge } };
      out.push({ item, input, result: await assistant.suggest(input) });
    }
  return out;
}

/** The reply templates that push towards ordering: never for a buyer who is complaining. */
const orderingPushes = (locale: Locale): string[] => {
  const t = templatesFor(locale);
  return [t.answer.will_buy, t.answer.asks_how_to_order, t.busyNudge];
};
/** "好的，{choice}已为您记下～…" and its kin: the words around the slot of a confirmed choice. */
function confirmsChoice(text: string, locale: Locale): boolean {
  const [before = '', after = ''] = templatesFor(locale).answer.confirm_choice.split('{choice}');
  return text.startsWith(before) && text.endsWith(after);
}

describe('unseen conversations (round nine and round ten blind sets)', () => {
  it('is a blind set of 60 conversations over every stage and the three reply locales', () => {
    expect(blind).toHaveLength(60);
    expect(check).toHaveLength(20);
    expect(new Set([...blind, ...check].map((i) => i.id)).size).toBe(80);
    expect(new Set(blind.map((i) => i.expected.stage)).size).toBe(6);
    expect(new Set(blind.map((i) => i.expected.locale))).toEqual(
      new Set(['zh-Hans', 'zh-Hant', 'en']),
    );
  });

  it('has round ten’s 60 conversations, none shared with round nine, over every stage and locale', () => {
    expect(round10).toHaveLength(60);
    expect(check10).toHaveLength(20);
    expect(new Set([...blind, ...check, ...round10, ...check10].map((i) => i.id)).size).toBe(160);
    expect(new Set(round10.map((i) => i.expected.stage)).size).toBe(6);
    expect(new Set(round10.map((i) => i.expected.locale))).toEqual(
      new Set(['zh-Hans', 'zh-Hant', 'en']),
    );
  });

  it('answers every conversation in the buyer’s language and script, within the guardrails', async () => {
    const problems: string[] = [];
    for (const { item, input, result } of await answers()) {
      if (result.locale !== item.expected.locale)
        problems.push(`${item.id}: replied in ${result.locale}`);
      for (const s of result.suggestions)
        if (!isInLocaleScript(s.text, result.locale))
          problems.push(`${item.id}: "${s.text}" is not in ${result.locale}`);
      // The checker on every suggestion, plus independent checks: 您, personal data, real options.
      for (const p of auditResult(input, result, item.expected.stage))
        problems.push(`${item.id}: ${p}`);
    }
    expect(problems).toEqual([]);
  });

  it('never echoes the buyer’s phone, address or e-mail, nor leaves a slot or a list unfilled', async () => {
    const problems: string[] = [];
    for (const { item, input, result } of await answers()) {
      const personal = input.history.flatMap((m) => findPersonalData(m.text).map((p) => p.value));
      const digits = personal.map((v) => v.replace(/\D/g, '')).filter((d) => d.length >= 6);
      for (const s of result.suggestions) {
        if (personal.some((v) => s.text.includes(v)) || digits.some((d) => s.text.includes(d)))
          problems.push(`${item.id}: echoes personal data: ${s.text}`);
        if (/[{}]|undefined|null|NaN|\[object/.test(s.text))
          problems.push(`${item.id}: unfilled template: ${s.text}`);
        if (/([，。！？、,.!?])\1|[，。、][，。！？]/u.test(s.text.replace(/\.\.\./g, '')))
          problems.push(`${item.id}: doubled punctuation: ${s.text}`);
        // An English list separator inside a Chinese reply is a list filled in the wrong language.
        if (result.locale !== 'en' && /\p{Script=Han}[^\s,]*, /u.test(s.text))
          problems.push(`${item.id}: English list in a Chinese reply: ${s.text}`);
      }
      if (new Set(result.suggestions.map((s) => s.text)).size !== result.suggestions.length)
        problems.push(`${item.id}: two suggestions share a text`);
    }
    expect(problems).toEqual([]);
  });

  it('never pushes a sale on a buyer who complains: no closing tactic, no "just place the order"', async () => {
    const problems: string[] = [];
    for (const { item, result } of await answers()) {
      const complaining = item.expected.stage === 'complaint' || result.stage === 'complaint';
      if (!complaining) continue;
      for (const s of result.suggestions) {
        if (CLOSING_TACTICS.includes(s.tactic)) problems.push(`${item.id}: ${s.tactic}`);
        if (orderingPushes(result.locale).includes(s.text))
          problems.push(`${item.id}: ordering push: ${s.text}`);
        if (confirmsChoice(s.text, result.locale))
          problems.push(`${item.id}: confirms a choice: ${s.text}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('confirms a choice only when the buyer made one', async () => {
    const problems: string[] = [];
    for (const { item, result } of await answers()) {
      const confirms = result.suggestions.some((s) => confirmsChoice(s.text, result.locale));
      if (confirms && Object.keys(item.expected.settled).length === 0)
        problems.push(`${item.id}: confirms a choice the buyer never made`);
    }
    expect(problems).toEqual([]);
  });
});
