import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser';
import { ADMIN_TOKEN, type Harness, startHarness } from '../support/harness';
import { untranslatedWords } from '../support/untranslated';

let h: Harness;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let shop: { id: string; ownerKey: string };
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  h = await startHarness();
  chromium = await launchChromium();
  shop = await h.createGenericShop({ name: '云杉家居旗舰店' });
});
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await chromium?.close();
  await h?.close();
});

async function pageIn(locale: string): Promise<Page> {
  const context = await chromium.browser.newContext({ locale });
  context.setDefaultTimeout(10_000);
  contexts.push(context);
  return context.newPage();
}

/** What the service answers when a budget or a size limit is passed: its words are English. */
const refusal = (status: number, code: string, message: string) => ({
  status,
  contentType: 'application/json',
  headers: { 'retry-after': '30' },
  body: JSON.stringify({ error: { code, message, details: {} } }),
});

describe('error states in the page language', () => {
  it('the owner dashboard: the service unreachable, a 429 and a revoked key on reload', async () => {
    const page = await pageIn('zh-CN');
    await page.goto(`${h.url}/dashboard`);
    await page.waitForFunction(() => !document.body.classList.contains('loading'));
    // Server down: the sign-in says so in Chinese, not the browser's "Failed to fetch".
    await page.route('**/v1/me', (route) => route.abort('connectionrefused'));
    await page.fill('#owner-key', shop.ownerKey);
    await page.click('#sign-in-form button[type=submit]');
    await expect.poll(() => page.textContent('#sign-in-error')).toBe('无法连接到服务。');
    await page.unroute('**/v1/me');

    // Over the owner's read budget: a 429 in words, not a status number or the service's English.
    await page.route('**/usage?*', (route) =>
      route.fulfill(
        refusal(
          429,
          'rate_limited',
          'More than 600 reads a minute with this token; retry shortly.',
        ),
      ),
    );
    await page.click('#sign-in-form button[type=submit]');
    await expect.poll(() => page.textContent('#load-error')).toBe('操作太频繁，请稍后再试。');
    expect(await untranslatedWords(page)).toEqual([]);

    // A key revoked since the last visit: the reload says why it signed out.
    await page.evaluate(() => sessionStorage.setItem('seatmate.ownerKey', 'own_revoked'));
    await page.reload();
    await expect.poll(() => page.textContent('#sign-in-error')).toBe('该密钥不存在或已被撤销。');
  });

  it('the operator desk: a code without words of its own reads in the operator language, and a desk that fails to load does not sign out', async () => {
    const page = await pageIn('zh-TW');
    await page.goto(`${h.url}/admin`);
    await page.waitForFunction(() => !document.body.classList.contains('loading'));
    await page.route('**/v1/desk', (route) =>
      route.fulfill(refusal(413, 'payload_too_large', 'The body is larger than 1048576 bytes.')),
    );
    await page.fill('#operator-token', ADMIN_TOKEN);
    await page.click('#sign-in-form button[type=submit]');
    await expect.poll(() => page.textContent('#error')).toBe('內容太大，請縮短後再試。');
    expect(await page.isVisible('#app')).toBe(true);
    await page.route('**/v1/desk', (route) =>
      route.fulfill(refusal(409, 'not_failed', 'That job has not failed.')),
    );
    await page.reload();
    await expect.poll(() => page.textContent('#error')).toBe('服務返回了 409。');
    expect(await page.isVisible('#app')).toBe(true);
    expect(await untranslatedWords(page)).toEqual([]);
  });
});
