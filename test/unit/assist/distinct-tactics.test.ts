import { describe, expect, it } from 'vitest';
import { type AssistInput, type ChatMessage, createAssistant } from '../../../src/assist/assistant';
import { distinctTactics } from '../../../src/assist/rules-engine';
import { CLOSING_TACTICS } from '../../../src/assist/vocabulary';
import type { Catalog } from '../../../src/shops/shop-schema';

const buyer = (text: string): ChatMessage => ({ from: 'buyer', text });

const tee: Catalog = {
  products: [
    {
      id: 'tee',
      name: '纯棉T恤',
      options: { colour: ['黑色', '白色', '浅灰色'], size: ['S', 'M', 'L'] },
      deliveryDays: ['周二', '周三'],
    },
  ],
};

let counter = 0;
const lexicons = createAssistant({ newId: () => `l-${(counter += 1)}`, reader: null });
const learned = createAssistant({ newId: () => `m-${(counter += 1)}` });

const distinct = (tactics: string[]) => new Set(tactics).size === tactics.length;

describe('suggestions of different tactics', () => {
  it('a complaint gets empathy first, then a different, non-closing step on the order', async () => {
    for (const assistant of [lexicons, learned]) {
      const r = await assistant.suggest({ history: [buyer('收到的衣服破了个洞，太失望了')] });
      expect(r.stage).toBe('complaint');
      const tactics = r.suggestions.map((s) => s.tactic);
      expect(tactics[0]).toBe('empathy');
      expect(tactics.length).toBeGreaterThanOrEqual(2);
      expect(distinct(tactics)).toBe(true);
      expect(tactics.some((t) => CLOSING_TACTICS.includes(t))).toBe(false);
      expect(r.suggestions[1]?.text).toMatch(/订单号/);
    }
  });

  it('a complaint that already names an order is not asked for the number again', async () => {
    const r = await lexicons.suggest({
      history: [buyer('订单 20261128001 收到的衣服破了个洞，太失望了')],
    });
    expect(r.stage).toBe('complaint');
    expect(r.suggestions.some((s) => /订单号/.test(s.text))).toBe(false);
    expect(r.suggestions.some((s) => CLOSING_TACTICS.includes(s.tactic))).toBe(false);
  });

  it('a pre-sale question gets distinct tactics, the answer first', async () => {
    const input: AssistInput = { history: [buyer('这件T恤多少钱？')], catalog: tee };
    for (const assistant of [lexicons, learned]) {
      const r = await assistant.suggest(input);
      const tactics = r.suggestions.map((s) => s.tactic);
      expect(tactics[0]).toBe('answer');
      expect(distinct(tactics)).toBe(true);
      expect(new Set(r.suggestions.map((s) => s.text)).size).toBe(r.suggestions.length);
    }
  });

  it('low confidence never gets a pitch, even with the choice of tactics', async () => {
    const r = await lexicons.suggest({ history: [buyer('嗯嗯')], catalog: tee });
    expect(r.suggestions.some((s) => CLOSING_TACTICS.includes(s.tactic))).toBe(false);
    expect(new Set(r.suggestions.map((s) => s.text)).size).toBe(r.suggestions.length);
  });
});

describe('distinctTactics', () => {
  const d = (tactic: 'answer' | 'empathy' | 'help_choose', text: string) => ({ tactic, text });

  it('keeps the first, then the next best other tactics, up to three', () => {
    const got = distinctTactics([
      d('empathy', 'e1'),
      d('empathy', 'e2'),
      d('answer', 'a1'),
      d('answer', 'a2'),
      d('help_choose', 'h1'),
    ]);
    expect(got.map((s) => s.text)).toEqual(['e1', 'a1', 'h1']);
  });

  it('keeps a second reply of the same tactic only when no other tactic applies', () => {
    expect(distinctTactics([d('answer', 'a1'), d('answer', 'a2')]).map((s) => s.text)).toEqual([
      'a1',
      'a2',
    ]);
    expect(distinctTactics([d('answer', 'a1')]).map((s) => s.text)).toEqual(['a1']);
  });
});
