import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { launchChromium } from '../support/browser';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';
import { startPlatformStandIn } from '../support/platform-stand-in';
import { untranslatedWords } from '../support/untranslated';

let h: Harness;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let standIn: Awaited<ReturnType<typeof startPlatformStandIn>>;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  h = await startHarness({
    // An agent whose consoles are all closed is offline two seconds later.
    env: {
      OUTBOUND_BACKOFF_MS: '50',
      AGENT_OFFLINE_AFTER_SECONDS: '2',
      SSE_HEARTBEAT_SECONDS: '1',
    },
  });
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
type Agent = { id: string; token: string; name: string };

async function shopWithAgents(name: string, agentNames: string[]) {
  const shop = (await h.createGenericShop({
    name,
    credentials: { replyUrl: standIn.replyUrl },
  })) as Shop;
  const agents: Agent[] = [];
  for (const agentName of agentNames)
    agents.push(
      (await h.api('/v1/agents', { body: { name: agentName, shopIds: [shop.id] } })).body as Agent,
    );
  return { shop, agents };
}

async function openConsole(token: string): Promise<Page> {
  const context = await chromium.browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'zh-CN',
  });
  context.setDefaultTimeout(10_000);
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${h.url}/console`);
  await page.fill('#token-input', token);
  await page.click('#sign-in-button');
  await page.waitForSelector('#connection[data-state="live"]');
  return page;
}

const holder = (shop: Shop, buyerId: string) =>
  h.container.assignment.ownerOf(conversationId(shop.id, buyerId));

function say(shop: Shop, buyerId: string, text: string, name: string) {
  return h.sendGeneric(
    shop,
    buyerMessage(buyerId, text, Date.now(), { buyer: { id: buyerId, name } }),
  );
}

/** The row of a buyer in one console, and who the console says holds it. */
const rowOf = (page: Page, id: string) => page.locator(`.row-button[data-conversation-id="${id}"]`);

describe('two agents on one shop', () => {
  it('hands a waiting buyer to the online colleague when the holder switches to away, and back to routing when they return', async () => {
    const { shop, agents } = await shopWithAgents('交接店', ['林晓', '周敏']);
    const [lin, zhou] = agents as [Agent, Agent];
    const linPage = await openConsole(lin.token);
    const zhouPage = await openConsole(zhou.token);
    expect(await linPage.inputValue('#presence')).toBe('online');

    // Zhou steps away first: the next buyer can only go to Lin.
    await zhouPage.locator('#presence').selectOption('away');
    await zhouPage.waitForSelector('#presence[data-status="away"]');
    await say(shop, 'handover-buyer', '在吗？想问下尺码', '王丽');
    const id = conversationId(shop.id, 'handover-buyer');
    expect(await eventually(async () => (await holder(shop, 'handover-buyer')) === lin.id)).toBe(
      true,
    );
    await rowOf(linPage, id).waitFor();
    expect(await rowOf(linPage, id).locator('.assignee').textContent()).toBe('我');

    // Zhou is back, Lin steps away: the waiting buyer moves to Zhou, both consoles follow.
    await zhouPage.locator('#presence').selectOption('online');
    await zhouPage.waitForSelector('#presence[data-status="online"]');
    await linPage.locator('#presence').selectOption('away');
    await eventually(async () => (await holder(shop, 'handover-buyer')) === zhou.id);
    await rowOf(zhouPage, id).locator('.assignee', { hasText: '我' }).waitFor();
    await rowOf(linPage, id).locator('.assignee', { hasText: '周敏' }).waitFor();
    await rowOf(zhouPage, id).click();
    await zhouPage.waitForSelector('#transfer-note:not([hidden])');
    expect(await zhouPage.textContent('#transfer-note')).toContain('离开');
    expect(await untranslatedWords(zhouPage)).toEqual([]);

    // Away survives Lin's reload.
    await linPage.reload();
    await linPage.waitForSelector('#connection[data-state="live"]');
    expect(await linPage.inputValue('#presence')).toBe('away');
  });

  it('hands a waiting buyer over when the holder closes the console and goes offline', async () => {
    const { shop, agents } = await shopWithAgents('离线店', ['林晓', '周敏']);
    const [lin, zhou] = agents as [Agent, Agent];
    const linPage = await openConsole(lin.token);
    await say(shop, 'offline-buyer', '你好，有货吗？', '李敏');
    await eventually(async () => (await holder(shop, 'offline-buyer')) === lin.id);
    const zhouPage = await openConsole(zhou.token);
    const id = conversationId(shop.id, 'offline-buyer');
    await rowOf(zhouPage, id).locator('.assignee', { hasText: '林晓' }).waitFor();

    await linPage.context().close();
    await eventually(async () => (await holder(shop, 'offline-buyer')) === zhou.id, 15_000);
    await rowOf(zhouPage, id).locator('.assignee', { hasText: '我' }).waitFor();
  });

  it('transfers a buyer with a note: the colleague sees who sent it and the note', async () => {
    const { shop, agents } = await shopWithAgents('转接店', ['林晓', 'Amy Chen']);
    const [lin, amy] = agents as [Agent, Agent];
    const linPage = await openConsole(lin.token);
    const amyPage = await openConsole(amy.token);
    // Amy away while the buyer arrives, so Lin holds them; then Amy comes back.
    await amyPage.locator('#presence').selectOption('away');
    await amyPage.waitForSelector('#presence[data-status="away"]');
    await say(shop, 'transfer-buyer', '我要换货，订单号 8812', '陈杰');
    await eventually(async () => (await holder(shop, 'transfer-buyer')) === lin.id);
    await amyPage.locator('#presence').selectOption('online');
    await amyPage.waitForSelector('#presence[data-status="online"]');

    const id = conversationId(shop.id, 'transfer-buyer');
    await rowOf(linPage, id).click();
    await linPage.keyboard.press('t');
    await linPage.waitForSelector('#transfer-dialog[open]');
    expect(await linPage.locator('#transfer-to option').allTextContents()).toEqual(['Amy Chen']);
    expect(await untranslatedWords(linPage)).toEqual([]);
    await linPage.fill('#transfer-note-input', '买家要换货，订单已核实');
    await linPage.click('#transfer-confirm');
    await linPage.waitForSelector('#notice-banner:not([hidden])');
    expect(await linPage.textContent('#notice-text')).toBe('已转接给 Amy Chen。');
    expect(await holder(shop, 'transfer-buyer')).toBe(amy.id);

    await rowOf(amyPage, id).locator('.assignee', { hasText: '我' }).waitFor();
    await rowOf(amyPage, id).click();
    await amyPage.waitForSelector('#transfer-note:not([hidden])');
    expect(await amyPage.textContent('#transfer-note')).toBe(
      '林晓 把这位买家转接给了您：“买家要换货，订单已核实”',
    );
    // The note stays until Amy answers.
    await amyPage.fill('#composer-text', '您好，我来为您办理换货');
    await amyPage.press('#composer-text', 'Enter');
    await amyPage.waitForSelector('#transfer-note', { state: 'hidden' });
  });

  it('says so when no colleague is online to take a transfer', async () => {
    const { shop, agents } = await shopWithAgents('独自店', ['林晓', '周敏']);
    const [lin] = agents as [Agent, Agent];
    const page = await openConsole(lin.token);
    await say(shop, 'alone-buyer', '在吗', '赵雷');
    await eventually(async () => (await holder(shop, 'alone-buyer')) === lin.id);
    await rowOf(page, conversationId(shop.id, 'alone-buyer')).click();
    await page.click('#transfer-open');
    await page.waitForSelector('#transfer-dialog[open]');
    expect(await page.isVisible('#transfer-none')).toBe(true);
    expect(await page.isDisabled('#transfer-confirm')).toBe(true);
  });
});
