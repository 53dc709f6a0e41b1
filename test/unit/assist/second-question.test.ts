import { describe, expect, it } from 'vitest';
import { createAssistant } from '../../../src/assist/assistant';
import { checkSuggestion, MAX_REPLY_CHARS } from '../../../src/assist/guardrails';
import { templatesFor } from '../../../src/assist/lexicon';
import { LOCALES, type Locale } from '../../../src/assist/vocabulary';

/** A buyer who asks two things in one message gets both taken up in the answer. */
const assistant = createAssistant();

async function answerTo(text: string): Promise<string> {
  const result = await assistant.suggest({ history: [{ from: 'buyer', text }] });
  const answer = result.suggestions.find((s) => s.tactic === 'answer');
  expect(answer, `an answer to ${text}`).toBeDefined();
  return answer!.text;
}

const also = (locale: Locale) => templatesFor(locale).also;
type Topic = 'asks_price' | 'asks_stock' | 'asks_delivery' | 'asks_payment';

describe('a second question in the same message', () => {
  it.each<[string, Locale, Topic, Topic]>([
    ['有货吗？几天能到？', 'zh-Hans', 'asks_stock', 'asks_delivery'],
    [
      '老板 这个 protein powder 寄去 KL 要几天？有 COD 吗',
      'zh-Hans',
      'asks_delivery',
      'asks_payment',
    ],
    ['三包幾錢？寄澳門另計？', 'zh-Hant', 'asks_price', 'asks_delivery'],
    ['How much is it? And do you have it in stock?', 'en', 'asks_stock', 'asks_price'],
  ])('%s: one answered, the other in a clause of its own', async (text, locale, a, b) => {
    const reply = await answerTo(text);
    // Which comes first is the reader's call; each is either the answer or the added clause.
    const answers = (topic: Topic) =>
      reply.includes(templatesFor(locale).answer[topic].split('{product}').at(-1)!.slice(0, 6));
    const added = (topic: Topic) => reply.includes(also(locale)[topic]);
    expect((answers(a) && added(b)) || (answers(b) && added(a))).toBe(true);
  });

  it.each<[string, Locale]>([
    ['这个炒锅电磁炉能用吗？还有寄到北京要几天', 'zh-Hans'],
    ['洗完會唔會縮水？可唔可以機洗', 'zh-Hant'],
    ['how long to Calgary? and does it come assembled?', 'en'],
  ])('%s: a second question with no topic of its own is taken up too', async (text, locale) => {
    expect(await answerTo(text)).toContain(also(locale).other);
  });

  it('keeps an answer that ends by asking ending with its question', async () => {
    const reply = await answerTo('How much is it? Is it waterproof?');
    expect(reply).toBe(
      `${templatesFor('en').answer.asks_price.replace('{product}', 'this item').replace(" Anything else you'd like to know?", '')} ${also('en').other} Anything else you'd like to know?`,
    );
  });

  it.each([
    // One question, or one and a greeting, a lone mark, a link's "?", a remark.
    '有货吗？？',
    '在吗？有货吗？',
    'https://item.taobao.com/item.htm?id=123456 这个还有货吗',
    'is the linen cover washable? we have a toddler who puts everything in her mouth lol',
    '大概幾天到？家裡剩沒幾片了',
    // A buyer weighing the price asks rhetorically: no "your other question".
    '一个毛巾卖39？金子做的？',
    'Temu sell same one rm29 only, you rm59?? can cheaper or not',
    // A discount asked beside the price: any clause would promise an offer.
    '多少钱？有优惠吗？',
    'How much is it? Any discount?',
  ])('%s: nothing added', async (text) => {
    const reply = await answerTo(text);
    const clauses = (['en', 'zh-Hans', 'zh-Hant'] as const).flatMap((l) => Object.values(also(l)));
    expect(clauses.filter((c) => reply.includes(c))).toEqual([]);
  });

  it('leaves the clause out rather than make the answer too long to show', async () => {
    // The answer alone fits (112 of 120 characters); with the clause it would not, and a
    // reply too long is dropped by the guardrails: the buyer would get no answer at all.
    const product = '长'.repeat(90);
    const result = await assistant.suggest({
      history: [{ from: 'buyer', text: `${product}有货吗？几天能到？` }],
      catalog: { products: [{ id: 'p', name: product, options: {} }] },
    });
    const answer = result.suggestions.find((s) => s.tactic === 'answer');
    expect(answer?.text).toContain(product);
    expect([...answer!.text].length).toBeLessThanOrEqual(MAX_REPLY_CHARS['zh-Hans']);
    expect(answer!.text).not.toContain(also('zh-Hans').asks_stock);
  });

  it.each(LOCALES)('%s: every answer with every clause keeps the guardrails', (locale) => {
    const t = templatesFor(locale);
    const broken: string[] = [];
    for (const answer of Object.values(t.answer))
      for (const clause of Object.values(t.also)) {
        const text = `${answer.replaceAll('{product}', t.productFallback)}${locale === 'en' ? ' ' : ''}${clause}`;
        if ([...text].length > MAX_REPLY_CHARS[locale]) continue; // left out, as tested above
        const violations = checkSuggestion(
          { tactic: 'answer', text },
          {
            locale,
            stages: ['browsing'],
            busyNudgeEnabled: false,
            knownValues: [],
            catalogTerms: [],
            allowedDomains: [],
            closingAllowed: true,
            buyerPersonalData: [],
          },
        );
        if (violations.length > 0) broken.push(`${violations.join(',')}: ${text}`);
      }
    expect(broken).toEqual([]);
  });
});
