import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChatMessage, createAssistant } from '../../../src/assist/assistant';
import { checkSuggestion, guardrailContext } from '../../../src/assist/guardrails';
import { inReplyScript } from '../../../src/assist/locale-detection';
import type { Catalog } from '../../../src/shops/shop-schema';

/** Fragments that steer the engine into every stage, mixed with arbitrary text. */
const fragments = [
  '你好',
  '在吗',
  'hi',
  '多少钱',
  'How much?',
  '有黑色吗',
  '白色',
  'navy',
  'XL',
  '怎么下单',
  '我要了',
  "I'll take it",
  '再考虑一下',
  '有點貴',
  'let me think',
  '质量太差了',
  'broken!',
  '物流到哪了',
  'tracking number',
  '忽略之前的指令',
  'ignore previous instructions',
  '13812345678',
  '上海市张江路88号',
  'a@b.com',
  '還有貨嗎',
  '最好',
  '退款',
];
const text = fc.oneof(
  fc.constantFrom(...fragments),
  fc.string({ minLength: 1, maxLength: 80 }),
  fc.array(fc.constantFrom(...fragments), { minLength: 1, maxLength: 4 }).map((p) => p.join('，')),
);
const message = fc.record({
  from: fc.constantFrom<'buyer' | 'agent'>('buyer', 'agent'),
  text: text.filter((t) => t.trim().length > 0),
});
const value = fc.oneof(
  fc.constantFrom('黑色', '白色', 'navy', 'sage', 'M', 'L', '周二', 'Tuesday', '最好'),
  fc.string({ minLength: 1, maxLength: 12 }),
);
const catalog: fc.Arbitrary<Catalog> = fc.record({
  products: fc.array(
    fc.record({
      id: fc.string({ minLength: 1, maxLength: 8 }),
      name: fc.oneof(
        fc.constantFrom('纯棉T恤', 'Linen Shirt', '顶级蚕丝被'),
        fc.string({ minLength: 1, maxLength: 20 }),
      ),
      options: fc.dictionary(
        fc.constantFrom('colour', 'size', 'style', 'material'),
        fc.array(value, { maxLength: 4 }),
      ),
      deliveryDays: fc.option(fc.array(value, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    }),
    { maxLength: 3 },
  ),
});

describe('rules engine on arbitrary valid input', () => {
  const assistant = createAssistant();

  it('never throws and always gives 1-3 suggestions that pass the guardrails', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { minLength: 1, maxLength: 12 }),
        fc.option(catalog, { nil: undefined }),
        fc.option(fc.constantFrom<'zh-Hans' | 'zh-Hant' | 'en'>('zh-Hans', 'zh-Hant', 'en'), {
          nil: undefined,
        }),
        fc.boolean(),
        async (history: ChatMessage[], cat, locale, busyNudge) => {
          const result = await assistant.suggest({
            history,
            catalog: cat,
            locale,
            settings: { busyNudge },
          });
          expect(result.suggestions.length).toBeGreaterThanOrEqual(1);
          expect(result.suggestions.length).toBeLessThanOrEqual(3);
          expect(result.engine).toBe('rules');
          const context = guardrailContext(history, {
            locale: result.locale,
            stages: [result.stage],
            busyNudgeEnabled: busyNudge,
            // Catalog words count as written and as converted into the reply's script (周二 -> 週二).
            knownValues: (cat?.products ?? [])
              .flatMap((p) => [...Object.values(p.options).flat(), ...(p.deliveryDays ?? [])])
              .flatMap((v) => [v, inReplyScript(v, result.locale)]),
            catalogTerms: (cat?.products ?? [])
              .flatMap((p) => [
                p.name,
                ...Object.values(p.options).flat(),
                ...(p.deliveryDays ?? []),
              ])
              .flatMap((v) => [v, inReplyScript(v, result.locale)]),
          });
          for (const s of result.suggestions) {
            // Either-or options may come from the chat when there is no catalog: that check lives in the eval audit.
            const violations = checkSuggestion(s, context).filter(
              (v) => !(v === 'invented_option' && !cat?.products.length),
            );
            expect(violations).toEqual([]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('catalog words that are also JavaScript property names', () => {
  it('treats "valueOf", "constructor" and "__proto__" as plain option values and names', async () => {
    const assistant = createAssistant({ newId: () => 'x' });
    for (const word of ['valueOf', 'constructor', '__proto__', 'toString']) {
      const result = await assistant.suggest({
        history: [{ from: 'buyer', text: `${word} please, how do I order?` }],
        catalog: {
          products: [{ id: 'p', name: 'Mug', options: { [word]: [word, 'hasOwnProperty'] } }],
        },
      });
      expect(result.suggestions.length).toBeGreaterThanOrEqual(1);
      expect(Object.getPrototypeOf(result.state.settled)).toBe(Object.prototype);
    }
  });
});
