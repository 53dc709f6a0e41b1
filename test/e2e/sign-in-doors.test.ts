import type { BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser';
import { ADMIN_TOKEN, type Harness, startHarness } from '../support/harness';
import { untranslatedWords } from '../support/untranslated';

// Three pages, three kinds of token: one pasted into the wrong page says which page it opens.
let h: Harness;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
const contexts: BrowserContext[] = [];
let ownerKey = '';
let agentToken = '';

beforeAll(async () => {
  h = await startHarness({ workers: false });
  chromium = await launchChromium();
  const shop = await h.createGenericShop({ name: '云杉家居' });
  ownerKey = shop.ownerKey;
  agentToken = (await h.api('/v1/agents', { body: { name: '林晓', shopIds: [shop.id] } })).body
    .token;
});
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await chromium?.close();
  await h?.close();
});

async function pasteInto(locale: string, page: string, input: string, token: () => string) {
  const context = await chromium.browser.newContext({ locale });
  contexts.push(context);
  const tab = await context.newPage();
  await tab.goto(`${h.url}${page}`);
  await tab.waitForFunction(() => !document.body.classList.contains('loading'));
  await tab.fill(input, token());
  await tab.press(input, 'Enter');
  const error = tab.locator('#sign-in-error');
  await tab.waitForFunction(() =>
    /\S/.test(document.getElementById('sign-in-error')?.textContent ?? ''),
  );
  return {
    tab,
    text: await error.textContent(),
    link: await error.locator('a').getAttribute('href'),
  };
}

describe('a token pasted into the wrong page', () => {
  it.each([
    [
      '/console',
      '#token-input',
      () => ADMIN_TOKEN,
      '这不是客服令牌。这是运营令牌，请在 /admin 登录。',
      '/admin',
    ],
    [
      '/console',
      '#token-input',
      () => ownerKey,
      '这不是客服令牌。这是店主密钥，请在 /dashboard 登录。',
      '/dashboard',
    ],
    [
      '/dashboard',
      '#owner-key',
      () => agentToken,
      '此页面供店主使用：请粘贴店主密钥。这是客服令牌，请在 /console 登录。',
      '/console',
    ],
    [
      '/admin',
      '#operator-token',
      () => ownerKey,
      '这不是运营令牌。这是店主密钥，请在 /dashboard 登录。',
      '/dashboard',
    ],
  ])('%s says where the token opens (zh-Hans)', async (page, input, token, message, href) => {
    const { tab, text, link } = await pasteInto('zh-CN', page, input, token);
    expect(text).toBe(message);
    expect(link).toBe(href);
    expect(await untranslatedWords(tab)).toEqual([]);
  });

  it('in English too', async () => {
    const { text } = await pasteInto('en-US', '/admin', '#operator-token', () => agentToken);
    expect(text).toBe(
      "This is not an operator token. This is an agent's token: sign in with it at /console.",
    );
  });
});
