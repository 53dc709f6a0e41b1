import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { ManualClock } from '../../src/shared/clock';
import { lineTextEvent, signedLineDelivery } from '../fixtures/platforms/line';
import {
  MESSENGER_APP_ID,
  messengerEcho,
  messengerHandshake,
  messengerText,
  signedMessengerDelivery,
} from '../fixtures/platforms/messenger';
import type { SignedRequest } from '../fixtures/platforms/signed-request';
import { telegramDelivery, telegramTextUpdate } from '../fixtures/platforms/telegram';
import { signedWechatDelivery, wechatHandshake, wechatTextXml } from '../fixtures/platforms/wechat';
import {
  signedWhatsappDelivery,
  WHATSAPP_PHONE_NUMBER_ID,
  whatsappHandshake,
  whatsappMessage,
  whatsappStatus,
} from '../fixtures/platforms/whatsapp';
import { eventually, type Harness, startHarness } from '../support/harness';

// The real time: WeChat refuses timestamps more than 300 s away.
const clock = new ManualClock(Date.now());
const nowSeconds = () => Math.floor(clock.now() / 1000);
const META = 'http://graph.test/v21.0';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    clock,
    env: { META_GRAPH_API_BASE: META, OUTBOUND_ATTEMPTS: '2', OUTBOUND_BACKOFF_MS: '10' },
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

async function get(platform: string, shopId: string, request: SignedRequest) {
  const res = await fetch(
    `${h.url}/webhooks/${platform}/${shopId}?${new URLSearchParams(request.query)}`,
  );
  return { status: res.status, text: await res.text() };
}

async function createShop(
  platform: string,
  credentials: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const res = await h.api('/v1/shops', {
    body: { name: `${platform} shop`, platform, timezone: 'UTC', credentials, ...extra },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; ownerKey: string };
}

async function consultations(shopId: string, month: string) {
  return (await h.api(`/v1/shops/${shopId}/usage?month=${month}`)).body.consultations as number;
}

const thisMonth = () => new Date(clock.now()).toISOString().slice(0, 7);

describe('WhatsApp through HTTP', () => {
  const credentials = {
    appSecret: 'wa-app-secret',
    verifyToken: 'wa-verify',
    accessToken: 'EAAG-token',
    phoneNumberId: WHATSAPP_PHONE_NUMBER_ID,
  };

  it('answers the hub.challenge handshake and refuses a wrong token', async () => {
    const shop = await createShop('whatsapp', credentials);
    expect(await get('whatsapp', shop.id, whatsappHandshake('wa-verify', '1158201444'))).toEqual({
      status: 200,
      text: '1158201444',
    });
    expect((await get('whatsapp', shop.id, whatsappHandshake('wrong', '1'))).status).toBe(403);
  });

  it('counts a batched delivery once per buyer, ignores statuses, and a redelivery changes nothing', async () => {
    const shop = await createShop('whatsapp', credentials);
    const ts = String(nowSeconds());
    const delivery = signedWhatsappDelivery({
      secret: 'wa-app-secret',
      messages: [
        whatsappMessage({ id: 'wamid.A1', from: '8613800000001', timestamp: ts, text: '有灰色吗' }),
        whatsappMessage({ id: 'wamid.A2', from: '8613800000002', timestamp: ts, text: 'price?' }),
        whatsappMessage({
          id: 'wamid.A3',
          from: '8613800000001',
          timestamp: ts,
          text: '还有L码吗',
        }),
      ],
    });
    expect((await post('whatsapp', shop.id, delivery)).status).toBe(200);
    expect((await post('whatsapp', shop.id, delivery)).status).toBe(200);
    expect(
      (
        await post(
          'whatsapp',
          shop.id,
          signedWhatsappDelivery({
            secret: 'wa-app-secret',
            statuses: [whatsappStatus('wamid.OUT1')],
          }),
        )
      ).status,
    ).toBe(200);
    await eventually(async () => (await consultations(shop.id, thisMonth())) === 2);
    await eventually(
      async () => (await h.container.conversations.history(shop.id, '8613800000001')).length === 2,
    );
    expect(await h.container.conversations.history(shop.id, '8613800000001')).toHaveLength(2);
  });

  it('rejects tampered, unsigned and wrong-secret deliveries with 401', async () => {
    const shop = await createShop('whatsapp', credentials);
    const good = signedWhatsappDelivery({
      secret: 'wa-app-secret',
      messages: [whatsappMessage({ id: 'wamid.T1' })],
    });
    const tampered = {
      ...good,
      rawBody: Buffer.from(good.rawBody.toString().replace('hello', 'hellO')),
    };
    const unsigned = { ...good, headers: { 'content-type': 'application/json' } };
    const wrong = signedWhatsappDelivery({
      secret: 'other-secret',
      messages: [whatsappMessage({ id: 'wamid.T1' })],
    });
    for (const request of [tampered, unsigned, wrong])
      expect((await post('whatsapp', shop.id, request)).status).toBe(401);
  });

  it('sends an agent reply through the Graph API, and refuses once the 24 h window has closed', async () => {
    const shop = await createShop('whatsapp', credentials);
    const agent = (await h.api('/v1/agents', { body: { name: 'Wu', shopIds: [shop.id] } })).body;
    const delivery = signedWhatsappDelivery({
      secret: 'wa-app-secret',
      messages: [
        whatsappMessage({
          id: 'wamid.R1',
          from: '8613900000009',
          timestamp: String(nowSeconds()),
          text: 'hi',
        }),
      ],
    });
    expect((await post('whatsapp', shop.id, delivery)).status).toBe(200);
    const id = conversationId(shop.id, '8613900000009');
    await eventually(
      async () => (await h.container.conversations.state(shop.id, '8613900000009')).lastBuyerAt,
    );

    const graph = nock('http://graph.test')
      .post(
        `/v21.0/${WHATSAPP_PHONE_NUMBER_ID}/messages`,
        (body) =>
          body.messaging_product === 'whatsapp' &&
          body.to === '8613900000009' &&
          body.text.body === '您好，有的',
      )
      .matchHeader('authorization', 'Bearer EAAG-token')
      .reply(200, { messages: [{ id: 'wamid.OUT' }] });
    const sent = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: agent.token,
      body: { text: '您好，有的' },
    });
    expect(sent.status).toBe(202);
    await eventually(
      async () =>
        (
          await h.api(`/v1/agent/conversations/${id}/replies/${sent.body.replyId}`, {
            token: agent.token,
          })
        ).body.status === 'sent',
    );
    expect(graph.isDone()).toBe(true);

    clock.advance(25 * 3600 * 1000);
    try {
      const late = await h.api(`/v1/agent/conversations/${id}/replies`, {
        token: agent.token,
        body: { text: 'still there?' },
      });
      const status = await eventually(async () => {
        const r = await h.api(`/v1/agent/conversations/${id}/replies/${late.body.replyId}`, {
          token: agent.token,
        });
        return r.body.status === 'failed' ? r.body : null;
      });
      expect(status.error).toMatch(/24-hour/);
    } finally {
      clock.set(Date.now());
    }
  });
});

describe('Messenger through HTTP', () => {
  const credentials = {
    appSecret: 'm-secret',
    appId: MESSENGER_APP_ID,
    verifyToken: 'm-verify',
    pageAccessToken: 'PAGE-TOKEN',
  };

  it('handshakes, counts buyer messages, and records a Page Inbox echo as an agent reply', async () => {
    const shop = await createShop('messenger', credentials);
    expect(await get('messenger', shop.id, messengerHandshake('m-verify', 'CH'))).toEqual({
      status: 200,
      text: 'CH',
    });
    const now = clock.now();
    const delivery = signedMessengerDelivery({
      secret: 'm-secret',
      messaging: [
        messengerText({ mid: 'm_1', psid: 'psid-1', timestamp: now }),
        messengerEcho({ mid: 'm_2', appId: '263902037430900', psid: 'psid-1' }),
      ],
    });
    expect((await post('messenger', shop.id, delivery)).status).toBe(200);
    expect(
      (
        await post('messenger', shop.id, {
          ...delivery,
          rawBody: Buffer.from(`${delivery.rawBody} `),
        })
      ).status,
    ).toBe(401);
    await eventually(async () => (await consultations(shop.id, thisMonth())) === 1);
    await eventually(async () =>
      (await h.container.conversations.history(shop.id, 'psid-1')).some((m) => m.from === 'agent'),
    );
  });
});

describe('LINE through HTTP', () => {
  const credentials = { channelSecret: 'line-secret', channelAccessToken: 'line-token' };

  it('accepts the empty verification batch, counts messages, ignores standby, dedupes by webhookEventId', async () => {
    const shop = await createShop('line', credentials);
    expect(
      (await post('line', shop.id, signedLineDelivery({ secret: 'line-secret' }))).status,
    ).toBe(200);
    const now = clock.now();
    const delivery = signedLineDelivery({
      secret: 'line-secret',
      events: [
        lineTextEvent({
          webhookEventId: '01H1',
          messageId: '5001',
          userId: 'U1',
          timestamp: now,
          text: '請問有貨嗎',
        }),
        lineTextEvent({
          webhookEventId: '01H2',
          messageId: '5002',
          userId: 'U2',
          timestamp: now,
          mode: 'standby',
        }),
      ],
    });
    expect((await post('line', shop.id, delivery)).status).toBe(200);
    expect((await post('line', shop.id, delivery)).status).toBe(200);
    expect(
      (await post('line', shop.id, signedLineDelivery({ secret: 'wrong', events: [] }))).status,
    ).toBe(401);
    await eventually(async () => (await consultations(shop.id, thisMonth())) === 1);
  });
});

describe('WeChat Official Account through HTTP', () => {
  const credentials = { appId: 'wx0123456789abcdef', appSecret: 'wx-secret', token: 'wxtoken123' };

  it('answers echostr, keeps MsgId beyond 2^53 as a string, and answers with an empty body', async () => {
    const shop = await createShop('wechat', credentials);
    const ts = String(nowSeconds());
    expect(
      await get(
        'wechat',
        shop.id,
        wechatHandshake({ token: 'wxtoken123', timestamp: ts, echostr: 'echo-123' }),
      ),
    ).toEqual({ status: 200, text: 'echo-123' });
    expect(
      (
        await get(
          'wechat',
          shop.id,
          wechatHandshake({ token: 'wrong', timestamp: ts, echostr: 'e' }),
        )
      ).status,
    ).not.toBe(200);
    const xml = wechatTextXml({
      msgId: '6054768590064713728',
      content: '有没有大一号的',
      openId: 'oBuyer1',
      createTime: nowSeconds(),
    });
    const answer = await post(
      'wechat',
      shop.id,
      signedWechatDelivery({ token: 'wxtoken123', xml, timestamp: ts }),
    );
    expect(answer).toEqual({ status: 200, text: '' });
    const history = await eventually(async () => {
      const messages = await h.container.conversations.history(shop.id, 'oBuyer1');
      return messages.length === 1 ? messages : null;
    });
    expect(history[0]!.id).toBe('6054768590064713728');
    expect(
      (await post('wechat', shop.id, signedWechatDelivery({ token: 'other', xml, timestamp: ts })))
        .status,
    ).toBe(401);
  });
});

describe('Telegram through HTTP', () => {
  const credentials = {
    botToken: '123456:ABC-def',
    secretToken: 'tg_secret_1_0123456789abcdefghijklmn',
  };

  it('checks the secret token header and dedupes by update_id', async () => {
    const shop = await createShop('telegram', credentials);
    const update = telegramTextUpdate({
      updateId: 9001,
      chatId: 777,
      date: nowSeconds(),
      text: 'hi there',
    });
    expect(
      (
        await post(
          'telegram',
          shop.id,
          telegramDelivery({ secretToken: 'tg_secret_1_0123456789abcdefghijklmn', update }),
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await post(
          'telegram',
          shop.id,
          telegramDelivery({ secretToken: 'tg_secret_1_0123456789abcdefghijklmn', update }),
        )
      ).status,
    ).toBe(200);
    expect(
      (await post('telegram', shop.id, telegramDelivery({ secretToken: 'nope', update }))).status,
    ).toBe(401);
    await eventually(async () => (await consultations(shop.id, thisMonth())) === 1);
  });
});

describe('credentials', () => {
  it('are validated on save with an error naming the missing field', async () => {
    const res = await h.api('/v1/shops', {
      body: {
        name: 'x',
        platform: 'whatsapp',
        credentials: { appSecret: 's', verifyToken: 'v', accessToken: 't' },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.field).toBe('credentials.phoneNumberId');
  });
});
