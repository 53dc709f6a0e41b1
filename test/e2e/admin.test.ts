import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { drained, traffic } from '../support/billing-traffic';
import { launchChromium } from '../support/browser';
import { ADMIN_TOKEN, type Harness, startHarness } from '../support/harness';
import { screenshotPath } from '../support/screenshot-path';
import { untranslatedWords } from '../support/untranslated';

let h: Harness;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  h = await startHarness();
  chromium = await launchChromium();
  const shop = await h.createGenericShop({
    name: '云杉家居旗舰店',
    plan: {
      model: 'tiered',
      tiers: [
        { upToAverageDaily: 50, monthlyFen: 150_000 },
        { upToAverageDaily: null, monthlyFen: 400_000 },
      ],
    },
  });
  await h.api('/v1/agents', { body: { name: '林小雨', shopIds: [shop.id] } });
  const now = Date.now();
  const t = traffic(h, shop);
  await t.buyer('buyer-1', new Date(now - 200_000).toISOString());
  await t.agent('buyer-1', new Date(now - 150_000).toISOString());
  await t.buyer('buyer-2', new Date(now - 90_000).toISOString());
  await drained(h);
});
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await chromium?.close();
  await h?.close();
});

async function pageIn(locale: string, viewport = { width: 1280, height: 860 }): Promise<Page> {
  const context = await chromium.browser.newContext({ locale, viewport });
  context.setDefaultTimeout(10_000);
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('dialog', (dialog) => dialog.accept());
  (page as Page & { errors: string[] }).errors = errors;
  return page;
}

async function signIn(page: Page, token: string) {
  await page.goto(`${h.url}/admin`);
  await page.waitForFunction(() => !document.body.classList.contains('loading'));
  await page.fill('#operator-token', token);
  await page.click('#sign-in-form button[type="submit"]');
  await page.waitForSelector('#app:not([hidden])');
}

const tab = (page: Page, name: string) => page.click(`#tabs [data-tab="${name}"]`);

describe('/admin', () => {
  it('a refused new shop is said by its form, on a phone: the field it names marked, focused and explained', async () => {
    const page = await pageIn('zh-CN', { width: 390, height: 844 });
    await signIn(page, ADMIN_TOKEN);
    // (The desk first: its agents' heading stands apart from the shops' table above it.)
    await page.locator('#desk-shops tbody tr').first().waitFor();
    const gap = await page.evaluate(
      () =>
        document.querySelector('#tab-desk h3')!.getBoundingClientRect().top -
        document.querySelector('#desk-shops')!.parentElement!.getBoundingClientRect().bottom,
    );
    expect(gap).toBeGreaterThanOrEqual(16);
    await tab(page, 'shops');
    await page.click('#shop-new');
    await page.fill('#new-shop-name', '电报小店');
    await page.selectOption('#new-shop-platform', 'telegram');
    // Each credential named as the operator knows it, with the field it is sent as.
    expect(await page.textContent('label[for="cred-botToken"]')).toBe('机器人令牌 (botToken)');
    expect(await page.textContent('label[for="cred-secretToken"]')).toBe('密钥令牌 (secretToken)');
    await page.fill('#cred-botToken', '7123456789:AAHk3vQ9xZ-Lm2pR8sT1wY6zB4nC0dH5jE');
    await page.fill('#cred-secretToken', 'short');
    await page.click('#shop-create button[type="submit"]');
    const error = page.locator('#new-shop-error');
    await error.waitFor();
    expect(await error.textContent()).toBe(
      '接入凭据缺失或无效。 (credentials.secretToken) 32–256 位字母、数字、_ 或 -；调用 setWebhook 时以 secret_token 传入同一个值。',
    );
    expect(await page.getAttribute('#cred-secretToken', 'aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('cred-secretToken');
    // Beside the button just pressed, in sight, not at the top of a long page.
    const box = await error.boundingBox();
    expect(box && box.y >= 0 && box.y + box.height <= 844).toBe(true);

    // A plain-mode WeChat account has no EncodingAESKey: the form takes it without one.
    await page.selectOption('#new-shop-platform', 'wechat');
    expect(await page.textContent('label[for="cred-encodingAESKey"]')).toBe(
      '消息加解密密钥 (encodingAESKey)',
    );
    expect(await untranslatedWords(page)).toEqual([]);
    expect(await page.textContent('#new-shop-error')).toBe('');
    await page.fill('#new-shop-name', '公众号小店');
    await page.fill('#cred-appId', 'wx2c2769f8efd9abc2');
    await page.fill('#cred-appSecret', 'app-secret');
    await page.fill('#cred-token', 'spamtest');
    await page.click('#shop-create button[type="submit"]');
    await page.locator('#shop-detail dl.guide').waitFor();
    expect(await page.locator('#shop-detail dl.guide').textContent()).toContain(
      '/webhooks/wechat/shp_',
    );
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
  });

  it('runs the desk in Simplified Chinese: desk, shops, agents, operators, month, close, jobs, audit', async () => {
    const page = await pageIn('zh-CN');
    await page.goto(`${h.url}/admin`);
    await page.waitForFunction(() => !document.body.classList.contains('loading'));
    expect(await page.getAttribute('html', 'lang')).toBe('zh-Hans');
    expect(await untranslatedWords(page)).toEqual([]);
    const response = await page.request.get(`${h.url}/admin`);
    expect(response.headers()['content-security-policy']).toContain("script-src 'self'");
    // The shared base styles (/shared/base.css) load under that policy: the page's palette applies.
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
      'rgb(246, 247, 249)',
    );

    await signIn(page, ADMIN_TOKEN);
    expect(await page.textContent('#operator-name')).toBe('台主');
    // The desk: the waiting buyer of the shop, live.
    const deskRow = page.locator('#desk-shops tbody tr', { hasText: '云杉家居旗舰店' });
    await deskRow.waitFor();
    expect(await deskRow.locator('td').nth(1).textContent()).toBe('1');
    expect(await deskRow.locator('td').nth(3).textContent()).toContain('林小雨');
    expect(await untranslatedWords(page)).toEqual([]);
    await page.screenshot({ path: screenshotPath('admin-desk.png') });

    // A new generic shop: the guide shows the webhook URL and the secrets, once.
    await tab(page, 'shops');
    await page.click('#shop-new');
    await page.fill('#new-shop-name', '松果数码');
    await page.click('#shop-create button[type="submit"]');
    await page.locator('#shop-detail .secret').first().waitFor();
    const secrets = await page.locator('#shop-detail .secret').allTextContents();
    expect(secrets[0]).toMatch(/^own_/);
    expect(secrets[1]).toMatch(/^whsec_/);
    expect(await page.locator('#shop-detail dl.guide').textContent()).toContain(
      '/webhooks/generic/shp_',
    );
    // The plan preview: what per-reception would bill this month, before saving.
    await page.fill(
      '#plan-json',
      JSON.stringify({ model: 'per_reception', dailyBaseFen: 5000, perReceptionFen: 300 }),
    );
    await page.click('#plan-preview-button');
    await page.locator('#plan-preview p').waitFor();
    expect(await page.textContent('#plan-preview p')).toMatch(
      /本月至今：现行方案 —，此方案 ¥0\.00/,
    );
    expect(await untranslatedWords(page)).toEqual([]);
    await page.screenshot({ path: screenshotPath('admin-shop.png'), fullPage: true });

    // An agent for both shops, token shown once.
    await tab(page, 'agents');
    await page.fill('#new-agent-name', '陈晓');
    await page.locator('#new-agent-shops input[type="checkbox"]').first().check();
    await page.click('#agent-create button[type="submit"]');
    await page.locator('#tab-agents .secret').waitFor();
    expect(await page.textContent('#tab-agents .secret')).toMatch(/^agt_/);
    await page.locator('#agents tbody tr', { hasText: '陈晓' }).waitFor();

    // A supervisor.
    await tab(page, 'operators');
    await page.fill('#new-operator-name', '王主管');
    await page.click('#operator-create button[type="submit"]');
    await page.locator('#tab-operators .secret').waitFor();
    const supervisorToken = await page.textContent('#tab-operators .secret');
    expect(supervisorToken).toMatch(/^opr_/);

    // The month across shops.
    await tab(page, 'month');
    const reportRow = page.locator('#report tbody tr', { hasText: '云杉家居旗舰店' });
    await reportRow.waitFor();
    expect(await reportRow.textContent()).toContain('¥1,500.00');
    expect(await untranslatedWords(page)).toEqual([]);
    await page.screenshot({ path: screenshotPath('admin-month.png') });

    // Month close of last month: preview, progress, results with reasons.
    await tab(page, 'close');
    await page.click('#close-preview');
    await page.locator('#close-table tbody tr').first().waitFor();
    expect(await page.textContent('#close-table')).toContain('店铺在该月之后才创建');
    await page.click('#close-start');
    await page.waitForFunction(() =>
      /本次结算/.test(document.getElementById('close-summary')?.textContent ?? ''),
    );
    expect(await page.getAttribute('#close-progress', 'value')).toBe(
      await page.getAttribute('#close-progress', 'max'),
    );
    expect(await untranslatedWords(page)).toEqual([]);
    await page.screenshot({ path: screenshotPath('admin-close.png') });

    await tab(page, 'jobs');
    await page.locator('#jobs tbody tr').first().waitFor();

    // Every action above left an audit record, in the operator's language.
    await tab(page, 'audit');
    await page.locator('#audit tbody tr').nth(3).waitFor();
    const audit = await page.textContent('#audit');
    for (const action of ['创建店铺', '创建客服', '创建运营人员', '启动月结'])
      expect(audit).toContain(action);
    expect(audit).not.toContain(secrets[0]);
    expect((page as Page & { errors: string[] }).errors).toEqual([]);

    // The supervisor on a phone, in Traditional Chinese: reads the desk, changes no key.
    const phone = await pageIn('zh-TW', { width: 375, height: 740 });
    await signIn(phone, supervisorToken!);
    expect(await phone.textContent('#operator-role')).toBe('主管');
    await phone.locator('#desk-shops tbody tr', { hasText: '云杉家居旗舰店' }).waitFor();
    expect(await phone.locator('#tabs [data-tab="audit"]').isHidden()).toBe(true);
    expect(
      await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
    ).toBe(true);
    expect(await untranslatedWords(phone)).toEqual([]);
    await phone.screenshot({ path: screenshotPath('admin-phone.png') });
    await tab(phone, 'shops');
    await phone.locator('#shops tbody tr').first().waitFor();
    expect(await phone.locator('#shop-new').isHidden()).toBe(true);
    await phone.locator('#shops tbody tr', { hasText: '松果数码' }).locator('button').click();
    await phone.locator('#shop-detail h3').first().waitFor();
    expect(
      await phone.locator('#shop-detail button', { hasText: '重新簽發店主金鑰' }).count(),
    ).toBe(0);
    expect((phone as Page & { errors: string[] }).errors).toEqual([]);
  });
});
