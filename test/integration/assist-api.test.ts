import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chatCompletion } from '../fixtures/assist/chat-completion';
import { askAboutHesitatingBuyer, cardiganCatalog } from '../fixtures/assist/hesitating-buyer';
import { type Harness, startHarness } from '../support/harness';

describe('POST /v1/assist/suggest without a key (rules engine)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ workers: false });
  });
  afterAll(() => h.close());

  it('answers in the buyer’s language with the alternative close from the catalog', async () => {
    const shop = await h.createGenericShop({
      catalog: cardiganCatalog(),
    });
    const { res, close } = await askAboutHesitatingBuyer(h, shop);
    expect(close).toBeDefined();
    expect(close.text).toMatch(/浅灰|银色|M|L/);
    expect(close.text).not.toContain('你');
    expect(
      res.body.suggestions.every(
        (s: { id: string }) => typeof s.id === 'string' && s.id.length > 0,
      ),
    ).toBe(true);
  });

  it("answers a bare '？' in the shop's default script: its setting, else its time zone", async () => {
    const taipei = await h.createGenericShop({ timezone: 'Asia/Taipei' });
    const hk = await h.createGenericShop({ settings: { locale: 'zh-Hant' } });
    const london = await h.createGenericShop({
      timezone: 'Europe/London',
      settings: { locale: 'zh-Hans' },
    });
    for (const [shop, locale] of [
      [taipei, 'zh-Hant'],
      [hk, 'zh-Hant'],
      [london, 'zh-Hans'],
    ] as const) {
      const res = await h.api('/v1/assist/suggest', {
        token: shop.ownerKey,
        body: { shopId: shop.id, history: [{ from: 'buyer', text: '？' }] },
      });
      expect(res.status).toBe(200);
      expect(res.body.locale).toBe(locale);
      expect(res.body.state).toMatchObject({ settled: {}, given: [] });
    }
  });

  it('refuses a shop link domain that is not a domain name', async () => {
    const res = await h.api('/v1/shops', {
      body: {
        name: 'Bad',
        platform: 'generic',
        settings: { linkDomains: ['javascript:alert(1)'] },
      },
    });
    expect(res.status).toBe(400);
  });

  it('gives clear 400s for an empty history, an unknown locale and an over-long message', async () => {
    const empty = await h.api('/v1/assist/suggest', { body: { history: [] } });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details.field).toBe('history');
    const locale = await h.api('/v1/assist/suggest', {
      body: { locale: 'fr', history: [{ from: 'buyer', text: 'bonjour' }] },
    });
    expect(locale.status).toBe(400);
    expect(locale.body.error.details.field).toBe('locale');
    const long = await h.api('/v1/assist/suggest', {
      body: { history: [{ from: 'buyer', text: 'x'.repeat(2001) }] },
    });
    expect(long.status).toBe(400);
    expect(long.body.error.details.field).toBe('history.0.text');
  });

  it('keeps owners to their own shop', async () => {
    const a = await h.createGenericShop();
    const b = await h.createGenericShop();
    const res = await h.api('/v1/assist/suggest', {
      token: a.ownerKey,
      body: { shopId: b.id, history: [{ from: 'buyer', text: 'hi' }] },
    });
    expect(res.status).toBe(404);
  });
});

describe('POST /v1/assist/suggest with an OpenAI-compatible endpoint', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      workers: false,
      env: {
        OPENAI_API_KEY: 'sk-test-key',
        OPENAI_BASE_URL: 'http://llm.test/v1',
        OPENAI_MODEL: 'qwen-test',
        ASSIST_TIMEOUT_MS: '500',
      },
    });
  });
  afterAll(() => h.close());
  afterEach(() => nock.cleanAll());

  const history = [{ from: 'buyer', text: 'Hi, does this jacket come in navy?' }];

  it('uses the model’s answer when it is valid and safe', async () => {
    const scope = nock('http://llm.test')
      .post('/v1/chat/completions', (body) => body.model === 'qwen-test')
      .reply(
        200,
        chatCompletion(
          JSON.stringify({
            stage: 'interested',
            sentiment: 'neutral',
            signals: ['asks_option'],
            suggestions: [
              { text: 'Hello! Which size would you like to see in navy?', tactic: 'help_choose' },
            ],
          }),
        ),
      );
    const res = await h.api('/v1/assist/suggest', { body: { history } });
    expect(res.status).toBe(200);
    expect(res.body.engine).toBe('openai');
    expect(res.body.suggestions[0]).toMatchObject({
      text: 'Hello! Which size would you like to see in navy?',
      tactic: 'help_choose',
    });
    expect(scope.isDone()).toBe(true);
  });

  it('falls back to the rules engine on an error and counts it in /metrics', async () => {
    nock('http://llm.test')
      .post('/v1/chat/completions')
      .reply(500, { error: { message: 'overloaded' } });
    const res = await h.api('/v1/assist/suggest', { body: { history } });
    expect(res.status).toBe(200);
    expect(res.body.engine).toBe('rules');
    expect(res.body.suggestions.length).toBeGreaterThan(0);
    const metrics = await h.api('/metrics', { token: '' });
    expect(metrics.text).toMatch(/seatmate_llm_fallbacks_total\{reason="error"\} [1-9]/);
  });

  it('falls back when the model is slower than ASSIST_TIMEOUT_MS', async () => {
    nock('http://llm.test')
      .post('/v1/chat/completions')
      .delay(2000)
      .reply(200, chatCompletion('{}'));
    const started = Date.now();
    const res = await h.api('/v1/assist/suggest', { body: { history } });
    expect(res.body.engine).toBe('rules');
    expect(Date.now() - started).toBeLessThan(1900);
    expect((await h.api('/metrics', { token: '' })).text).toMatch(
      /seatmate_llm_fallbacks_total\{reason="timeout"\} 1/,
    );
  });
});
