import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { launchChromium } from '../support/browser';
import { eventually, type Harness, startHarness } from '../support/harness';
import { screenshotPath } from '../support/screenshot-path';

let h: Harness;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let storefront: http.Server;
let store: string;
let shop: { id: string; widgetKey: string; snippet: string; ownerKey: string };
let agentToken: string;

/** The shop's own site: another origin than the API, one line of snippet, a `lang` per page. */
function startStorefront(apiUrl: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const lang = url.searchParams.get('lang') ?? 'zh-CN';
    const key = url.searchParams.get('key') ?? '';
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lotus Tea</title><style>body{font:16px serif;margin:40px} button{all:unset}</style></head>
<body><h1>Lotus Tea House</h1><p>西湖龙井 · 明前特级 · ¥168</p>
<script src="${apiUrl}/widget.js" data-seatmate-key="${key}" async></script></body></html>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  h = await startHarness();
  chromium = await launchChromium();
  storefront = await startStorefront(h.url);
  // localhost vs 127.0.0.1: a different origin from the API, as a real shop's site is.
  store = `http://localhost:${(storefront.address() as AddressInfo).port}`;
  const created = await h.api('/v1/shops', {
    body: {
      name: 'Lotus Tea 莲心茶庄',
      platform: 'web',
      credentials: { allowedOrigins: [store] },
      settings: { widget: { greeting: '您好，欢迎来到莲心茶庄！', color: '#7c2d12' } },
    },
  });
  shop = created.body;
  agentToken = (await h.api('/v1/agents', { body: { name: 'Lin', shopIds: [shop.id] } })).body
    .token;
});
afterAll(async () => {
  await chromium?.close();
  await new Promise((r) => storefront?.close(r));
  await h?.close();
});

async function openStore(
  options: {
    lang?: string;
    key?: string;
    viewport?: { width: number; height: number };
    origin?: string;
  } = {},
) {
  const context = await chromium.browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
  });
  const page = await context.newPage();
  const base = options.origin ?? store;
  await page.goto(`${base}/?lang=${options.lang ?? 'zh-CN'}&key=${options.key ?? shop.widgetKey}`);
  await page.waitForFunction(() => Boolean((window as unknown as { Seatmate?: unknown }).Seatmate));
  return { context, page };
}

const launcher = (page: Page) => page.locator('[data-seatmate] >> .launcher');
const panel = (page: Page) => page.locator('[data-seatmate] >> .panel');

/** What the widget's `Seatmate.send('hi')` ends in on the page: 'sent', or the error's code. */
function sendHi(page: Page): Promise<string> {
  return page.evaluate(() =>
    (window as unknown as { Seatmate: { send(t: string): Promise<unknown> } }).Seatmate.send(
      'hi',
    ).then(
      () => 'sent',
      (error: { code: string }) => error.code,
    ),
  );
}

describe('storefront widget in headless Chromium', () => {
  it('opens, sends, the agent sees it and replies, the reply appears live; a reload restores it', async () => {
    const { context, page } = await openStore();
    await expect.poll(() => launcher(page).textContent()).toBe('在线咨询');
    await launcher(page).click();
    await expect.poll(() => panel(page).isVisible()).toBe(true);
    await expect
      .poll(() => page.locator('[data-seatmate] >> h2').textContent())
      .toBe('Lotus Tea 莲心茶庄');
    await page.locator('[data-seatmate] >> textarea').fill('请问龙井有小包装吗？');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.locator('[data-seatmate] >> .msg.buyer').first().textContent())
      .toContain('请问龙井有小包装吗？');

    const buyerId = await page.evaluate(async () => {
      const token = JSON.parse(localStorage.getItem(Object.keys(localStorage)[0]!)!)
        .token as string;
      return JSON.parse(
        atob(token.slice(4).split('.')[0]!.replace(/-/g, '+').replace(/_/g, '/')),
      )[1];
    });
    const conversation = conversationId(shop.id, buyerId);
    const summary = await eventually(async () => {
      const res = await h.api(`/v1/agent/conversations/${conversation}`, { token: agentToken });
      return res.body.lastMessages?.length ? res.body : null;
    });
    expect(summary.shop.platform).toBe('web');
    const reply = await h.api(`/v1/agent/conversations/${conversation}/replies`, {
      token: agentToken,
      body: { text: '您好，有 50 克小罐装的～ <script>window.__pwned = 1</script>' },
    });
    expect(reply.status).toBe(202);
    const agentBubble = page.locator('[data-seatmate] >> .msg.agent');
    await expect.poll(() => agentBubble.count(), { timeout: 10_000 }).toBe(1);
    expect(await agentBubble.first().textContent()).toContain(
      '<script>window.__pwned = 1</script>',
    );
    expect(
      await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
    await page.screenshot({ path: screenshotPath('widget-desktop.png') });

    await page.reload();
    await page.waitForFunction(() =>
      Boolean((window as unknown as { Seatmate?: unknown }).Seatmate),
    );
    await launcher(page).click();
    await expect.poll(() => page.locator('[data-seatmate] >> .msg:not(.greeting)').count()).toBe(2);
    const history = await page.evaluate(() =>
      (
        window as unknown as { Seatmate: { history(): Promise<Array<{ from: string }>> } }
      ).Seatmate.history(),
    );
    expect(history.map((m) => m.from)).toEqual(['buyer', 'agent']);
    await context.close();
  });

  it('shows buyer HTML as text and rejects a refused send with its reason', async () => {
    const { context, page } = await openStore();
    const xss = '<img src=x onerror="window.__xss=1">';
    const result = await page.evaluate(async (text) => {
      const sm = (window as unknown as { Seatmate: { send(t: string): Promise<unknown> } })
        .Seatmate;
      await sm.send(text);
      return sm.send('').catch((error: { code: string }) => error.code);
    }, xss);
    expect(result).toBe('invalid_request');
    await page.evaluate(() =>
      (window as unknown as { Seatmate: { open(): void } }).Seatmate.open(),
    );
    await expect
      .poll(() => page.locator('[data-seatmate] >> .msg.buyer').first().textContent())
      .toContain(xss);
    expect(
      await page.evaluate(() => (window as unknown as { __xss?: number }).__xss),
    ).toBeUndefined();
    await context.close();
  });

  it("is refused on a site that is not on the shop's list", async () => {
    const other = await startStorefront(h.url);
    const origin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const { context, page } = await openStore({ origin });
    const code = await sendHi(page);
    // The API refuses the origin and grants no CORS, so the browser sees a network failure.
    expect(['origin_not_allowed', 'network']).toContain(code);
    await context.close();
    await new Promise((r) => other.close(r));
  });

  it("says so to a site not on the shop's list, not 'network', and names the origin to add", async () => {
    const other = await startStorefront(h.url);
    const origin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const { context, page } = await openStore({ origin });
    const warnings: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'warning') warnings.push(message.text());
    });
    const code = await sendHi(page);
    expect(code).toBe('origin_not_allowed');
    expect(warnings).toContain(
      `Seatmate: ${origin} is not among this shop's allowed origins (credentials.allowedOrigins); ask your Seatmate operator to add it.`,
    );
    await context.close();
    await new Promise((r) => other.close(r));
  });

  it('limits a flood from one buyer and says so', async () => {
    const { context, page } = await openStore();
    const codes = await page.evaluate(async () => {
      const sm = (window as unknown as { Seatmate: { send(t: string): Promise<unknown> } })
        .Seatmate;
      const out: string[] = [];
      for (let i = 0; i < 24; i += 1)
        out.push(
          await sm.send(`flood ${i}`).then(
            () => 'sent',
            (e: { code: string }) => e.code,
          ),
        );
      return out;
    });
    expect(codes.filter((c) => c === 'sent')).toHaveLength(20);
    expect(codes.slice(20)).toEqual([
      'rate_limited',
      'rate_limited',
      'rate_limited',
      'rate_limited',
    ]);
    await context.close();
  });

  it('fills a phone screen and speaks each language', async () => {
    const { context, page } = await openStore({
      lang: 'zh-TW',
      viewport: { width: 375, height: 667 },
    });
    await expect.poll(() => launcher(page).textContent()).toBe('線上諮詢');
    await launcher(page).click();
    await expect.poll(() => panel(page).isVisible()).toBe(true);
    const box = await panel(page).boundingBox();
    expect(box).toMatchObject({ x: 0, y: 0, width: 375, height: 667 });
    expect(await page.locator('[data-seatmate] >> textarea').getAttribute('placeholder')).toBe(
      '輸入訊息，按 Enter 傳送',
    );
    await page.locator('[data-seatmate] >> textarea').fill('請問有禮盒裝嗎？');
    await page.screenshot({ path: screenshotPath('widget-phone.png') });
    await page.keyboard.press('Escape');
    await expect.poll(() => panel(page).isVisible()).toBe(false);
    await context.close();

    const en = await openStore({ lang: 'en' });
    await expect.poll(() => launcher(en.page).textContent()).toBe('Chat with us');
    await en.context.close();
  });

  it("shows the owner the snippet to paste, in the owner's language", async () => {
    const context = await chromium.browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(`${h.url}/dashboard`);
    await page.fill('#owner-key', shop.ownerKey);
    await page.click('#sign-in-form button[type=submit]');
    await expect.poll(() => page.locator('#widget-card').isVisible()).toBe(true);
    expect(await page.locator('#widget-card h2').textContent()).toBe('网站在线客服');
    expect(await page.locator('#widget-snippet').textContent()).toBe(shop.snippet);
    await context.close();
  });
});
