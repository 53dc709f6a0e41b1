import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { drained, traffic } from '../support/billing-traffic';
import { consoleSuite } from '../support/console-suite';
import { buyerMessage, eventually } from '../support/harness';
import { untranslatedWords } from '../support/untranslated';

const suite = consoleSuite();

type Shop = { id: string; webhookSecret: string; ownerKey: string };
type Agent = { id: string; token: string };

const CATALOG = {
  products: [
    { id: 'sofa', name: '北欧布艺沙发', options: { colour: ['浅灰', '燕麦白'] } },
    { id: 'rug', name: '羊毛地毯', options: { size: ['160x230'] } },
  ],
};

async function shopWithAgent(name: string, input: Record<string, unknown> = {}) {
  const shop = (await suite.h.createGenericShop({
    name,
    credentials: { replyUrl: suite.standIn.replyUrl },
    ...input,
  })) as Shop;
  const agent = (await suite.h.api('/v1/agents', { body: { name: '林晓', shopIds: [shop.id] } }))
    .body as Agent;
  return { shop, agent };
}

async function openConsole(token: string): Promise<Page> {
  const context = await suite.chromium.browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'zh-CN',
  });
  context.setDefaultTimeout(10_000);
  suite.contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${suite.h.url}/console`);
  await page.fill('#token-input', token);
  await page.click('#sign-in-button');
  await page.waitForSelector('#connection[data-state="live"]');
  return page;
}

function say(shop: Shop, buyerId: string, text: string, name: string) {
  return suite.h.sendGeneric(
    shop,
    buyerMessage(buyerId, text, Date.now(), { buyer: { id: buyerId, name } }),
  );
}

describe('quick phrases in the composer', () => {
  it("finds the shop's and the agent's phrases by shortcut or text after '/', fills in {buyerName}, and adds a personal one", async () => {
    const { shop, agent } = await shopWithAgent('短语店');
    expect(
      (
        await suite.h.api(`/v1/shops/${shop.id}/quick-phrases`, {
          body: { shortcut: 'hi', text: '{buyerName}您好，欢迎光临！' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await suite.h.api('/v1/agent/quick-phrases', {
          token: agent.token,
          body: { shortcut: 'kd', text: '今天下单，明天发顺丰快递。' },
        })
      ).status,
    ).toBe(201);
    // Another shop's phrase never shows here.
    const other = await suite.h.createGenericShop({ name: '别家店' });
    await suite.h.api(`/v1/shops/${other.id}/quick-phrases`, {
      body: { shortcut: 'hix', text: '别家的问候' },
    });

    const page = await openConsole(agent.token);
    await say(shop, 'phrase-buyer', '在吗？', '王丽');
    const id = conversationId(shop.id, 'phrase-buyer');
    await page.locator(`.row-button[data-conversation-id="${id}"]`).click();

    // From the list, "/" jumps into the composer with every phrase offered.
    await page.locator('#messages .message').first().waitFor();
    await page.keyboard.press('/');
    await page.waitForSelector('#phrase-picker:not([hidden])');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('composer-text');
    expect(await page.locator('.phrase-option').count()).toBe(2);
    expect(await page.locator('.phrase-option .phrase-scope').allTextContents()).toEqual(
      expect.arrayContaining(['店铺', '我的']),
    );
    expect(await untranslatedWords(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#phrase-picker', { state: 'hidden' });

    // By shortcut: "/h" then Enter.
    await page.keyboard.type('/h');
    await page.waitForSelector('#phrase-picker:not([hidden])');
    expect(await page.locator('.phrase-option .phrase-shortcut').allTextContents()).toEqual([
      '/hi',
    ]);
    await page.keyboard.press('Enter');
    expect(await page.inputValue('#composer-text')).toBe('王丽您好，欢迎光临！');

    // By text, after what is already written: "/顺丰", arrow, Tab.
    await page.keyboard.type(' /顺丰');
    await page.waitForSelector('#phrase-picker:not([hidden])');
    await page.keyboard.press('Tab');
    expect(await page.inputValue('#composer-text')).toBe(
      '王丽您好，欢迎光临！ 今天下单，明天发顺丰快递。',
    );
    await page.keyboard.press('Enter');
    await eventually(async () =>
      suite.standIn.received.find(
        (r) => r.body.data.buyerId === 'phrase-buyer' && r.body.data.text.startsWith('王丽您好'),
      ),
    );

    // A personal phrase added in the console is offered at once.
    await page.click('#phrases-manage');
    await page.waitForSelector('#phrases-dialog[open]');
    expect(await page.locator('#my-phrases .phrase-shortcut').allTextContents()).toEqual(['/kd']);
    await page.fill('#phrase-shortcut', 'xie');
    await page.fill('#phrase-text', '谢谢{buyerName}的支持！');
    await page.click('#phrase-add');
    await page.locator('#my-phrases .phrase-shortcut', { hasText: '/xie' }).waitFor();
    await page.click('#phrases-close');
    await page.focus('#composer-text');
    await page.keyboard.type('/xie');
    await page.keyboard.press('Enter');
    expect(await page.inputValue('#composer-text')).toBe('谢谢王丽的支持！');
  });
});

describe('buyer context beside the chat', () => {
  it('shows the orders, rating, earlier conversations and the products the buyer named', async () => {
    const { shop, agent } = await shopWithAgent('家居店', {
      catalog: CATALOG,
      timezone: 'Asia/Shanghai',
    });
    const t = traffic(suite.h, shop);
    const id = conversationId(shop.id, 'ctx-buyer');
    // An earlier conversation, closed.
    await say(shop, 'ctx-buyer', '上次的地毯到了，谢谢', '王丽');
    await eventually(
      async () =>
        (await suite.h.container.conversations.history(shop.id, 'ctx-buyer', 10)).length === 1,
    );
    await suite.h.api(`/v1/agent/conversations/${id}/close`, {
      token: agent.token,
      method: 'POST',
    });
    await t.order('ctx-buyer', 129_900, '2026-11-20T06:30:00Z', 'o-2026-1120');
    await t.rating('ctx-buyer', 5, '2026-11-21T02:00:00Z');
    await drained(suite.h);

    const page = await openConsole(agent.token);
    await say(shop, 'ctx-buyer', '这款北欧布艺沙发有浅灰色吗？', '王丽');
    await page.locator(`.row-button[data-conversation-id="${id}"]`).click();
    const orders = page.locator('.context-orders');
    await orders.locator('.context-order').first().waitFor();
    expect(await orders.locator('.order-id').textContent()).toBe('o-2026-1120');
    expect(await orders.locator('.order-amount').textContent()).toBe('¥1,299.00');
    // Paid time in the shop's zone (06:30 UTC is 14:30 in Shanghai), never a raw ISO stamp.
    expect(await orders.locator('.order-paid').textContent()).toBe('2026年11月20日 14:30');
    expect(await page.textContent('.context-rating .rating')).toBe('5 / 5 分');
    expect(await page.locator('.earlier-conversation').allTextContents()).toHaveLength(1);
    expect(await page.textContent('.earlier-conversation')).toContain('上次的地毯到了');
    await page.locator('.context-product', { hasText: '北欧布艺沙发' }).waitFor();
    expect(await page.locator('.context-product').allTextContents()).toEqual(['北欧布艺沙发']);
    expect(await untranslatedWords(page)).toEqual([]);
  });

  it('asks for a buyer context that failed to load again when the conversation is opened again', async () => {
    const { shop, agent } = await shopWithAgent('重试店');
    const page = await openConsole(agent.token);
    await say(shop, 'retry-a', '在吗？', '甲');
    await say(shop, 'retry-b', '有货吗？', '乙');
    const a = conversationId(shop.id, 'retry-a');
    const b = conversationId(shop.id, 'retry-b');
    await page.locator(`.row-button[data-conversation-id="${b}"]`).waitFor();
    // The service is briefly away for the first context asked for.
    let asked = 0;
    await page.route('**/context', async (route) => {
      asked += 1;
      if (asked === 1) await route.fulfill({ status: 503, body: '{}' });
      else await route.continue();
    });
    await page.locator(`.row-button[data-conversation-id="${a}"]`).click();
    await page.locator('#context-body', { hasText: '无法获取买家信息' }).waitFor();
    await page.locator(`.row-button[data-conversation-id="${b}"]`).click();
    await page.locator(`.row-button[data-conversation-id="${a}"]`).click();
    await page.locator('#context-body .context-block').first().waitFor();
    expect(await page.textContent('#context-body')).not.toContain('无法获取买家信息');
    expect(asked).toBe(3);
  });

  it('shows the marketplace badge from the shop channel, in the agent language', async () => {
    const { shop, agent } = await shopWithAgent('拼团好物', { channel: 'pinduoduo' });
    const page = await openConsole(agent.token);
    await say(shop, 'pdd-buyer', '能便宜点吗', '赵雷');
    const row = page.locator(
      `.row-button[data-conversation-id="${conversationId(shop.id, 'pdd-buyer')}"]`,
    );
    await row.waitFor();
    expect(await row.locator('.platform').textContent()).toBe('拼多多');
    expect(await row.locator('.platform').getAttribute('data-channel')).toBe('pinduoduo');
  });
});
