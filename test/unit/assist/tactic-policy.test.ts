import { describe, expect, it } from 'vitest';
import { createAssistant } from '../../../src/assist/assistant';
import { tacticPolicy } from '../../../src/assist/tactic-policy';
import type { ChatMessage, DialogueState } from '../../../src/assist/vocabulary';

const buyer = (text: string): ChatMessage => ({ from: 'buyer', text });
const state: DialogueState = { settled: {}, given: [], openQuestion: null, mood: 'neutral' };
const base = {
  stage: 'interested' as const,
  intent: 'colour' as const,
  confidence: 0.9,
  complaintProbability: 0.02,
  afterSaleProbability: 0.05,
  sentiment: 'neutral' as const,
  state,
  buyingSignals: true,
  troubleWords: false,
  complaintWordsInLast: false,
};

describe('the tactic safety policy', () => {
  it('allows a closing tactic with buying evidence and no trouble', () => {
    expect(tacticPolicy(base).closingAllowed).toBe(true);
  });

  it.each([
    ['a complaint', { stage: 'complaint' as const }],
    ['a calm after-sale question', { stage: 'after_sale' as const }],
    ['a negative mood', { sentiment: 'negative' as const }],
    ['a real chance of a complaint', { complaintProbability: 0.15 }],
    ['a real chance of an existing order', { afterSaleProbability: 0.4 }],
    ['an order number given', { state: { ...state, given: ['order_number' as const] } }],
    ['complaint words', { troubleWords: true }],
    ['low confidence', { confidence: 0.45 }],
    ['no buying evidence', { buyingSignals: false, intent: 'general' as const }],
    ['a browsing buyer', { stage: 'browsing' as const }],
  ])('forbids closing tactics on %s', (_, change) => {
    expect(tacticPolicy({ ...base, ...change }).closingAllowed).toBe(false);
  });

  it('never prompts to order a pre-sale reading of a message with complaint words and some complaint probability', () => {
    const fault = { ...base, stage: 'ready' as const, complaintWordsInLast: true };
    expect(tacticPolicy({ ...fault, complaintProbability: 0.31 }).mayBeFault).toBe(true);
    expect(tacticPolicy({ ...fault, complaintProbability: 0.02 }).mayBeFault).toBe(false);
    expect(tacticPolicy({ ...base, complaintProbability: 0.31 }).mayBeFault).toBe(false);
    expect(
      tacticPolicy({ ...fault, stage: 'after_sale', complaintProbability: 0.31 }).mayBeFault,
    ).toBe(false);
  });

  it('asks a clarifying question when unsure, never on a complaint', () => {
    expect(tacticPolicy({ ...base, confidence: 0.3 }).clarify).toBe(true);
    expect(tacticPolicy({ ...base, stage: 'complaint', confidence: 0.3 }).clarify).toBe(false);
  });
});

describe('the assistant under the policy (committed model)', () => {
  const assistant = createAssistant({ newId: () => 'x' });

  it('does not apologise for a defect the buyer only asks about before buying', async () => {
    for (const text of [
      '这件会不会掉色？',
      'does this sweater shrink after washing?',
      '呢件會唔會起波？',
    ]) {
      const result = await assistant.suggest({ history: [buyer(text)] });
      expect(result.stage).not.toBe('complaint');
      for (const s of result.suggestions) {
        expect(s.tactic).not.toBe('empathy');
        expect(s.text).not.toMatch(/抱歉|sorry|失望|let you down/i);
      }
    }
  });

  it('meets an angry buyer with empathy first and no pitch', async () => {
    for (const text of [
      '收到的杯子碎了，气死了',
      'My order arrived broken and nobody answers. Terrible.',
    ]) {
      const result = await assistant.suggest({ history: [buyer(text)] });
      expect(result.stage).toBe('complaint');
      expect(result.suggestions[0]?.tactic).toBe('empathy');
      for (const s of result.suggestions)
        expect(['alternative_close', 'help_choose', 'busy_nudge']).not.toContain(s.tactic);
    }
  });

  it('answers "？" in the shop’s language, never English for a Chinese shop', async () => {
    const result = await assistant.suggest({
      history: [buyer('？')],
      settings: { locale: 'zh-Hant' },
    });
    expect(result.locale).toBe('zh-Hant');
  });
});
