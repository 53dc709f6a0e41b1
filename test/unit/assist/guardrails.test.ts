import { describe, expect, it } from 'vitest';
import type { Locale, Tactic } from '../../../src/assist/assistant';
import {
  checkSuggestion,
  type GuardrailContext,
  guardrailContext,
  MAX_REPLY_CHARS,
} from '../../../src/assist/guardrails';
import { templatesFor } from '../../../src/assist/lexicon';
import { LOCALES } from '../../../src/assist/vocabulary';

const context = (overrides: Partial<GuardrailContext> = {}): GuardrailContext => ({
  locale: 'zh-Hans',
  stages: ['interested'],
  busyNudgeEnabled: false,
  knownValues: ['黑色', '白色', 'navy', 'sage'],
  catalogTerms: [],
  buyerPersonalData: [],
  ...overrides,
});
const check = (
  text: string,
  overrides: Partial<GuardrailContext> = {},
  tactic: Tactic = 'answer',
) => checkSuggestion({ text, tactic }, context(overrides));

describe('guardrails', () => {
  // Checks of a text alone are remembered per text (drafts come from templates): the same text
  // must still be judged by each conversation's own locale and the shop's own domains.
  it('judges the same text by each locale and each shop', () => {
    expect(check('您好，這款還有貨')).toContain('wrong_script');
    expect(check('您好，這款還有貨', { locale: 'zh-Hant' })).not.toContain('wrong_script');
    expect(check('您好，這款還有貨')).toContain('wrong_script');
    const link = '详情请看 https://shop.example/item/1';
    expect(check(link, { allowedDomains: ['shop.example'] })).not.toContain('link');
    expect(check(link, { allowedDomains: ['other.example'] })).toContain('link');
    expect(check(link)).toContain('link');
  });

  it('passes a polite, plain reply', () => {
    expect(check('您好，这款有黑色和白色，您喜欢哪种呢？')).toEqual([]);
    expect(check('Hi! It comes in navy and sage.', { locale: 'en' })).toEqual([]);
  });

  it.each([
    ['这是全网最低价哦', 'zh-Hans'],
    ['我们家质量绝对最好', 'zh-Hans'],
    ['国家级工艺，顶级面料', 'zh-Hans'],
    ['销量第一的款式', 'zh-Hans'],
    ['100%纯棉不起球', 'zh-Hans'],
    ['這是全網最低價喔', 'zh-Hant'],
    ['品質絕對頂級', 'zh-Hant'],
    ['This is our best seller', 'en'],
    ['The cheapest you will find', 'en'],
    ['Guaranteed to fit!', 'en'],
  ] as Array<[string, Locale]>)('rejects the absolute claim in %s', (text, locale) => {
    expect(check(text, { locale })).toContain('absolute_claim');
  });

  it('allows everyday phrases that only look like claims', () => {
    expect(check('我会第一时间帮您核实')).toEqual([]);
    expect(check('我會第一時間幫您確認', { locale: 'zh-Hant' })).toEqual([]);
  });

  it.each([
    ['给您退款50元', 'zh-Hans'],
    ['可以给您补偿一张优惠券', 'zh-Hans'],
    ['幫您打九折', 'zh-Hant'],
    ['We will refund you right away', 'en'],
    ['Here is a 10% off coupon', 'en'],
    ['Free shipping on us!', 'en'],
  ] as Array<[string, Locale]>)('rejects the unconfigured promise in %s', (text, locale) => {
    expect(check(text, { locale })).toContain('unconfigured_promise');
  });

  it('rejects 你 in Chinese replies', () => {
    expect(check('你好，有什么可以帮你')).toContain('informal_you');
    expect(check('你好', { locale: 'zh-Hant' })).toContain('informal_you');
  });

  it("rejects replies that echo the buyer's personal data or a redaction placeholder", () => {
    const ctx = guardrailContext(
      [{ from: 'buyer', text: '电话 138 1234 5678，寄到张江路88号' }],
      context(),
    );
    expect(checkSuggestion({ text: '好的，会打您的13812345678', tactic: 'answer' }, ctx)).toContain(
      'personal_data',
    );
    expect(checkSuggestion({ text: '好的，寄到张江路88号', tactic: 'answer' }, ctx)).toContain(
      'personal_data',
    );
    expect(check('我会联系您的 [phone]')).toContain('personal_data');
    expect(check('请发邮件到 a@b.com')).toContain('personal_data');
  });

  it('rejects an echo of a phone number written in national form (UK, Australia, Philippines, India)', () => {
    for (const [typed, echoed] of [
      ['call me on 07700 900123 when it arrives', "Sure, we'll call you on 07700900123."],
      ['mob 0412 345 678', 'Noted, the courier will ring 0412 345 678.'],
      ['my number 0917 123 4567 po', 'Noted po, we will text 0917-123-4567.'],
      ['contact 98765 43210', 'We will call 9876543210 before delivery.'],
    ] as Array<[string, string]>) {
      const ctx = guardrailContext([{ from: 'buyer', text: typed }], context({ locale: 'en' }));
      expect(checkSuggestion({ text: echoed, tactic: 'answer' }, ctx)).toContain('personal_data');
    }
  });

  it('rejects replies longer than one chat message', () => {
    expect(check('您'.repeat(MAX_REPLY_CHARS['zh-Hans'] + 1))).toContain('too_long');
    expect(check('您'.repeat(MAX_REPLY_CHARS['zh-Hans']))).not.toContain('too_long');
    expect(check('a'.repeat(301), { locale: 'en' })).toContain('too_long');
  });

  it('rejects the wrong script, but not catalog names written in the other one', () => {
    expect(check('您好，這款有貨')).toContain('wrong_script');
    expect(check('您好，这款有货', { locale: 'zh-Hant' })).toContain('wrong_script');
    expect(check('您好，这款有货', { locale: 'en' })).toContain('wrong_script');
    expect(check('Sure, I will check that for you.', { locale: 'zh-Hans' })).toContain(
      'wrong_script',
    );
    expect(
      check('纯棉T恤您想要哪種顏色呢', { locale: 'zh-Hant', catalogTerms: ['纯棉T恤'] }),
    ).toEqual([]);
  });

  it('rejects links and Markdown', () => {
    expect(check('详情请看 https://evil.example/x')).toContain('link');
    expect(check('![x](http://a.b/c.png)')).toContain('link');
  });

  it('rejects closing tactics on a complaint seen by either engine', () => {
    const text = '您想要黑色还是白色呢？';
    expect(check(text, { stages: ['complaint'] }, 'alternative_close')).toContain(
      'closing_on_complaint',
    );
    expect(check(text, { stages: ['hesitating', 'complaint'] }, 'alternative_close')).toContain(
      'closing_on_complaint',
    );
    expect(
      check(
        '您慢慢考虑，我先回复其他顾客',
        { stages: ['complaint'], busyNudgeEnabled: true },
        'busy_nudge',
      ),
    ).toContain('closing_on_complaint');
  });

  it('rejects a busy nudge the shop has not enabled', () => {
    expect(check('您慢慢考虑，我先回复其他顾客', { stages: ['hesitating'] }, 'busy_nudge')).toEqual(
      ['busy_nudge_disabled'],
    );
    expect(
      check(
        '您慢慢考虑，我先回复其他顾客',
        { stages: ['hesitating'], busyNudgeEnabled: true },
        'busy_nudge',
      ),
    ).toEqual([]);
  });

  it('rejects an either-or question with an invented option', () => {
    expect(check('您想要黑色还是白色呢？', {}, 'alternative_close')).toEqual([]);
    expect(check('您想要黑色还是红色呢？', {}, 'alternative_close')).toContain('invented_option');
    expect(check('您想要黑色的吗？', {}, 'alternative_close')).toContain('invented_option');
    expect(check('Navy or burgundy?', { locale: 'en' }, 'alternative_close')).toContain(
      'invented_option',
    );
  });

  it('passes every template of every locale, placeholders filled with plain values', () => {
    for (const locale of LOCALES) {
      const t = templatesFor(locale);
      const texts = [
        ...t.greeting,
        ...Object.values(t.answer),
        ...Object.values(t.afterSale),
        ...Object.values(t.empathy),
        ...Object.values(t.helpChoose),
        t.busyNudge,
        ...Object.values(t.followUp),
      ];
      for (const template of texts) {
        const text = template.replace(/\{(\w+)\}/g, (_, name: string) =>
          name === 'product' ? t.productFallback : 'X',
        );
        expect({ template, violations: check(text, { locale, catalogTerms: ['X'] }) }).toEqual({
          template,
          violations: [],
        });
        if (locale !== 'en') expect(text).toContain('您');
      }
      for (const template of Object.values(t.alternativeClose)) {
        const text = template
          .replace('{product}', t.productFallback)
          .replace('{a}', 'navy')
          .replace('{b}', 'sage');
        expect(
          check(text, { locale, catalogTerms: ['navy', 'sage'] }, 'alternative_close'),
        ).toEqual([]);
      }
    }
  });
});
