import type { BrowserContextOptions, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { consoleSuite } from '../support/console-suite';
import { buyerMessage, eventually } from '../support/harness';

const suite = consoleSuite();
/** RIGHT-TO-LEFT OVERRIDE: everything after it is drawn backwards until the paragraph ends or it is isolated. */
const RLO = '\u202E';
const XSS = '<img src=x onerror="window.__pwned=1">';

const DESK: BrowserContextOptions = { viewport: { width: 1280, height: 800 }, locale: 'zh-CN' };
const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  hasTouch: true,
  isMobile: true,
  locale: 'zh-CN',
};

async function newPage(device: BrowserContextOptions): Promise<Page> {
  const context = await suite.chromium.browser.newContext(device);
  context.setDefaultTimeout(10_000);
  suite.contexts.push(context);
  return context.newPage();
}

/** A buyer, a shop and an agent whose names are as long as the API allows, unbroken, with markup and an RTL override. */
async function hostileConversation() {
  const { h } = suite;
  const shop = await h.createGenericShop({
    name: `${XSS}${'S'.repeat(160)}`,
    credentials: { replyUrl: suite.standIn.replyUrl },
    settings: { slowReplySeconds: 1 },
  });
  const agent = (
    await h.api('/v1/agents', {
      body: { name: `${RLO}Lin${'L'.repeat(150)}`, shopIds: [shop.id] },
    })
  ).body as { id: string; token: string };
  await h.setPresence(agent.token, 'online');
  const buyerName = `${RLO}Eve${'E'.repeat(180)}`;
  await h.sendGeneric(
    shop,
    buyerMessage('b-long', `${XSS} ${'W'.repeat(1500)}`, new Date().toISOString(), {
      buyer: { id: 'b-long', name: buyerName },
    }),
  );
  const id = conversationId(shop.id, 'b-long');
  await eventually(
    async () =>
      (await h.api(`/v1/agent/conversations/${id}`, { token: agent.token })).body.suggestions
        ?.length,
  );
  return { shop, agent, id };
}

/** The agent answers, then the buyer writes again: a new wait, and a slow-reply alert a second on. */
async function waitAgain(shop: { id: string }, token: string, id: string) {
  const { h, standIn } = suite;
  const before = standIn.received.length;
  const reply = await h.api(`/v1/agent/conversations/${id}/replies`, {
    token,
    body: { text: '您好' },
  });
  expect(reply.status).toBe(202);
  await eventually(async () => standIn.received.length > before);
  // The platform has the reply before the reply's bookkeeping ends the wait: a buyer message
  // processed before that would still belong to the old wait, whose alert has fired already.
  await eventually(
    async () => (await h.api(`/v1/agent/conversations/${id}`, { token })).body.waiting === false,
  );
  await h.sendGeneric(
    shop as Parameters<typeof h.sendGeneric>[0],
    buyerMessage('b-long', '还在吗？', new Date().toISOString(), { buyer: { id: 'b-long' } }),
  );
}

async function signInAndOpen(page: Page, token: string, id: string) {
  await page.goto(`${suite.h.url}/console`);
  await page.fill('#token-input', token);
  await page.click('#sign-in-button');
  await page.locator(`.row-button[data-conversation-id="${id}"]`).click();
  await page.locator('.message').first().waitFor();
}

/** Elements (not fixed overlays) that reach past the right edge of the window. */
function offScreen(page: Page) {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const node of Array.from(document.querySelectorAll('body *'))) {
      const box = node.getBoundingClientRect();
      if (box.width > 0 && box.right > window.innerWidth + 1)
        out.push(`${node.tagName.toLowerCase()}.${node.className}`);
    }
    return { scrollWidth: document.documentElement.scrollWidth, offScreen: out.slice(0, 5) };
  });
}

describe('the console with hostile names and text', () => {
  for (const [device, options] of [
    ['desk', DESK],
    ['phone', PHONE],
  ] as const) {
    it(`keeps long unbroken names and messages inside the window (${device})`, async () => {
      const { shop, agent, id } = await hostileConversation();
      const page = await newPage(options);
      await signInAndOpen(page, agent.token, id);
      // With the page live, the buyer waits past the shop's one second once more: the
      // slow-reply banner names buyer and shop too (an alert raised before the page
      // connected is not replayed, so the wait starts only now).
      await waitAgain(shop, agent.token, id);
      await page.waitForSelector('#alert-banner:not([hidden])', { timeout: 15_000 });
      const width = options.viewport!.width;
      expect(await offScreen(page)).toEqual({ scrollWidth: width, offScreen: [] });
      // The Send button can be reached.
      const send = await page.locator('#send').boundingBox();
      expect(send!.x + send!.width).toBeLessThanOrEqual(width);
      expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    }, 30_000);
  }

  it("keeps an RTL override inside the name it came in: the page's own words are not drawn backwards", async () => {
    const { shop, agent, id } = await hostileConversation();
    const page = await newPage(DESK);
    await signInAndOpen(page, agent.token, id);
    // With the page live, the buyer writes again and waits past the shop's one second: the
    // slow-reply banner (an alert raised before the page connected is not replayed).
    await waitAgain(shop, agent.token, id);
    await page.locator('.message.from-agent .message-meta').first().waitFor();
    await page.waitForSelector('#alert-banner:not([hidden])', { timeout: 15_000 });
    // Every name, message and suggestion is its own bidi island. Polled: on a starved machine
    // Chromium has answered "" for every node while the view was still being drawn.
    await expect
      .poll(() =>
        page.$$eval('[translate="no"]', (nodes) =>
          nodes
            .map((node) => getComputedStyle(node).unicodeBidi)
            .filter((value) => value !== 'isolate' && value !== 'plaintext'),
        ),
      )
      .toEqual([]);
    // What follows a name on the same line is drawn after it, left to right:
    // the agent's name then " · 15:57", the buyer and shop then "已等待 …".
    const order = (selector: string) =>
      page.$eval(selector, (box) => {
        const name = box.querySelector('[translate="no"]')!;
        const after = name.nextSibling!;
        const range = document.createRange();
        range.selectNodeContents(after);
        // A long name wraps: compare with the line its last part is on. What follows it
        // either starts further right on that line or on a line below.
        const rects = name.getClientRects();
        const last = rects[rects.length - 1];
        const next = range.getClientRects()[0];
        // Not laid out this instant (the view is being redrawn): asked again below.
        if (!last || !next) return null;
        return {
          nameEnd: Math.round(last.right),
          nameLine: Math.round(last.top),
          after: Math.round(next.left),
          afterLine: Math.round(next.top),
        };
      });
    const laidOut = async (selector: string) => {
      for (let tries = 0; ; tries += 1) {
        const box = await order(selector).catch(() => null);
        if (box || tries >= 100) return box;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    for (const selector of ['.message.from-agent .message-meta', '#alert-text']) {
      const box = await laidOut(selector);
      if (!box) throw new Error(`${selector} was never laid out`);
      const drawnAfter =
        box.afterLine > box.nameLine ||
        (box.afterLine === box.nameLine && box.after >= box.nameEnd - 1);
      expect({ selector, drawnAfter, box }).toEqual({ selector, drawnAfter: true, box });
    }
    // The banner names buyer and shop each on their own: the buyer's override does not turn the shop's name around.
    expect(await page.$$eval('#alert-text [translate="no"]', (n) => n.length)).toBe(2);
  }, 30_000);
});
