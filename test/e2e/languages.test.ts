import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { drained, traffic } from '../support/billing-traffic';
import { seedConsoleDemo } from '../support/console-demo';
import { consoleSuite } from '../support/console-suite';
import { screenshotPath } from '../support/screenshot-path';
import { untranslatedWords } from '../support/untranslated';

const suite = consoleSuite();

/** A browser whose language is `locale` (navigator.languages and Accept-Language). */
async function pageIn(locale: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await suite.chromium.browser.newContext({ locale, viewport });
  context.setDefaultTimeout(10_000);
  suite.contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  (page as Page & { errors: string[] }).errors = errors;
  return page;
}

const PLAN = {
  model: 'tiered',
  tiers: [
    { upToAverageDaily: 1, monthlyFen: 150_000 },
    { upToAverageDaily: null, monthlyFen: 250_000 },
  ],
};

describe('console and dashboard languages', () => {
  it('choose the language from the browser: Simplified for zh-CN/zh-SG, Traditional for zh-TW/zh-HK/zh-MO, else English', async () => {
    const expected: Record<string, string> = {
      'zh-CN': 'zh-Hans',
      'zh-SG': 'zh-Hans',
      'zh-TW': 'zh-Hant',
      'zh-HK': 'zh-Hant',
      'zh-MO': 'zh-Hant',
      'en-US': 'en',
      'fr-FR': 'en',
    };
    for (const [browser, locale] of Object.entries(expected)) {
      const page = await pageIn(browser);
      await page.goto(`${suite.h.url}/console`);
      await page.waitForFunction(() => !document.body.classList.contains('loading'));
      expect({ browser, lang: await page.getAttribute('html', 'lang') }).toEqual({
        browser,
        lang: locale,
      });
    }
    const page = await pageIn('zh-TW');
    await page.goto(`${suite.h.url}/console`);
    await page.waitForFunction(() => !document.body.classList.contains('loading'));
    expect(await page.textContent('#sign-in-button')).toBe('登入');
  });

  it('remembers the language switch across reloads, on the console and the dashboard', async () => {
    const page = await pageIn('zh-CN');
    await page.goto(`${suite.h.url}/console`);
    await page.waitForFunction(() => document.documentElement.lang === 'zh-Hans');
    expect(await page.textContent('#sign-in-button')).toBe('登录');
    await page.locator('#sign-in .language-switch').selectOption('en');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await page.textContent('#sign-in-button')).toBe('Sign in');
    await page.reload();
    await page.waitForFunction(() => !document.body.classList.contains('loading'));
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    // The dashboard shares the choice (same catalogs, same key).
    await page.goto(`${suite.h.url}/dashboard`);
    await page.waitForFunction(() => !document.body.classList.contains('loading'));
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.locator('#language').selectOption('zh-Hant');
    await page.waitForFunction(() => document.documentElement.lang === 'zh-Hant');
    expect(await page.textContent('#sign-in h2')).toBe('登入');
  });

  for (const [browserLocale, locale, sample] of [
    ['zh-CN', 'zh-Hans', '会话'],
    ['zh-TW', 'zh-Hant', '會話'],
  ] as const) {
    it(`shows no untranslated word in ${locale}: a busy console with its help, transfer and dashboard`, async () => {
      const demo = await seedConsoleDemo(suite.h, suite.standIn.replyUrl);
      const page = await pageIn(browserLocale);
      await page.goto(`${suite.h.url}/console`);
      await page.waitForFunction(() => !document.body.classList.contains('loading'));
      expect(await untranslatedWords(page)).toEqual([]);

      await page.fill('#token-input', demo.token);
      await page.click('#sign-in-button');
      await page.waitForSelector('#connection[data-state="live"]');
      await demo.play();
      await page.waitForFunction(() => document.querySelectorAll('.conversation-row').length === 8);
      await page.locator(`.row-button[data-conversation-id="${demo.featured}"]`).click();
      await page.locator('.suggestion').first().waitFor();
      await page.locator('.context-block').first().waitFor();
      expect(await page.textContent('.list-head h2')).toBe(sample);
      // Tactic chips, stage and badges in the agent's language.
      expect(await page.locator('.suggestion .tactic').first().textContent()).toMatch(
        /^[\u4e00-\u9fff]+$/,
      );
      expect(await untranslatedWords(page)).toEqual([]);

      await page.keyboard.press('?');
      await page.waitForSelector('#help[open]');
      expect(await untranslatedWords(page)).toEqual([]);
      if (locale === 'zh-Hant') {
        await page.waitForTimeout(200);
        await page.screenshot({ path: screenshotPath('console-zh-Hant-help.png') });
      }
      await page.keyboard.press('Escape');
      await page.waitForSelector('#help:not([open])', { state: 'attached' });

      // Stream dropped: "reconnecting" in the agent's language, at once.
      suite.h.server.closeAllConnections();
      await page.waitForSelector('#connection[data-state="reconnecting"]');
      expect(await untranslatedWords(page)).toEqual([]);
      await page.waitForSelector('#connection[data-state="live"]');
      expect((page as Page & { errors: string[] }).errors).toEqual([]);

      // The owner's dashboard: figures, chart, estimate lines and audit.
      const shop = await suite.h.createGenericShop({ name: '云杉家居旗舰店', plan: PLAN });
      const t = traffic(suite.h, shop);
      const now = new Date();
      await t.buyer('wang-l', new Date(now.getTime() - 120_000).toISOString());
      await t.agent('wang-l', new Date(now.getTime() - 60_000).toISOString());
      await drained(suite.h);
      const dashboard = await pageIn(browserLocale);
      await dashboard.goto(`${suite.h.url}/dashboard`);
      await dashboard.fill('#owner-key', shop.ownerKey);
      await dashboard.click('#sign-in-form button[type=submit]');
      await dashboard.waitForSelector('#audit tbody tr');
      await dashboard.waitForSelector('#estimate tbody tr[data-kind="tier"]');
      expect(await dashboard.textContent('#estimate tbody')).toMatch(
        locale === 'zh-Hans' ? /阶梯月费/ : /階梯月費/,
      );
      expect(await untranslatedWords(dashboard)).toEqual([]);
    }, 60_000);
  }
});
