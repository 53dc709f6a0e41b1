import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { createAssistant, type FallbackReason } from '../../../src/assist/assistant';
import {
  checkSuggestion,
  type GuardrailContext,
  type Violation,
} from '../../../src/assist/guardrails';
import { chatCompletion } from '../../fixtures/assist/chat-completion';

/**
 * Model output is untrusted (issue 15, item 9): links anywhere but the shop's
 * own domains, messenger and payment deep links, and requests for card
 * numbers, codes, passwords or bank details are refused, whichever engine
 * wrote them, and the rules engine's safe reply stands in.
 */

const context = (overrides: Partial<GuardrailContext> = {}): GuardrailContext => ({
  locale: 'en',
  stages: ['interested'],
  busyNudgeEnabled: false,
  knownValues: [],
  catalogTerms: [],
  buyerPersonalData: [],
  allowedDomains: ['myshop.example'],
  ...overrides,
});

const HOSTILE: ReadonlyArray<[string, string, 'zh-Hans' | 'en', Violation]> = [
  ['a plain https link', 'Order here: https://cheap-deals.example.net/buy', 'en', 'link'],
  ['a link with a www host', 'See www.bargain-shoes.co for more sizes.', 'en', 'link'],
  ['a bare domain', 'Just pay at fastpay.io and send me the receipt.', 'en', 'link'],
  ['a bare Chinese-text domain', '您可以去 taobao-outlet.cn 下单更便宜', 'zh-Hans', 'link'],
  ['a "dot com" link', 'Find us at bestprice dot com for a better deal.', 'en', 'link'],
  ['a bracketed dot', 'Visit shop-outlet[.]com to order.', 'en', 'link'],
  ['a full-width link', '请访问ｗｗｗ．ｆａｋｅ．ｃｏｍ下单', 'zh-Hans', 'link'],
  ['a Chinese-dot link', '请访问 myshop点com 查看', 'zh-Hans', 'link'],
  ['a javascript: URL', 'Click javascript:alert(document.cookie) to confirm.', 'en', 'link'],
  ['a data: URL', 'Open data:text/html;base64,PHNjcmlwdD4= to see the size chart.', 'en', 'link'],
  ['a Markdown link', 'Here is the [size chart](http://size.chart) for you.', 'en', 'link'],
  ['a Telegram link', 'Message me on t.me/fastdeals for a discount.', 'en', 'deep_link'],
  ['a WhatsApp link', 'Chat with us at wa.me/85291234567 instead.', 'en', 'deep_link'],
  ['a LINE link', 'Add us on line.me/ti/p/@cheapshop please.', 'en', 'deep_link'],
  ['a WeChat deep link', '加我微信 weixin://dl/chat?shopowner 私聊', 'zh-Hans', 'deep_link'],
  [
    'an Alipay deep link',
    '直接打开 alipays://platformapi/startapp?appId=20000067 付款',
    'zh-Hans',
    'deep_link',
  ],
  [
    'a card number request',
    'Please send me your card number and CVV to finish.',
    'en',
    'sensitive_request',
  ],
  [
    'a verification code request',
    '麻烦把手机收到的验证码发给我，我帮您下单',
    'zh-Hans',
    'sensitive_request',
  ],
  [
    'a password request',
    'What is your account password? I will log in for you.',
    'en',
    'sensitive_request',
  ],
  [
    'an IBAN request',
    'Send the payment to our IBAN, then share your bank details.',
    'en',
    'sensitive_request',
  ],
  ['a bank card request', '请提供一下您的银行卡号和密码', 'zh-Hans', 'sensitive_request'],
  [
    'an OTP request',
    'Kindly share the OTP you just received so I can confirm.',
    'en',
    'sensitive_request',
  ],
];

describe('guardrails against hostile model output', () => {
  it.each(HOSTILE)('refuses %s', (_, text, locale, violation) => {
    expect(checkSuggestion({ text, tactic: 'answer' }, context({ locale }))).toContain(violation);
  });

  it("allows links to the shop's own domains, and ordinary replies", () => {
    const ok = (text: string) => checkSuggestion({ text, tactic: 'answer' }, context());
    expect(ok('The size chart is at https://myshop.example/size-chart.')).toEqual([]);
    expect(ok('See shop.myshop.example/returns for the details.')).toEqual([]);
    expect(ok('The expiry date is printed on the pack. Anything else?')).toEqual([]);
    expect(ok('We ship to your PIN code area within 5 days.')).toEqual([]);
    expect(ok('Thanks. So the navy one is in stock.')).toEqual([]);
    expect(
      checkSuggestion(
        { text: '您好，晚上8点前下单当天发出～', tactic: 'answer' },
        context({ locale: 'zh-Hans' }),
      ),
    ).toEqual([]);
  });

  it('refuses a link to a look-alike of an allowed domain', () => {
    const text = 'Pay at https://myshop.example.evil.io/checkout now.';
    expect(checkSuggestion({ text, tactic: 'answer' }, context())).toContain('link');
  });
});

describe('the assistant with a hostile model', () => {
  afterEach(() => nock.cleanAll());

  it.each(HOSTILE)('drops %s and answers with the rules engine', async (_, text, locale) => {
    nock('http://llm.test')
      .post('/v1/chat/completions')
      .reply(
        200,
        chatCompletion(
          JSON.stringify({
            stage: 'interested',
            sentiment: 'neutral',
            signals: [],
            suggestions: [{ text, tactic: 'answer' }],
          }),
        ),
      );
    const fallbacks: FallbackReason[] = [];
    const assistant = createAssistant({
      openai: { apiKey: 'sk-test', baseURL: 'http://llm.test/v1', model: 'm', timeoutMs: 2_000 },
      onFallback: (reason) => fallbacks.push(reason),
    });
    const result = await assistant.suggest({
      history: [{ from: 'buyer', text: locale === 'en' ? 'How do I pay?' : '怎么付款呀' }],
    });
    expect(result.engine).toBe('rules');
    expect(fallbacks).toEqual(['guardrail']);
    expect(result.suggestions.map((s) => s.text)).not.toContain(text);
  });
});
