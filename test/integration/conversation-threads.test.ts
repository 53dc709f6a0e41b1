import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { ManualClock } from '../../src/shared/clock';
import {
  LINE_GROUP_ID,
  lineGroupTextEvent,
  linePostbackEvent,
  lineTextEvent,
  signedLineDelivery,
} from '../fixtures/platforms/line';
import type { SignedRequest } from '../fixtures/platforms/signed-request';
import { signedWechatDelivery, wechatTextXml } from '../fixtures/platforms/wechat';
import {
  metaReactionMessage,
  metaUsernameTextMessage,
  signedWhatsappDelivery,
  WHATSAPP_BSUID,
  WHATSAPP_PHONE_NUMBER_ID,
  whatsappMessage,
} from '../fixtures/platforms/whatsapp';
import { eventually, type Harness, startHarness } from '../support/harness';

// Fixtures carry 2023-2025 timestamps; the clock stands just after them so reply windows are open.
const clock = new ManualClock(Date.parse('2025-06-08T21:00:00Z'));
const META = 'http://graph.test/v21.0';
const LINE_API = 'http://line.test';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    clock,
    env: {
      META_GRAPH_API_BASE: META,
      LINE_API_BASE: LINE_API,
      OUTBOUND_ATTEMPTS: '2',
      OUTBOUND_BACKOFF_MS: '10',
    },
  });
});
afterAll(() => h.close());
afterEach(() => nock.cleanAll());

async function post(platform: string, shopId: string, request: SignedRequest) {
  const query = new URLSearchParams(request.query).toString();
  const res = await fetch(`${h.url}/webhooks/${platform}/${shopId}${query ? `?${query}` : ''}`, {
    method: 'POST',
    headers: request.headers,
    body: new Uint8Array(request.rawBody),
  });
  return { status: res.status, text: await res.text() };
}

async function createShop(platform: string, credentials: Record<string, unknown>) {
  const res = await h.api('/v1/shops', {
    body: { name: `${platform} shop`, platform, timezone: 'UTC', credentials },
  });
  expect(res.status).toBe(201);
  const agent = (await h.api('/v1/agents', { body: { name: 'Wu', shopIds: [res.body.id] } })).body;
  return { id: res.body.id as string, agentToken: agent.token as string };
}

async function usage(shopId: string, month: string) {
  return (await h.api(`/v1/shops/${shopId}/usage?month=${month}`)).body.consultations as number;
}

async function replyAndWait(shop: { agentToken: string }, id: string, text: string) {
  const sent = await h.api(`/v1/agent/conversations/${id}/replies`, {
    token: shop.agentToken,
    body: { text },
  });
  expect(sent.status).toBe(202);
  return eventually(async () => {
    const r = await h.api(`/v1/agent/conversations/${id}/replies/${sent.body.replyId}`, {
      token: shop.agentToken,
    });
    return r.body.status !== 'queued' ? r.body : undefined;
  });
}

describe('WhatsApp buyer with a username', () => {
  const credentials = {
    appSecret: 'wa-secret',
    verifyToken: 'v',
    accessToken: 'EAAG-token',
    phoneNumberId: WHATSAPP_PHONE_NUMBER_ID,
  };

  it('is accepted, counted and answered by recipient, alongside an ordinary buyer', async () => {
    const shop = await createShop('whatsapp', credentials);
    const ordinary = signedWhatsappDelivery({
      secret: credentials.appSecret,
      messages: [whatsappMessage({ id: 'wamid.plain', from: '8613800000001' })],
    });
    const username = signedWhatsappDelivery({
      secret: credentials.appSecret,
      body: metaUsernameTextMessage,
    });
    expect((await post('whatsapp', shop.id, ordinary)).status).toBe(200);
    expect((await post('whatsapp', shop.id, username)).status).toBe(200);
    await eventually(async () => (await usage(shop.id, '2025-06')) === 2);

    const graph = nock('http://graph.test')
      .post(`/v21.0/${WHATSAPP_PHONE_NUMBER_ID}/messages`, (body) => {
        return body.recipient === WHATSAPP_BSUID && body.to === undefined;
      })
      .reply(200, { messages: [{ id: 'wamid.OUT' }] });
    const result = await replyAndWait(shop, conversationId(shop.id, WHATSAPP_BSUID), 'Yes!');
    expect(result.status).toBe('sent');
    expect(graph.isDone()).toBe(true);
  });

  it('does not count a reaction or its removal, nor leave anyone waiting', async () => {
    const shop = await createShop('whatsapp', credentials);
    for (const [id, emoji] of [
      ['wamid.re1', '\u{1F44D}'],
      ['wamid.re2', ''],
    ] as const) {
      const request = signedWhatsappDelivery({
        secret: credentials.appSecret,
        body: metaReactionMessage({ id, emoji, from: '8613800000002' }),
      });
      expect((await post('whatsapp', shop.id, request)).status).toBe(200);
    }
    // A real message afterwards proves the queue ran past the reactions.
    const later = signedWhatsappDelivery({
      secret: credentials.appSecret,
      messages: [whatsappMessage({ id: 'wamid.after', from: '8613800000003' })],
    });
    expect((await post('whatsapp', shop.id, later)).status).toBe(200);
    await eventually(async () => (await usage(shop.id, '2025-06')) === 1);
    const reacted = await h.container.conversations.state(shop.id, '8613800000002');
    expect(reacted.waitingSince).toBeUndefined();
    expect(await h.container.conversations.history(shop.id, '8613800000002')).toEqual([]);
  });
});

describe('LINE private and group chats', () => {
  const credentials = { channelSecret: 'line-secret', channelAccessToken: 'line-token' };
  const userId = 'U4af4980629a0b1c2d3e4f5a6b7c8d9e0';

  it('keeps them apart: the private answer goes to the user, the group answer to the group', async () => {
    const shop = await createShop('line', credentials);
    const at = Date.parse('2025-06-08T20:59:00Z');
    const privately = {
      ...lineTextEvent({ webhookEventId: 'EP', messageId: 'mp' }),
      timestamp: at,
    };
    const inGroup = {
      ...lineGroupTextEvent({ webhookEventId: 'EG', messageId: 'mg', text: 'in the group' }),
      timestamp: at + 1000,
    };
    // Private first, group last: before, the group's address overwrote the private chat's.
    for (const event of [privately, inGroup]) {
      const request = signedLineDelivery({ secret: credentials.channelSecret, events: [event] });
      expect((await post('line', shop.id, request)).status).toBe(200);
    }
    const direct = conversationId(shop.id, userId);
    const group = conversationId(shop.id, `group:${LINE_GROUP_ID}`);
    await eventually(
      async () =>
        (await h.container.conversations.history(shop.id, `group:${LINE_GROUP_ID}`)).length === 1,
    );
    expect(await h.container.conversations.history(shop.id, userId)).toHaveLength(1);
    // One person: one consultation, whichever thread they wrote in.
    expect(await usage(shop.id, '2025-06')).toBe(1);

    const pushes: Array<{ to: string; text: string }> = [];
    nock(LINE_API)
      .post('/v2/bot/message/push', (body) => {
        pushes.push({ to: body.to, text: body.messages[0].text });
        return true;
      })
      .times(2)
      .reply(200, { sentMessages: [{ id: '1' }] });
    expect((await replyAndWait(shop, direct, 'Your address is noted.')).status).toBe('sent');
    expect((await replyAndWait(shop, group, 'Hello group')).status).toBe('sent');
    expect(pushes).toEqual([
      { to: userId, text: 'Your address is noted.' },
      { to: LINE_GROUP_ID, text: 'Hello group' },
    ]);

    const listed = await h.api('/v1/agent/conversations', { token: shop.agentToken });
    const groupSummary = listed.body.conversations.find(
      (c: { conversationId: string }) => c.conversationId === group,
    );
    expect(groupSummary).toMatchObject({ thread: 'group' });
    expect(groupSummary.lastMessages[0]).toMatchObject({ author: { id: userId } });
  });
});

describe('a LINE postback asking for service', () => {
  const credentials = { channelSecret: 'line-secret-2', channelAccessToken: 'line-token' };

  it('opens a conversation agents see and can answer, counted only once the buyer writes', async () => {
    const shop = await createShop('line', credentials);
    const userId = 'U0000000000000000000000000000pb1';
    const at = clock.now() - 5_000;
    const postback = {
      ...linePostbackEvent({ webhookEventId: 'PB-int', userId, replyToken: 'rt-postback' }),
      timestamp: at,
    };
    const request = signedLineDelivery({ secret: credentials.channelSecret, events: [postback] });
    expect((await post('line', shop.id, request)).status).toBe(200);
    const id = conversationId(shop.id, userId);
    const listed = await eventually(async () => {
      const res = await h.api('/v1/agent/conversations', { token: shop.agentToken });
      return res.body.conversations.find(
        (c: { conversationId: string }) => c.conversationId === id,
      );
    });
    expect(listed).toMatchObject({ waiting: false });
    expect(listed.lastMessages[0]).toMatchObject({ text: '[postback] action=contact_service' });
    expect(await usage(shop.id, '2025-06')).toBe(0);

    const replied = nock(LINE_API)
      .post('/v2/bot/message/reply', {
        replyToken: 'rt-postback',
        messages: [{ type: 'text', text: '您好' }],
      })
      .reply(200, { sentMessages: [{ id: '9' }] });
    expect((await replyAndWait(shop, id, '您好')).status).toBe('sent');
    expect(replied.isDone()).toBe(true);

    const written = {
      ...lineTextEvent({ webhookEventId: 'PB-msg', messageId: 'pbm', userId }),
      timestamp: at + 1_000,
    };
    const second = signedLineDelivery({ secret: credentials.channelSecret, events: [written] });
    expect((await post('line', shop.id, second)).status).toBe(200);
    await eventually(async () => (await usage(shop.id, '2025-06')) === 1);
  });
});

describe('reply limits per platform', () => {
  it('exposes the limit and refuses a WeChat reply over 2048 bytes before queueing', async () => {
    const credentials = { appId: 'wx2c2769f8efd9abc2', appSecret: 's', token: 'wxtoken123' };
    const shop = await createShop('wechat', credentials);
    const ts = Math.floor(clock.now() / 1000);
    const xml = wechatTextXml({ msgId: '7000000000000000001', content: '在吗', createTime: ts });
    const request = signedWechatDelivery({ token: credentials.token, xml, timestamp: String(ts) });
    expect(await post('wechat', shop.id, request)).toMatchObject({ status: 200, text: '' });
    const id = conversationId(shop.id, 'oyORnuP8q7ou2gfYjqLzSIWZf0rs');
    const summary = await eventually(async () => {
      const res = await h.api(`/v1/agent/conversations/${id}`, { token: shop.agentToken });
      return res.status === 200 ? res.body : undefined;
    });
    expect(summary.replyLimit).toEqual({ max: 2048, unit: 'bytes' });

    // 700 Chinese characters: under the old 2000-character cap, but 2100 bytes.
    const refused = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: shop.agentToken,
      body: { text: '好'.repeat(700) },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'reply_too_long' });
    expect(refused.body.error.message).toMatch(/2048 bytes/);
    expect(await h.container.queues.outbound.getJobCountByTypes('waiting', 'delayed')).toBe(0);
  });

  it('lets a LINE reply use its 5,000 characters', async () => {
    const credentials = { channelSecret: 'line-secret-3', channelAccessToken: 'line-token' };
    const shop = await createShop('line', credentials);
    const userId = 'U0000000000000000000000000000lim';
    const event = {
      ...lineTextEvent({ webhookEventId: 'LIM1', messageId: 'lim1', userId }),
      timestamp: clock.now() - 60_000,
    };
    const request = signedLineDelivery({ secret: credentials.channelSecret, events: [event] });
    expect((await post('line', shop.id, request)).status).toBe(200);
    const id = conversationId(shop.id, userId);
    await eventually(async () => (await h.container.conversations.history(shop.id, userId)).length);
    const pushed = nock(LINE_API)
      .post('/v2/bot/message/push', (body) => body.messages[0].text.length === 4500)
      .reply(200, { sentMessages: [{ id: '1' }] });
    expect((await replyAndWait(shop, id, 'a'.repeat(4500))).status).toBe('sent');
    expect(pushed.isDone()).toBe(true);
    const tooLong = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: shop.agentToken,
      body: { text: 'a'.repeat(5001) },
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toMatch(/5000/);
  });
});

describe('typed media', () => {
  it('stores an image with its platform reference and caption, shown to agents', async () => {
    const credentials = {
      appSecret: 'wa-secret-media',
      verifyToken: 'v',
      accessToken: 'EAAG-token',
      phoneNumberId: WHATSAPP_PHONE_NUMBER_ID,
    };
    const shop = await createShop('whatsapp', credentials);
    const request = signedWhatsappDelivery({
      secret: credentials.appSecret,
      messages: [
        whatsappMessage({
          id: 'wamid.img',
          from: '8613800000077',
          raw: {
            type: 'image',
            image: { id: '1003383421387256', mime_type: 'image/jpeg', caption: 'red?' },
          },
        }),
      ],
    });
    expect((await post('whatsapp', shop.id, request)).status).toBe(200);
    const id = conversationId(shop.id, '8613800000077');
    const summary = await eventually(async () => {
      const res = await h.api(`/v1/agent/conversations/${id}`, { token: shop.agentToken });
      return res.status === 200 ? res.body : undefined;
    });
    expect(summary.lastMessages[0]).toMatchObject({
      text: '[image] red?',
      media: { kind: 'image', ref: '1003383421387256', mimeType: 'image/jpeg', caption: 'red?' },
    });
  });
});
