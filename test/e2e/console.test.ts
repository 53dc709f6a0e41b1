import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, BrowserContextOptions, Page, Request, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { verifyStandardWebhook } from '../../src/platforms/generic/standard-webhooks';
import { launchChromium } from '../support/browser';
import { seedConsoleDemo } from '../support/console-demo';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';
import { startPlatformStandIn } from '../support/platform-stand-in';
import { screenshotPath } from '../support/screenshot-path';

const SCREENSHOT = screenshotPath('console.png');

let h: Harness;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let standIn: Awaited<ReturnType<typeof startPlatformStandIn>>;
const contexts: BrowserContext[] = [];
/** Script errors and CSP refusals per page: an inline style or script would show up here. */
const problems = new Map<Page, string[]>();

beforeAll(async () => {
  h = await startHarness({ env: { OUTBOUND_BACKOFF_MS: '50', SSE_HEARTBEAT_SECONDS: '2' } });
  standIn = await startPlatformStandIn();
  chromium = await launchChromium();
});
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await chromium?.close();
  await standIn?.close();
  await h?.close();
});

type Shop = { id: string; webhookSecret: string };

/** What an English-speaking agent reads on each tactic chip (the Chinese consoles use the source's terms). */
const TACTIC_CHIPS: Record<string, string> = {
  greeting: 'Greeting',
  answer: 'Answer',
  empathy: 'Empathy',
  help_choose: 'Help choose',
  alternative_close: 'Alternative close',
  busy_nudge: 'Busy nudge',
  follow_up: 'Follow-up',
};

async function shopWithAgent(name: string, agentName: string, input: Record<string, unknown> = {}) {
  const shop = await h.createGenericShop({
    name,
    credentials: { replyUrl: standIn.replyUrl },
    ...input,
  });
  const agent = (await h.api('/v1/agents', { body: { name: agentName, shopIds: [shop.id] } }))
    .body as { id: string; token: string };
  return { shop, agent };
}

const DESK: BrowserContextOptions = { viewport: { width: 1280, height: 800 }, locale: 'en-US' };
const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  hasTouch: true,
  isMobile: true,
  locale: 'en-US',
};
/** The agents' own setting: a desk browser in Simplified Chinese. */
const CHINESE_DESK: BrowserContextOptions = { ...DESK, locale: 'zh-CN' };

async function newPage(device: BrowserContextOptions = DESK): Promise<Page> {
  const context = await chromium.browser.newContext(device);
  // Under the test timeout, so a stuck step fails with its own locator instead of a bare timeout.
  context.setDefaultTimeout(10_000);
  contexts.push(context);
  const page = await context.newPage();
  const seen: string[] = [];
  page.on('pageerror', (error) => seen.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text()))
      seen.push(message.text());
  });
  problems.set(page, seen);
  return page;
}

/** Signs in through the form and waits until the event stream is live. */
async function openConsole(token: string, device: BrowserContextOptions = DESK): Promise<Page> {
  const page = await newPage(device);
  await page.goto(`${h.url}/console`);
  await page.fill('#token-input', token);
  await page.click('#sign-in-button');
  await page.waitForSelector('#connection[data-state="live"]');
  return page;
}

function say(shop: Shop, buyerId: string, text: string, extra: Record<string, unknown> = {}) {
  return h.sendGeneric(shop, buyerMessage(buyerId, text, Date.now(), extra));
}

describe('agent console', () => {
  it('shows a webhook message with its suggestion, sends it in one click and shows it answered', async () => {
    const { shop, agent } = await shopWithAgent('云杉家居旗舰店', '林晓', {
      catalog: {
        products: [{ id: 'sofa', name: '北欧布艺沙发', options: { colour: ['浅灰', '燕麦白'] } }],
      },
    });
    const page = await openConsole(agent.token);
    expect(await page.textContent('#agent-name')).toBe('林晓');

    await say(shop, 'buyer-wang', '这款沙发有浅灰色吗？', {
      buyer: { id: 'buyer-wang', name: '王女士' },
    });
    const row = page.locator('.conversation-row', { hasText: '王女士' });
    await row.waitFor();
    expect(await row.locator('.shop-name').textContent()).toBe('云杉家居旗舰店');
    expect(await row.locator('.platform').textContent()).toBe('Web');
    expect(await row.locator('.assignee').textContent()).toBe('You');

    await row.locator('button').click();
    const first = page.locator('.suggestion').first();
    await first.waitFor();
    const [summary] = (await h.api('/v1/agent/conversations', { token: agent.token })).body
      .conversations;
    const suggestion = summary.suggestions[0] as { id: string; text: string; tactic: string };
    expect(await first.locator('.suggestion-text').textContent()).toBe(suggestion.text);
    expect(await first.getAttribute('data-suggestion-id')).toBe(suggestion.id);
    expect(await first.locator('.tactic').textContent()).toBe(TACTIC_CHIPS[suggestion.tactic]);
    expect(await first.locator('.tactic').getAttribute('class')).toContain(
      `tactic-${suggestion.tactic}`,
    );
    expect(await page.textContent('#messages')).toContain('这款沙发有浅灰色吗？');

    await first.getByRole('button', { name: /as is/ }).click();

    const delivered = await eventually(async () =>
      standIn.received.find((r) => r.body.data.buyerId === 'buyer-wang'),
    );
    expect(delivered.body).toMatchObject({
      type: 'reply',
      data: { text: suggestion.text, conversationId: summary.conversationId },
    });
    expect(() =>
      verifyStandardWebhook(shop.webhookSecret, delivered.headers, delivered.rawBody, Date.now()),
    ).not.toThrow();

    await page.waitForSelector('#reply-status[data-status="sent"]');
    await page.waitForSelector('#conversation-timer.is-answered');
    await page.waitForSelector('.conversation-row .timer.is-answered');
    expect(await page.locator('.message.from-agent .bubble').last().textContent()).toBe(
      suggestion.text,
    );
    expect(await page.locator('.suggestion').count()).toBe(0);
    await page.waitForFunction(
      () => document.getElementById('figure-answered')?.textContent === '1',
    );
    const replyId = await page.getAttribute('#reply-status', 'data-reply-id');
    const reply = await h.api(
      `/v1/agent/conversations/${summary.conversationId}/replies/${replyId}`,
      { token: agent.token },
    );
    expect(reply.body).toMatchObject({ status: 'sent', origin: 'suggestion_as_is' });
    expect(problems.get(page)).toEqual([]);
  });

  it('puts a suggestion in the composer on "edit" and records the sent reply as edited', async () => {
    const { shop, agent } = await shopWithAgent('Harbour Tea Co.', 'Amy');
    const page = await openConsole(agent.token);
    await say(shop, 'buyer-tea', 'Hi, is the oolong gift box still available?');
    await page.locator('.conversation-row').first().locator('button').click();
    const first = page.locator('.suggestion').first();
    await first.waitFor();
    const original = (await first.locator('.suggestion-text').textContent())!;

    await first.getByRole('button', { name: /Edit/ }).click();
    expect(await page.inputValue('#composer-text')).toBe(original);
    await page.locator('#editing-note').waitFor();
    await page.fill('#composer-text', `${original} We ship the same day.`);
    await page.getByRole('button', { name: 'Send reply' }).click();

    await page.waitForSelector('#reply-status[data-status="sent"]');
    expect(
      standIn.received.some((r) => r.body.data.text === `${original} We ship the same day.`),
    ).toBe(true);
    expect(await page.inputValue('#composer-text')).toBe('');
    const replyId = await page.getAttribute('#reply-status', 'data-reply-id');
    const conversationId = await page
      .locator('.conversation-row button')
      .first()
      .getAttribute('data-conversation-id');
    const reply = await h.api(`/v1/agent/conversations/${conversationId}/replies/${replyId}`, {
      token: agent.token,
    });
    expect(reply.body.origin).toBe('suggestion_edited');
  });

  it('sends a reply whose answer was lost again without giving the buyer the words twice', async () => {
    const { shop, agent } = await shopWithAgent('Lost Answer Co.', 'Kit');
    const page = await openConsole(agent.token);
    await say(shop, 'buyer-lost', 'Do you ship to Macau?');
    await page.locator('.conversation-row').first().locator('button').click();
    await page.locator('.message').first().waitFor();
    // The first send reaches the service, but the connection drops before its answer.
    let posts = 0;
    const keys: string[] = [];
    await page.route('**/replies', async (route) => {
      posts += 1;
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      const response = await route.fetch();
      if (posts === 1) await route.abort('connectionreset');
      else await route.fulfill({ response });
    });
    await page.fill('#composer-text', 'Yes, we ship to Macau in 3 days.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.waitForSelector('#reply-status[data-status="failed"]');
    // The agent sends again.
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.waitForSelector('#reply-status[data-status="sent"]');
    expect(posts).toBe(2);
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(keys[1]).toBe(keys[0]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const mine = standIn.received.filter((r) => r.body.data.buyerId === 'buyer-lost');
    expect(mine.map((r) => r.body.data.text)).toEqual(['Yes, we ship to Macau in 3 days.']);
  });

  it('keeps a conversation open when the buyer writes as the agent closes it, and shows why', async () => {
    const { shop, agent } = await shopWithAgent('Late Word Co.', 'Max');
    const page = await openConsole(agent.token);
    // The page's requests in flight, its event stream aside: a read answered after the append
    // below would show the page the message, and the close would then rightly go through.
    // Waiting for quiet is not enough on its own (a late event can start a read after it), so
    // from the append until the close has been refused the page's reads are held back.
    // Tracked by identity, not by a count: a read the sign-in began before these listeners can
    // finish after them, and a count would then never come back to zero.
    const inFlight = new Set<Request>();
    page.on('request', (r) => {
      if (!r.url().includes('/v1/agent/events')) inFlight.add(r);
    });
    page.on('requestfinished', (r) => inFlight.delete(r));
    page.on('requestfailed', (r) => inFlight.delete(r));
    // Quiet: no read in flight for 300 ms, but those held back.
    const heldRequests = new Set<Request>();
    const quiet = async () => {
      const still = () => [...inFlight].every((r) => heldRequests.has(r));
      for (let calm = 0; calm < 6; calm = still() ? calm + 1 : 0)
        await new Promise((resolve) => setTimeout(resolve, 50));
    };
    await say(shop, 'buyer-late', 'Thanks, that is all.');
    await page.locator('.conversation-row').first().locator('button').click();
    await page.locator('.message').first().waitFor();
    // The suggestion comes last: once it shows, no event is still due to refresh the view; the
    // refresh an earlier event began must have answered too.
    await page.locator('.suggestion').first().waitFor();
    await quiet();
    const held: Route[] = [];
    let holding = true;
    await page.route('**/v1/**', async (route) => {
      const request = route.request();
      if (holding && request.method() === 'GET' && !request.url().includes('/v1/agent/events')) {
        held.push(route);
        heldRequests.add(request);
      } else await route.continue();
    });
    // A read that began before the hold (a late event's refresh) must answer before the append:
    // answered after it, it would show the page the message.
    await quiet();
    // A message the page has not been told about yet: it lands just before the click.
    await h.container.conversations.append(shop.id, 'buyer-late', {
      id: 'm-late',
      from: 'buyer',
      text: 'Oh wait, one more thing!',
      at: Date.now() + 1000,
    });
    await page.click('#close-conversation');
    await page.waitForSelector('#reply-status[data-status="failed"]');
    expect(await page.textContent('#reply-status')).toContain('read the new message');
    // The refusal makes the page read the conversation again: let its reads through now.
    holding = false;
    for (const route of held.splice(0)) await route.continue();
    await page.locator('.message .bubble', { hasText: 'Oh wait, one more thing!' }).waitFor();
    expect(await page.locator('.conversation-row').count()).toBe(1);
  });

  it('shows buyer HTML as text and never runs it', async () => {
    const { shop, agent } = await shopWithAgent('Escape shop', 'Bo');
    const page = await openConsole(agent.token);
    const hostile = '<img src=x onerror="window.__pwned = 1"><b>bold</b>';
    await say(shop, 'buyer-x', hostile, {
      buyer: { id: 'buyer-x', name: '<script>window.__pwned = 2</script>' },
    });
    const row = page.locator('.conversation-row').first();
    await row.waitFor();
    expect(await row.locator('.row-preview').textContent()).toBe(hostile);
    expect(await row.locator('.row-buyer').textContent()).toBe(
      '<script>window.__pwned = 2</script>',
    );
    await row.locator('button').click();
    await page.locator('.message.from-buyer').first().waitFor();
    expect(await page.locator('.message.from-buyer .bubble').first().textContent()).toBe(hostile);

    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('b').count()).toBe(0);
    expect(await page.locator('body script').count()).toBe(0);
    expect(
      await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
  });

  it('turns the waiting timer red past the shop threshold and flags the alert', async () => {
    const { shop, agent } = await shopWithAgent('Quick shop', 'Cai', {
      settings: { slowReplySeconds: 1 },
    });
    const page = await openConsole(agent.token);
    await say(shop, 'impatient', '在吗？');
    const row = page.locator('.conversation-row').first();
    await row.waitFor();
    await page.waitForSelector('.conversation-row .timer.is-overdue', { timeout: 5000 });
    const colour = await row
      .locator('.timer')
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(colour).toBe('rgb(180, 35, 24)');

    // The worker's slow-reply alert: a banner and a highlighted row, no sound.
    await page.waitForSelector('#alert-banner:not([hidden])', { timeout: 10_000 });
    expect(await page.textContent('#alert-text')).toContain('Quick shop');
    expect(await row.getAttribute('class')).toContain('is-alerted');
    await page.click('#alert-open');
    await page.waitForSelector('#alert-banner', { state: 'hidden' });
    expect(await page.textContent('#buyer-name')).toBe('impatient');
  });

  it('refuses an invalid token with a sign-in error and signs out on request', async () => {
    const page = await newPage();
    await page.goto(`${h.url}/console`);
    await page.fill('#token-input', 'agt_not_a_real_token');
    await page.click('#sign-in-button');
    await page.waitForSelector('#sign-in-error:not([hidden])');
    expect(await page.textContent('#sign-in-error')).toContain('unknown or has been revoked');
    expect(await page.isHidden('#workspace')).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    const { agent } = await shopWithAgent('Sign-out shop', 'Dee');
    await page.fill('#token-input', agent.token);
    await page.click('#sign-in-button');
    await page.waitForSelector('#workspace:not([hidden])');
    expect(await page.isHidden('#sign-in-error')).toBe(true);
    // A reload keeps the tab signed in; signing out forgets the token.
    await page.reload();
    await page.waitForSelector('#workspace:not([hidden])');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForSelector('#sign-in:not([hidden])');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('works on a phone: list, tap to open with the suggestion, back to the list', async () => {
    const { shop, agent } = await shopWithAgent('小鹿童裝', 'Eve');
    const page = await openConsole(agent.token, PHONE);
    await say(shop, 'buyer-tw', '請問這件外套有110的尺寸嗎？');
    const row = page.locator('.conversation-row').first();
    await row.waitFor();
    expect(await page.isVisible('#conversation')).toBe(false);

    await row.locator('button').tap();
    await page.locator('.suggestion').first().waitFor();
    expect(await page.isVisible('.list-pane')).toBe(false);
    expect(await page.isVisible('.suggestion .tactic')).toBe(true);
    // Measured inside the page (auto-waits for an attached element): a suggestion re-rendered by
    // a later event between two calls would have no bounding box.
    const right = await page
      .locator('.suggestion')
      .first()
      .evaluate((el) => el.getBoundingClientRect().right);
    expect(right).toBeLessThanOrEqual(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );

    await page.getByRole('button', { name: 'Back to conversations' }).click();
    expect(await page.isVisible('.list-pane')).toBe(true);
    expect(await page.isVisible('#conversation')).toBe(false);
  });

  it("shows who holds a conversation, refuses to answer a colleague's buyer, and drops it live when closed", async () => {
    const { shop, agent: mine } = await shopWithAgent('Two-seat shop', 'Hana');
    const colleague = (await h.api('/v1/agents', { body: { name: 'Ivan', shopIds: [shop.id] } }))
      .body as { token: string };
    // Ivan is at his desk: his buyer stays his.
    await h.setPresence(colleague.token, 'online');
    // The buyer's first message is stored (not yet offered), so Ivan can claim it ahead of the console.
    await h.container.conversations.append(shop.id, 'held-buyer', {
      id: 'm-held-0',
      from: 'buyer',
      text: 'hello?',
      at: Date.now(),
    });
    const id = conversationId(shop.id, 'held-buyer');
    expect(
      (
        await h.api(`/v1/agent/conversations/${id}/claim`, {
          token: colleague.token,
          method: 'POST',
        })
      ).status,
    ).toBe(200);

    const page = await openConsole(mine.token);
    await say(shop, 'held-buyer', 'is anyone there?');
    const row = page.locator(`.row-button[data-conversation-id="${id}"]`);
    await row.waitFor();
    expect(await row.locator('.assignee').textContent()).toBe('Ivan');
    await row.click();
    await page.waitForFunction(
      () => document.getElementById('conversation-assignee')?.textContent === 'Ivan is answering',
    );
    expect(await page.isVisible('#claim')).toBe(true);

    await page.fill('#composer-text', 'I can help you too');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await page.waitForSelector('#reply-status[data-status="failed"]');
    expect(await page.textContent('#reply-status')).toBe('Ivan is already answering this buyer.');
    expect(standIn.received.some((r) => r.body.data.buyerId === 'held-buyer')).toBe(false);

    expect(
      (
        await h.api(`/v1/agent/conversations/${id}/close`, {
          token: colleague.token,
          method: 'POST',
        })
      ).status,
    ).toBe(200);
    await row.waitFor({ state: 'detached' });
    expect(await page.isVisible('#conversation-empty')).toBe(true);
  });

  it("shows a reply the platform refuses as failed, with the platform's code", async () => {
    const { shop, agent } = await shopWithAgent('Refusing shop', 'Fay');
    standIn.refuse('blocked-buyer', 400, 'buyer_blocked');
    const page = await openConsole(agent.token);
    await say(shop, 'blocked-buyer', 'hello?');
    await page.locator('.conversation-row button').first().click();
    await page.fill('#composer-text', 'Hello! How can I help?');
    await page.press('#composer-text', 'Enter');

    await page.waitForSelector('#reply-status[data-status="failed"]');
    expect(await page.textContent('#reply-status')).toContain('HTTP 400 (buyer_blocked)');
    expect(await page.textContent('.message.from-agent .delivery')).toContain('buyer_blocked');
    // Not answered: the buyer is still waiting.
    expect(await page.getAttribute('#conversation-timer', 'class')).toContain('is-waiting');
    // After a reload the refused reply is still there, with the platform's code.
    await page.reload();
    await page.locator('.conversation-row button').first().click();
    await page.locator('.message.from-agent .delivery', { hasText: 'buyer_blocked' }).waitFor();
  });

  it('resumes the event stream after a drop with Last-Event-ID and misses nothing', async () => {
    const { shop, agent } = await shopWithAgent('Flaky network shop', 'Gus');
    const page = await openConsole(agent.token);
    const streamRequests: Array<string | undefined> = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/v1/agent/events'))
        streamRequests.push(request.headers()['last-event-id']);
    });
    await say(shop, 'before-drop', 'first question');
    await page.locator('.conversation-row', { hasText: 'before-drop' }).waitFor();

    h.server.closeAllConnections();
    await page.waitForSelector('#connection[data-state="reconnecting"]');
    await say(shop, 'during-drop', 'asked while the agent was offline');
    await page.waitForSelector('#connection[data-state="live"]');
    await page.locator('.conversation-row', { hasText: 'during-drop' }).waitFor();
    expect(streamRequests.at(-1)).toMatch(/^\d+-\d+$/);
  });

  it('renders a realistic morning at 1280x800 in Chinese and saves docs/console.png', async () => {
    const demo = await seedConsoleDemo(h, standIn.replyUrl);
    const page = await openConsole(demo.token, CHINESE_DESK);
    await demo.play();
    await page.waitForFunction(() => document.querySelectorAll('.conversation-row').length === 8);
    await page.locator(`.row-button[data-conversation-id="${demo.featured}"]`).click();
    await page.locator('.suggestion').first().waitFor();
    await page.waitForSelector('#alert-banner:not([hidden])', { timeout: 10_000 });
    await page.waitForFunction(
      () => document.getElementById('figure-answered')?.textContent === '1',
    );

    expect(await page.locator('.platform', { hasText: 'LINE' }).count()).toBe(2);
    expect(await page.locator('.assignee', { hasText: 'Amy Chen' }).count()).toBeGreaterThan(0);
    expect(await page.locator('.conversation-row .timer.is-overdue').count()).toBeGreaterThan(0);
    expect(await page.textContent('#figure-rate')).toBe('100%');
    expect(await page.textContent('#suggestions-title')).toBe('建议回复');
    expect(await page.locator('.platform', { hasText: '网站' }).count()).toBeGreaterThan(0);
    // Let the alert flash settle so the picture shows the steady highlight.
    await page.waitForTimeout(4500);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(20_000);
  });
});
