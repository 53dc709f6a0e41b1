import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock';
import { launchChromium } from '../support/browser';
import { eventually, type Harness, startHarness } from '../support/harness';

let h: Harness;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let storefront: http.Server;
let store: string;
let shop: { id: string; widgetKey: string };
const clock = new ManualClock(Date.now());

beforeAll(async () => {
  h = await startHarness({ clock });
  chromium = await launchChromium();
  storefront = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>Shop</title></head>
<body><script src="${h.url}/widget.js" data-seatmate-key="${shop.widgetKey}" async></script></body></html>`);
  });
  await new Promise<void>((resolve) => storefront.listen(0, '127.0.0.1', resolve));
  store = `http://localhost:${(storefront.address() as AddressInfo).port}`;
  shop = (
    await h.api('/v1/shops', {
      body: { name: 'Lotus Tea', platform: 'web', credentials: { allowedOrigins: [store] } },
    })
  ).body;
});
afterAll(async () => {
  await chromium?.close();
  await new Promise((r) => storefront?.close(r));
  await h?.close();
});

describe('the widget on a page left open for a day', () => {
  it('renews its expired session (same buyer) instead of failing every send until a reload', async () => {
    const context = await chromium.browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(store);
      await page.waitForFunction(() => Boolean((window as { Seatmate?: unknown }).Seatmate));
      type Api = { send(text: string): Promise<{ id: string }> };
      const send = (text: string) =>
        page.evaluate(
          (t) =>
            (window as unknown as { Seatmate: Api }).Seatmate.send(t).then(
              (r) => r.id,
              (e: { code: string }) => `failed: ${e.code}`,
            ),
          text,
        );
      expect(await send('早上好')).toMatch(/^wm_/);
      // Tokens live 24 hours; the tab stays open past that.
      clock.advance(25 * 3600_000);
      expect(await send('还在吗？')).toMatch(/^wm_/);
      // Both messages are the same buyer's conversation: the renewed session reads the first one too.
      const history = await eventually(async () => {
        const messages = await page.evaluate(() =>
          (
            window as unknown as { Seatmate: { history(): Promise<Array<{ text: string }>> } }
          ).Seatmate.history(),
        );
        return messages.length === 2 ? messages : null;
      });
      expect(history.map((m: { text: string }) => m.text)).toEqual(['早上好', '还在吗？']);
    } finally {
      await context.close();
    }
  });
});
