import nock from 'nock';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { telegramMediaUpdate } from '../fixtures/platforms/telegram';
import { consoleSuite } from '../support/console-suite';
import { buyerMessage, eventually } from '../support/harness';

// Telegram's API is mocked (nock) for the media messages' files.
const suite = consoleSuite({ TELEGRAM_API_BASE: 'http://telegram.test' });

/** A 1x1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

type Shop = { id: string; webhookSecret: string };
type Agent = { id: string; token: string };

async function shopWithAgent(name: string, agentName: string) {
  const shop = (await suite.h.createGenericShop({
    name,
    credentials: { replyUrl: suite.standIn.replyUrl },
  })) as Shop;
  const agent = (await suite.h.api('/v1/agents', { body: { name: agentName, shopIds: [shop.id] } }))
    .body as Agent;
  return { shop, agent };
}

/**
 * Records what the page asks of the browser's alert machinery: permission
 * prompts, notifications shown, and beeps (oscillators started).
 */
function recordAlerts() {
  const calls = {
    permission: 0,
    notifications: [] as Array<{ title: string; body?: string }>,
    beeps: 0,
  };
  (window as unknown as { __alerts: typeof calls }).__alerts = calls;
  const Real = window.Notification;
  const ask = Real.requestPermission.bind(Real);
  const recording = function Notification(title: string, options?: NotificationOptions) {
    calls.notifications.push({ title, body: options?.body });
    return new Real(title, options);
  } as unknown as typeof Notification;
  Object.defineProperty(recording, 'permission', { get: () => Real.permission });
  recording.requestPermission = (...args: Parameters<typeof Real.requestPermission>) => {
    calls.permission += 1;
    return ask(...args);
  };
  window.Notification = recording;
  const oscillator = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function (this: AudioContext) {
    calls.beeps += 1;
    return oscillator.call(this);
  };
}

const alerts = (page: Page) =>
  page.evaluate(
    () =>
      (
        window as unknown as {
          __alerts: { permission: number; notifications: Array<{ title: string }>; beeps: number };
        }
      ).__alerts,
  );

async function newPage(options: BrowserContextOptions = {}): Promise<Page> {
  const context = await suite.chromium.browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'zh-CN',
    ...options,
  });
  context.setDefaultTimeout(10_000);
  await context.addInitScript(recordAlerts);
  suite.contexts.push(context);
  return context.newPage();
}

async function signIn(page: Page, token: string) {
  await page.goto(`${suite.h.url}/console`);
  await page.fill('#token-input', token);
  await page.click('#sign-in-button');
  await page.waitForSelector('#connection[data-state="live"]');
}

function say(shop: Shop, buyerId: string, text: string, name?: string) {
  return suite.h.sendGeneric(
    shop,
    buyerMessage(buyerId, text, Date.now(), name ? { buyer: { id: buyerId, name } } : {}),
  );
}

/** Waits until the service has suggestions for the buyer and the console shows the row. */
async function waitingWithSuggestions(page: Page, shop: Shop, agent: Agent, buyerId: string) {
  const id = conversationId(shop.id, buyerId);
  await eventually(
    async () =>
      (await suite.h.api(`/v1/agent/conversations/${id}`, { token: agent.token })).body.suggestions
        ?.length > 0,
  );
  await page.locator(`.row-button[data-conversation-id="${id}"]`).waitFor();
  return id;
}

describe('the console at keyboard speed', () => {
  it('sends the first suggestion in 2 key presses from an open console (J, then 1)', async () => {
    const { shop, agent } = await shopWithAgent('键盘店', '林晓');
    const page = await newPage();
    await signIn(page, agent.token);
    await say(shop, 'kb-buyer', '这款沙发有浅灰色吗？', '王丽');
    const id = await waitingWithSuggestions(page, shop, agent, 'kb-buyer');
    // Nothing focused, nothing open: the agent has just glanced at the list.
    expect(await page.evaluate(() => document.activeElement === document.body)).toBe(true);

    let presses = 0;
    const press = async (key: string) => {
      presses += 1;
      await page.keyboard.press(key);
    };
    await press('j');
    await page.locator('.suggestion').first().waitFor();
    const first = (await page.locator('.suggestion .suggestion-text').first().textContent())!;
    await press('1');
    const delivered = await eventually(async () =>
      suite.standIn.received.find((r) => r.body.data.buyerId === 'kb-buyer'),
    );
    expect(delivered.body.data.text).toBe(first);
    expect(presses).toBeLessThanOrEqual(3);
    await page.waitForSelector('#reply-status[data-status="sent"]');
    const replyId = await page.getAttribute('#reply-status', 'data-reply-id');
    const reply = await suite.h.api(`/v1/agent/conversations/${id}/replies/${replyId}`, {
      token: agent.token,
    });
    expect(reply.body.origin).toBe('suggestion_as_is');
  });

  it('moves between conversations, edits a suggestion, focuses the composer and shows the help, all by key', async () => {
    const { shop, agent } = await shopWithAgent('快捷键店', '周敏');
    const page = await newPage();
    await signIn(page, agent.token);
    await say(shop, 'first-buyer', '在吗？', '陈杰');
    const firstId = await waitingWithSuggestions(page, shop, agent, 'first-buyer');
    await say(shop, 'second-buyer', '请问有现货吗？', '周悦');
    const secondId = await waitingWithSuggestions(page, shop, agent, 'second-buyer');

    const selected = () =>
      page.getAttribute('.row-button[aria-current="true"]', 'data-conversation-id');
    await page.keyboard.press('j');
    await expect.poll(selected).toBe(firstId); // the longest wait first
    await page.keyboard.press('j');
    await expect.poll(selected).toBe(secondId);
    await page.keyboard.press('k');
    await expect.poll(selected).toBe(firstId);
    await page.keyboard.press('Alt+ArrowDown');
    await expect.poll(selected).toBe(secondId);

    await page.locator('.suggestion').first().waitFor();
    const text = (await page.locator('.suggestion .suggestion-text').first().textContent())!;
    await page.keyboard.press('e');
    await expect.poll(() => page.inputValue('#composer-text')).toBe(text);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('composer-text');
    await page.waitForSelector('#editing-note:not([hidden])');
    // Letters typed in the composer are text, not shortcuts.
    await page.keyboard.type(' jk');
    await expect.poll(() => page.inputValue('#composer-text')).toBe(`${text} jk`);
    expect(await selected()).toBe(secondId);
    await page.keyboard.press('Escape');
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.id))
      .not.toBe('composer-text');
    await page.keyboard.press('r');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('composer-text');
    await page.keyboard.press('Escape');

    await page.keyboard.press('?');
    await page.waitForSelector('#help[open]');
    const rows = await page.locator('#shortcut-rows tr').allTextContents();
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(rows.join('\n')).toContain('下一个会话');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#help:not([open])', { state: 'attached' });

    await page.keyboard.press('x');
    await page.locator(`.row-button[data-conversation-id="${secondId}"]`).waitFor({
      state: 'detached',
    });
  });

  it('keeps the open conversation and every draft across a reload', async () => {
    const { shop, agent } = await shopWithAgent('草稿店', '林晓');
    const page = await newPage();
    await signIn(page, agent.token);
    await say(shop, 'draft-a', '沙发几天能到？', '王丽');
    const a = await waitingWithSuggestions(page, shop, agent, 'draft-a');
    await say(shop, 'draft-b', '可以开发票吗？', '李敏');
    const b = await waitingWithSuggestions(page, shop, agent, 'draft-b');

    await page.locator(`.row-button[data-conversation-id="${a}"]`).click();
    await page.fill('#composer-text', '您好，一般三到五天');
    await page.locator(`.row-button[data-conversation-id="${b}"]`).click();
    expect(await page.inputValue('#composer-text')).toBe('');
    await page.fill('#composer-text', '可以的，请提供');

    await page.reload();
    await page.waitForSelector('#connection[data-state="live"]');
    await page.waitForSelector(`.row-button[data-conversation-id="${b}"][aria-current="true"]`);
    await page.waitForFunction(
      () => (document.getElementById('composer-text') as HTMLTextAreaElement).value !== '',
    );
    expect(await page.inputValue('#composer-text')).toBe('可以的，请提供');
    await page.locator(`.row-button[data-conversation-id="${a}"]`).click();
    expect(await page.inputValue('#composer-text')).toBe('您好，一般三到五天');

    // Sending clears that conversation's draft, for good.
    await page.press('#composer-text', 'Enter');
    await page.waitForSelector('#reply-status[data-status="sent"]');
    await page.reload();
    await page.waitForSelector(`.row-button[data-conversation-id="${a}"][aria-current="true"]`);
    expect(await page.inputValue('#composer-text')).toBe('');
  });
});

describe('new-buyer alerts', () => {
  it('asks for notification permission once, from the sign-in click, never again after a reload', async () => {
    const { agent } = await shopWithAgent('通知店', '林晓');
    const page = await newPage();
    await signIn(page, agent.token);
    expect((await alerts(page)).permission).toBe(1);
    await page.reload();
    await page.waitForSelector('#connection[data-state="live"]');
    expect((await alerts(page)).permission).toBe(0);
    // Signing out and in again in the same browser does not nag either.
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.fill('#token-input', agent.token);
    await page.click('#sign-in-button');
    await page.waitForSelector('#connection[data-state="live"]');
    expect((await alerts(page)).permission).toBe(0);
  });

  it('with permission granted: a desktop notification, a beep and the count in the tab title; no sound once muted', async () => {
    const { shop, agent } = await shopWithAgent('提醒店', '林晓');
    const page = await newPage({ permissions: ['notifications'] });
    await signIn(page, agent.token);
    expect(await page.evaluate(() => Notification.permission)).toBe('granted');
    expect(await page.isHidden('#notify-enable')).toBe(true);
    expect(await page.title()).toBe('客服工作台 · Seatmate');
    // The agent is looking at another window.
    await page.evaluate(() => {
      document.hasFocus = () => false;
    });

    await say(shop, 'alert-buyer', '在吗？有人吗？', '赵雷');
    await page.locator('.conversation-row', { hasText: '赵雷' }).waitFor();
    await page.waitForFunction(() => document.title.startsWith('(1) '));
    const seen = await alerts(page);
    expect(seen.notifications).toEqual([
      { title: '新买家等待中', body: expect.stringContaining('赵雷') },
    ]);
    expect(seen.beeps).toBeGreaterThan(0);

    // Muted: the next buyer raises the count and the notification, not a sound.
    await page.click('#sound-toggle');
    expect(await page.getAttribute('#sound-toggle', 'aria-pressed')).toBe('false');
    const beeps = (await alerts(page)).beeps;
    await say(shop, 'alert-buyer-2', '你好', '钱多');
    await page.waitForFunction(() => document.title.startsWith('(2) '));
    expect((await alerts(page)).beeps).toBe(beeps);
    expect((await alerts(page)).notifications).toHaveLength(2);
    await page.reload();
    await page.waitForSelector('#connection[data-state="live"]');
    expect(await page.getAttribute('#sound-toggle', 'aria-pressed')).toBe('false');
  });

  it('alerts a buyer who writes while the list is still on its way, once', async () => {
    const { shop, agent } = await shopWithAgent('途中店', '林晓');
    const page = await newPage({ permissions: ['notifications'] });
    // The list is held until the buyer's own refresh has shown them: that refresh ran before
    // any list was loaded, and the list then arrives with the buyer already waiting.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(
      (url) => url.pathname === '/v1/agent/conversations',
      async (route) => {
        await held;
        await route.continue();
      },
    );
    await signIn(page, agent.token);
    await page.evaluate(() => {
      document.hasFocus = () => false;
    });
    await say(shop, 'during-load', '你好，还在吗？', '钱多');
    await page.locator('.conversation-row', { hasText: '钱多' }).waitFor();
    release();
    await page.waitForFunction(
      () =>
        (window as unknown as { __alerts: { notifications: unknown[] } }).__alerts.notifications
          .length > 0,
    );
    expect((await alerts(page)).notifications).toEqual([
      { title: '新买家等待中', body: expect.stringContaining('钱多') },
    ]);
    // The next buyer is the second alert, not a third.
    await say(shop, 'after-load', '在吗', '孙立');
    await page.waitForFunction(() => document.title.startsWith('(2) '));
    expect((await alerts(page)).notifications).toHaveLength(2);
  });

  it('without permission (already asked once): no notification and no second prompt, the count still shows', async () => {
    const { shop, agent } = await shopWithAgent('拒绝通知店', '林晓');
    const page = await newPage();
    await page.goto(`${suite.h.url}/console`);
    await page.evaluate(() => localStorage.setItem('seatmate.notificationsAsked', '1'));
    await signIn(page, agent.token);
    await page.evaluate(() => {
      document.hasFocus = () => false;
    });
    await say(shop, 'denied-buyer', '在吗？', '孙丽');
    await page.waitForFunction(() => document.title.startsWith('(1) '));
    expect((await alerts(page)).notifications).toEqual([]);
    expect((await alerts(page)).permission).toBe(0);
  });
});

describe('media messages', () => {
  // Real Telegram updates of each kind reach the console; the image's thumbnail and the voice
  // message come through the real media proxy (getFile and the file download mocked with nock).
  it('shows image, voice, video, file, sticker and location messages as labelled items, the image through the media proxy', async () => {
    const secretToken = 'tg-console-secret-0123456789abcdefgh';
    const created = await suite.h.api('/v1/shops', {
      body: {
        name: '媒体店',
        platform: 'telegram',
        timezone: 'Asia/Shanghai',
        credentials: { botToken: '4242:console-bot', secretToken },
      },
    });
    expect(created.status).toBe(201);
    const shopId = created.body.id as string;
    const agent = (await suite.h.api('/v1/agents', { body: { name: '林晓', shopIds: [shopId] } }))
      .body as Agent;
    const page = await newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused/i.test(m.text())) errors.push(m.text());
    });
    await signIn(page, agent.token);

    const chatId = 222333444;
    const date = Math.floor(Date.now() / 1000);
    const updates = [
      {
        photo: [
          { file_id: 'PHOTO-S', file_unique_id: 'p1', width: 90, height: 90 },
          { file_id: 'PHOTO-L', file_unique_id: 'p2', width: 800, height: 800 },
        ],
      },
      { voice: { file_id: 'VOICE', file_unique_id: 'v1', duration: 3, mime_type: 'audio/ogg' } },
      {
        video: {
          file_id: 'VIDEO',
          file_unique_id: 'v2',
          width: 640,
          height: 360,
          duration: 5,
          mime_type: 'video/mp4',
        },
      },
      {
        document: {
          file_id: 'DOC',
          file_unique_id: 'd1',
          file_name: '发票.pdf',
          mime_type: 'application/pdf',
        },
      },
      {
        sticker: {
          file_id: 'STICKER',
          file_unique_id: 's1',
          type: 'regular',
          width: 512,
          height: 512,
          is_animated: false,
          is_video: false,
        },
      },
      {
        venue: {
          location: { latitude: 31.2304, longitude: 121.4737 },
          title: '上海市静安区',
          address: '南京西路',
        },
      },
    ];
    const tg = nock('http://telegram.test')
      .get('/bot4242:console-bot/getFile')
      .query({ file_id: 'PHOTO-L' })
      .reply(200, {
        ok: true,
        result: { file_id: 'PHOTO-L', file_unique_id: 'p2', file_path: 'photos/file_7.png' },
      })
      .get('/file/bot4242:console-bot/photos/file_7.png')
      .reply(200, PNG, { 'content-type': 'application/octet-stream' });
    // The sticker's thumbnail: Telegram no longer has it, so the label stays alone.
    nock('http://telegram.test')
      .get('/bot4242:console-bot/getFile')
      .query({ file_id: 'STICKER' })
      .reply(400, { ok: false, error_code: 400, description: 'Bad Request: invalid file_id' });
    for (const [index, media] of updates.entries()) {
      const update = telegramMediaUpdate({
        updateId: 70_000 + index,
        messageId: 500 + index,
        chatId,
        date,
        caption: index === 0 ? '颜色是这样的吗' : undefined,
        media,
      });
      const res = await fetch(`${suite.h.url}/webhooks/telegram/${shopId}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-telegram-bot-api-secret-token': secretToken,
        },
        body: JSON.stringify(update),
      });
      expect(res.status).toBe(200);
    }
    const id = conversationId(shopId, String(chatId));
    await eventually(
      async () =>
        (await suite.h.api(`/v1/agent/conversations/${id}`, { token: agent.token })).body
          .lastMessages?.length === updates.length,
    );
    const row = page.locator(`.row-button[data-conversation-id="${id}"]`);
    // The list previews the latest message in the agent's language, not the service's placeholder.
    await page.waitForFunction(
      (selector) => document.querySelector(selector)?.textContent?.includes('[位置] 上海市静安区'),
      `.row-button[data-conversation-id="${id}"]`,
    );
    expect(await row.textContent()).not.toContain('[location]');
    await row.click();
    await page.locator('.media-location').waitFor();
    expect(await page.locator('.media .media-label').allTextContents()).toEqual([
      '图片',
      '语音',
      '视频',
      '文件',
      '表情',
      '位置',
    ]);
    expect(await page.textContent('.media-image')).toContain('颜色是这样的吗');
    expect(await page.textContent('.media-file')).toContain('发票.pdf');
    expect(await page.textContent('.media-location')).toContain('上海市静安区');
    expect(await page.textContent('.media-location')).toContain('31.2304, 121.4737');
    const thumb = page.locator('.media-image img.media-thumb');
    await thumb.waitFor();
    expect(await thumb.getAttribute('src')).toMatch(/^blob:/);
    expect(await thumb.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(1);
    expect(tg.isDone()).toBe(true);
    // Video and voice load only when asked; the sticker Telegram no longer has shows no picture.
    expect(await page.locator('.media-video img').count()).toBe(0);
    expect(await page.locator('.media-sticker img.media-thumb:not([hidden])').count()).toBe(0);

    nock('http://telegram.test')
      .get('/bot4242:console-bot/getFile')
      .query({ file_id: 'VOICE' })
      .reply(200, {
        ok: true,
        result: { file_id: 'VOICE', file_unique_id: 'v1', file_path: 'voice/file_8.oga' },
      })
      .get('/file/bot4242:console-bot/voice/file_8.oga')
      .reply(200, Buffer.concat([Buffer.from('OggS'), Buffer.alloc(60)]), {
        'content-type': 'audio/ogg',
      });
    await page.click('.media-audio .media-open');
    const player = page.locator('.media-audio audio.media-player');
    await player.waitFor();
    expect(await player.getAttribute('src')).toMatch(/^blob:/);
    expect(errors).toEqual([]);
  });
});

describe('reply length', () => {
  it("shows the remaining length against the platform's limit and refuses to send past it", async () => {
    const { shop, agent } = await shopWithAgent('长度店', '林晓');
    const page = await newPage();
    await signIn(page, agent.token);
    await say(shop, 'len-buyer', '请问有货吗', '王丽');
    const id = await waitingWithSuggestions(page, shop, agent, 'len-buyer');
    await page.locator(`.row-button[data-conversation-id="${id}"]`).click();
    const posted: number[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/replies'))
        posted.push((request.postDataJSON() as { text: string }).text.length);
    });
    const remaining = page.locator('#reply-remaining');
    // A generic shop's limit is 2,000 characters (replyLimit in the conversation).
    await page.fill('#composer-text', '有的，今天下单明天发货');
    expect(await remaining.textContent()).toBe('还可输入 1,989 字');
    expect(await page.isDisabled('#send')).toBe(false);

    await page.fill('#composer-text', '好'.repeat(2003));
    expect(await remaining.textContent()).toBe('超出平台上限 3 字');
    expect(await remaining.getAttribute('class')).toContain('is-over');
    expect(await page.isDisabled('#send')).toBe(true);
    await page.locator('#composer-text').press('Enter');
    await page.fill('#composer-text', '好'.repeat(2000));
    expect(await remaining.textContent()).toBe('还可输入 0 字');
    await page.locator('#composer-text').press('Enter');
    const delivered = await eventually(async () => {
      const mine = suite.standIn.received.filter((r) => r.body.data.buyerId === 'len-buyer');
      return mine.length > 0 ? mine : undefined;
    });
    // Only the reply within the limit was posted, and went out.
    expect(posted).toEqual([2000]);
    expect(delivered.map((r) => r.body.data.text.length)).toEqual([2000]);
  });
});
