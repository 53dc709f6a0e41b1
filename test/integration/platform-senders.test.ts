import { createHash, createHmac, randomBytes } from 'node:crypto';
import { type ClientRequest, type OutgoingHttpHeaders, request } from 'node:http';
import { validateSignature } from '@line/bot-sdk';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// node-webot's WeChat crypto (WXBizMsgCrypt): how WeChat OA SDKs seal and sign safe-mode bodies.
import WXBizMsgCrypt from 'wechat-crypto';
import { eventually, type Harness, startHarness } from '../support/harness';

/**
 * Deliveries exactly as the platforms' own servers and SDKs send them: raw
 * bytes, signed with each platform's algorithm as its SDKs compute it (never
 * with Seatmate's helpers), through the real server and Redis. Each variation
 * is one a real sender produces (sources in docs/platforms.md, "What real
 * senders send"). What a shop relies on: a buyer's message is acknowledged in
 * the platform's shape and queued exactly once, a receipt or an unsupported
 * kind is acknowledged without queuing anything, a bad signature is refused.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const nowSeconds = () => Math.floor(Date.now() / 1000);

interface Answer {
  status: number;
  text: string;
  contentType: string;
  json: { ok?: boolean; queued?: number; duplicates?: number; error?: { code?: string } };
}

async function deliver(
  platform: string,
  shopId: string,
  body: Buffer | string,
  headers: Record<string, string>,
  query: Record<string, string> = {},
): Promise<Answer> {
  const search = new URLSearchParams(query).toString();
  const res = await fetch(`${h.url}/webhooks/${platform}/${shopId}${search ? `?${search}` : ''}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await res.text();
  let json: Answer['json'] = {};
  try {
    json = JSON.parse(text);
  } catch {
    // WeChat's answer is an empty text body.
  }
  return { status: res.status, text, contentType: res.headers.get('content-type') ?? '', json };
}

async function createShop(platform: string, credentials: Record<string, unknown>) {
  const res = await h.api('/v1/shops', {
    body: { name: `${platform} sender shop`, platform, timezone: 'UTC', credentials },
  });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; webhookSecret?: string };
}

/** The texts stored for a buyer once the worker has taken `count` messages. */
async function storedTexts(shopId: string, buyerId: string, count: number): Promise<string[]> {
  const history = await eventually(async () => {
    const messages = await h.container.conversations.history(shopId, buyerId);
    return messages.length >= count ? messages : null;
  });
  return history.map((message) => message.text);
}

/** Meta's JSON: non-ASCII as lowercase \u escapes and "/" as "\/", as its servers write it. */
function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** X-Hub-Signature-256 as Meta computes it: HMAC-SHA256 of the bytes sent, lowercase hex. */
function metaHeaders(body: string, appSecret: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'X-Hub-Signature': `sha1=${createHmac('sha1', appSecret).update(body).digest('hex')}`,
    'X-Hub-Signature-256': `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`,
  };
}

/** Sends a Meta delivery signed with the app's secret, as Meta does. */
function deliverMeta(
  platform: 'whatsapp' | 'messenger',
  shopId: string,
  body: string,
  appSecret: string,
) {
  return deliver(platform, shopId, body, metaHeaders(body, appSecret));
}

/**
 * A POST made with node:http itself, for what fetch cannot send (repeated header lines,
 * Expect: 100-continue): `send` writes the body when and how the sender would.
 */
function rawPost(
  path: string,
  headers: OutgoingHttpHeaders,
  send: (req: ClientRequest) => void,
): Promise<{ status: number; body: string }> {
  const url = new URL(path, h.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    send(req);
  });
}

/** A Messenger delivery as Meta escapes it: one Page entry carrying these messaging items. */
function messengerDelivery(pageId: string, messaging: unknown[]): string {
  return metaJson({ object: 'page', entry: [{ id: pageId, time: Date.now(), messaging }] });
}

describe('WhatsApp Cloud API', () => {
  const credentials = {
    appSecret: 'wa-sender-secret',
    verifyToken: 'wa-verify',
    accessToken: 'EAAG-token',
    phoneNumberId: '106540352242922',
  };
  const metadata = { display_phone_number: '15550783881', phone_number_id: '106540352242922' };
  /** A Cloud API delivery as Meta escapes it: one account entry with one `messages` change. */
  const whatsappDelivery = (value: Record<string, unknown>, entryId = '102290129340398') =>
    metaJson({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: entryId,
          changes: [
            { field: 'messages', value: { messaging_product: 'whatsapp', metadata, ...value } },
          ],
        },
      ],
    });

  it('takes a batch of entries and changes (text, location, contacts, unsupported) once, and no receipt or reaction', async () => {
    const shop = await createShop('whatsapp', credentials);
    const ts = String(nowSeconds());
    const body = metaJson({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata,
                contacts: [{ profile: { name: '王小姐' }, wa_id: '8613800000101' }],
                messages: [
                  {
                    from: '8613800000101',
                    id: 'wamid.S1',
                    timestamp: ts,
                    type: 'text',
                    text: { body: '有红色的吗？ https://shop.example/p/1' },
                  },
                  {
                    from: '8613800000101',
                    id: 'wamid.S2',
                    timestamp: ts,
                    type: 'location',
                    location: { latitude: 23.134521, longitude: 113.358803, name: '天河店' },
                  },
                  {
                    from: '8613800000101',
                    id: 'wamid.S3',
                    timestamp: ts,
                    type: 'contacts',
                    contacts: [{ name: { formatted_name: 'A', first_name: 'A' } }],
                  },
                  {
                    from: '8613800000101',
                    id: 'wamid.S4',
                    timestamp: ts,
                    type: 'reaction',
                    reaction: { message_id: 'wamid.OUT', emoji: '👍' },
                  },
                  {
                    from: '8613800000101',
                    id: 'wamid.S5',
                    timestamp: ts,
                    type: 'unsupported',
                    errors: [{ code: 131051, title: 'Message type unknown' }],
                    unsupported: { type: 'poll_creation' },
                  },
                ],
              },
            },
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata,
                statuses: [
                  {
                    id: 'wamid.OUT',
                    status: 'read',
                    timestamp: ts,
                    recipient_id: '8613800000101',
                  },
                ],
              },
            },
          ],
        },
        {
          id: '102290129340398',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata,
                messages: [
                  {
                    from: '8613800000102',
                    id: 'wamid.S6',
                    timestamp: ts,
                    type: 'text',
                    text: { body: 'price?' },
                  },
                ],
              },
            },
            { field: 'account_update', value: { event: 'VERIFIED_ACCOUNT' } },
          ],
        },
      ],
    });
    expect(body).toContain('\\u6709');
    const headers = metaHeaders(body, credentials.appSecret);
    const first = await deliver('whatsapp', shop.id, body, headers);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ ok: true, queued: 5, duplicates: 0 });
    // Meta retries what it thinks failed, byte for byte: nothing is taken twice.
    const retry = await deliver('whatsapp', shop.id, body, headers);
    expect(retry.json).toEqual({ ok: true, queued: 0, duplicates: 5 });
    expect(await storedTexts(shop.id, '8613800000101', 4)).toEqual([
      '有红色的吗？ https://shop.example/p/1',
      '[location] 天河店',
      '[contacts]',
      '[unsupported]',
    ]);
  });

  it('takes a batch past 1 MiB (Meta: "Webhooks payloads can be up to 3MB") whole', async () => {
    const shop = await createShop('whatsapp', credentials);
    const ts = String(nowSeconds());
    // 70 texts of 4,096 characters, each escaped by Meta to 6 bytes a character: about 1.7 MB.
    const messages = Array.from({ length: 70 }, (_, i) => ({
      from: '8613800000103',
      id: `wamid.BIG${i}`,
      timestamp: ts,
      type: 'text',
      text: { body: '长'.repeat(4096) },
    }));
    const body = whatsappDelivery({ messages });
    expect(Buffer.byteLength(body)).toBeGreaterThan(1.5 * 1024 * 1024);
    const answer = await deliverMeta('whatsapp', shop.id, body, credentials.appSecret);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ok: true, queued: 70, duplicates: 0 });
  });

  it('opens the conversation for a welcome request (chat opened, nothing written) without counting a consultation', async () => {
    const shop = await createShop('whatsapp', credentials);
    const body = whatsappDelivery({
      contacts: [{ profile: { name: 'Lee' }, wa_id: '8613800000104' }],
      messages: [
        {
          from: '8613800000104',
          id: 'wamid.WELCOME1',
          timestamp: String(nowSeconds()),
          type: 'request_welcome',
        },
      ],
    });
    const answer = await deliverMeta('whatsapp', shop.id, body, credentials.appSecret);
    expect(answer.status).toBe(200);
    const [opened] = await eventually(async () => {
      const history = await h.container.conversations.history(shop.id, '8613800000104');
      return history.length === 1 ? history : null;
    });
    expect(opened).toMatchObject({ kind: 'open', text: '[welcome request]' });
    const month = new Date().toISOString().slice(0, 7);
    expect((await h.api(`/v1/shops/${shop.id}/usage?month=${month}`)).body.consultations).toBe(0);
  });

  it("acknowledges the App Dashboard's test sample without taking its made-up buyer", async () => {
    const shop = await createShop('whatsapp', credentials);
    // The dashboard's sample, word for word: entry id 0 and a made-up number.
    const body = whatsappDelivery(
      {
        metadata: { display_phone_number: '16505551111', phone_number_id: '123456123' },
        contacts: [{ profile: { name: 'test user name' }, wa_id: '16315551181' }],
        messages: [
          {
            from: '16315551181',
            id: 'ABGGFlA5Fpa',
            timestamp: '1504902988',
            type: 'text',
            text: { body: 'this is a text message' },
          },
        ],
      },
      '0',
    );
    const answer = await deliverMeta('whatsapp', shop.id, body, credentials.appSecret);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ok: true, queued: 0, duplicates: 0 });
  });

  it('refuses a body signed with another app secret with 401 invalid_signature', async () => {
    const shop = await createShop('whatsapp', credentials);
    const body = metaJson({ object: 'whatsapp_business_account', entry: [] });
    const answer = await deliver('whatsapp', shop.id, body, metaHeaders(body, 'another-secret'));
    expect(answer.status).toBe(401);
    expect(answer.json.error?.code).toBe('invalid_signature');
  });
});

describe('Messenger', () => {
  const credentials = {
    appSecret: 'm-sender-secret',
    appId: '1517776481860111',
    verifyToken: 'm-verify',
    pageAccessToken: 'PAGE-TOKEN',
  };
  const pageId = '104857600000777';

  it('takes a message whose timestamp is Unix seconds as a string, as Meta documents it', async () => {
    const shop = await createShop('messenger', credentials);
    const body = messengerDelivery(pageId, [
      {
        sender: { id: '6783926561650001' },
        recipient: { id: pageId },
        timestamp: String(nowSeconds()),
        message: { mid: 'm_str_ts_1', text: '还有货吗' },
      },
    ]);
    const headers = metaHeaders(body, credentials.appSecret);
    const answer = await deliver('messenger', shop.id, body, headers);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ok: true, queued: 1, duplicates: 0 });
    expect((await deliver('messenger', shop.id, body, headers)).json).toEqual({
      ok: true,
      queued: 0,
      duplicates: 1,
    });
    const [message] = await eventually(async () => {
      const history = await h.container.conversations.history(shop.id, '6783926561650001');
      return history.length === 1 ? history : null;
    });
    expect(message!.text).toBe('还有货吗');
    // Read as seconds, not as 1970: the message is from now.
    expect(Math.abs(message!.at - Date.now())).toBeLessThan(60_000);
  });

  it("acknowledges delivery and read receipts and reactions beside a buyer's attachment, queuing only it", async () => {
    const shop = await createShop('messenger', credentials);
    const ms = Date.now();
    const body = messengerDelivery(pageId, [
      {
        sender: { id: '6783926561650002' },
        recipient: { id: pageId },
        timestamp: ms,
        message: {
          mid: 'm_batch_1',
          attachments: [
            { type: 'image', payload: { url: 'https://scontent.xx.fbcdn.net/v/t1/1.jpg' } },
          ],
        },
      },
      {
        sender: { id: '6783926561650002' },
        recipient: { id: pageId },
        delivery: { mids: ['m_out'], watermark: ms },
      },
      {
        sender: { id: '6783926561650002' },
        recipient: { id: pageId },
        timestamp: ms,
        read: { watermark: ms },
      },
      {
        sender: { id: '6783926561650002' },
        recipient: { id: pageId },
        timestamp: ms,
        reaction: { mid: 'm_out', action: 'react', reaction: 'love', emoji: '❤' },
      },
    ]);
    const answer = await deliverMeta('messenger', shop.id, body, credentials.appSecret);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ok: true, queued: 1, duplicates: 0 });
    expect(await storedTexts(shop.id, '6783926561650002', 1)).toEqual(['[image]']);
  });

  it('acknowledges a postback from a user_ref (no PSID to answer) without refusing the delivery', async () => {
    const shop = await createShop('messenger', credentials);
    // The messaging_postbacks reference's example: sender.user_ref, no sender.id.
    const body = messengerDelivery(pageId, [
      {
        sender: { user_ref: 'USER-REF-ID' },
        recipient: { id: pageId },
        timestamp: Date.now(),
        postback: { mid: 'm_postback_ref', title: 'Get Started', payload: 'START' },
      },
    ]);
    const answer = await deliverMeta('messenger', shop.id, body, credentials.appSecret);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ok: true, queued: 0, duplicates: 0 });
  });

  it("acknowledges the App Dashboard's test sample (Page id 0) without taking its made-up buyer", async () => {
    const shop = await createShop('messenger', credentials);
    const body = messengerDelivery('0', [
      {
        sender: { id: '12334' },
        recipient: { id: '23245' },
        timestamp: Date.now(),
        message: { mid: 'random_mid', text: 'random_text' },
      },
    ]);
    const answer = await deliverMeta('messenger', shop.id, body, credentials.appSecret);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ok: true, queued: 0, duplicates: 0 });
    expect(await h.container.conversations.history(shop.id, '12334')).toEqual([]);
  });
});

describe('LINE', () => {
  const credentials = { channelSecret: 'line-sender-secret', channelAccessToken: 'line-token' };

  /** x-line-signature as LINE computes it: base64 HMAC-SHA256 of the body, keyed by the channel secret. */
  function lineHeaders(body: string, secret: string): Record<string, string> {
    const signature = createHmac('sha256', secret).update(body).digest('base64');
    // The official SDK's own check agrees that this is LINE's signature.
    expect(validateSignature(body, secret, signature)).toBe(true);
    return { 'Content-Type': 'application/json; charset=utf-8', 'x-line-signature': signature };
  }

  const base = (id: string, userId: string) => ({
    mode: 'active',
    timestamp: Date.now(),
    source: { type: 'user', userId },
    webhookEventId: id,
    deliveryContext: { isRedelivery: false },
  });

  it('takes several events once: text, sticker, location; follow, unsend and read receipts are acknowledged', async () => {
    const shop = await createShop('line', credentials);
    const user = 'U4af4980629a0000000000000000000a1';
    const events = [
      {
        type: 'message',
        ...base('01HSENDER0000000000000001', user),
        replyToken: 'nHuyWiB7yP5Zw52FIkcQobQuGDXCTA',
        message: {
          id: '444573844083572737',
          type: 'text',
          quoteToken: 'q3Plxr4AgKd',
          text: '請問有貨嗎？ (emoji)',
          emojis: [{ index: 0, length: 6, productId: '5ac1bfd5040ab15980c9b435', emojiId: '001' }],
        },
      },
      {
        type: 'message',
        ...base('01HSENDER0000000000000002', user),
        replyToken: 'r2',
        message: {
          id: '444573844083572738',
          type: 'sticker',
          quoteToken: 'q2',
          packageId: '446',
          stickerId: '1988',
          stickerResourceType: 'STATIC',
          keywords: ['happy'],
        },
      },
      {
        type: 'message',
        ...base('01HSENDER0000000000000003', user),
        replyToken: 'r3',
        message: {
          id: '444573844083572739',
          type: 'location',
          title: '門市',
          address: '台北市信義區',
          latitude: 25.033,
          longitude: 121.5654,
        },
      },
      { type: 'follow', ...base('01HSENDER0000000000000004', user), replyToken: 'r4' },
      {
        type: 'unsend',
        ...base('01HSENDER0000000000000005', user),
        unsend: { messageId: '444573844083572700' },
      },
      {
        type: 'memberJoined',
        ...base('01HSENDER0000000000000006', user),
        source: { type: 'group', groupId: 'C4af4980629a0000000000000000000a1' },
        joined: { members: [{ type: 'user', userId: user }] },
      },
    ];
    const body = JSON.stringify({ destination: 'U0123456789abcdef0123456789abcdef', events });
    const headers = lineHeaders(body, credentials.channelSecret);
    const first = await deliver('line', shop.id, body, headers);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ ok: true, queued: 3, duplicates: 0 });
    // Webhook redelivery sends the same events (same webhookEventId) marked isRedelivery.
    const redelivered = JSON.stringify({
      destination: 'U0123456789abcdef0123456789abcdef',
      events: events.map((event) => ({ ...event, deliveryContext: { isRedelivery: true } })),
    });
    const again = await deliver(
      'line',
      shop.id,
      redelivered,
      lineHeaders(redelivered, credentials.channelSecret),
    );
    expect(again.json).toEqual({ ok: true, queued: 0, duplicates: 3 });
    expect(await storedTexts(shop.id, user, 3)).toEqual([
      '請問有貨嗎？ (emoji)',
      '[sticker]',
      '[location] 門市',
    ]);
  });

  it("answers the console's Verify (an empty batch) 200, and refuses another channel's signature", async () => {
    const shop = await createShop('line', credentials);
    const body = JSON.stringify({ destination: 'U0123456789abcdef0123456789abcdef', events: [] });
    const verify = await deliver(
      'line',
      shop.id,
      body,
      lineHeaders(body, credentials.channelSecret),
    );
    expect(verify.status).toBe(200);
    const wrong = await deliver('line', shop.id, body, lineHeaders(body, 'another-channel'));
    expect(wrong.status).toBe(401);
    expect(wrong.json.error?.code).toBe('invalid_signature');
  });
});

describe('Telegram', () => {
  const secretToken = 'tg_sender_secret_0123456789abcdefghij';
  const credentials = { botToken: '7123456789:AAHk3vQ9xZ-Lm2pR8sT1wY6zB4nC0dH5jE', secretToken };
  const headers = {
    'Content-Type': 'application/json',
    'X-Telegram-Bot-Api-Secret-Token': secretToken,
  };
  const from = { id: 700000001, is_bot: false, first_name: 'Ann', language_code: 'en' };
  const chat = { id: 700000001, type: 'private', first_name: 'Ann' };

  it('queues a message (and a photo) once per update_id; edits, channel posts, buttons and member changes are acknowledged', async () => {
    const shop = await createShop('telegram', credentials);
    const date = nowSeconds();
    const updates = [
      { update_id: 810001, message: { message_id: 1, from, chat, date, text: 'hello' } },
      {
        update_id: 810002,
        message: {
          message_id: 2,
          from,
          chat,
          date,
          photo: [
            { file_id: 'AgAC-small', file_unique_id: 'a', width: 90, height: 90 },
            { file_id: 'AgAC-large', file_unique_id: 'b', width: 800, height: 800 },
          ],
          caption: 'this one?',
        },
      },
      {
        update_id: 810003,
        edited_message: { message_id: 1, from, chat, date, edit_date: date, text: 'hello!' },
      },
      {
        update_id: 810004,
        channel_post: {
          message_id: 9,
          chat: { id: -1001, type: 'channel', title: 'News' },
          date,
          text: 'sale',
        },
      },
      {
        update_id: 810005,
        callback_query: {
          id: '4382',
          from,
          chat_instance: '-1',
          data: 'size_m',
          message: { message_id: 3, chat, date },
        },
      },
      {
        update_id: 810006,
        my_chat_member: {
          chat,
          from,
          date,
          old_chat_member: { status: 'member', user: { id: 1, is_bot: true, first_name: 'b' } },
          new_chat_member: { status: 'kicked', user: { id: 1, is_bot: true, first_name: 'b' } },
        },
      },
    ];
    const answers = [];
    for (const update of updates)
      answers.push(await deliver('telegram', shop.id, JSON.stringify(update), headers));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers.map((a) => a.json.queued)).toEqual([1, 1, 0, 0, 0, 0]);
    // Telegram resends an update it got no 2xx for, with the same update_id.
    const retry = await deliver('telegram', shop.id, JSON.stringify(updates[0]), headers);
    expect(retry.json).toEqual({ ok: true, queued: 0, duplicates: 1 });
    expect(await storedTexts(shop.id, String(chat.id), 2)).toEqual(['hello', '[photo] this one?']);
  });

  it('queues a forwarded story as a buyer message rather than dropping it unseen', async () => {
    const shop = await createShop('telegram', credentials);
    const buyer = { id: 700000002, is_bot: false, first_name: 'Bo' };
    const update = {
      update_id: 830001,
      message: {
        message_id: 7,
        from: buyer,
        chat: { id: 700000002, type: 'private', first_name: 'Bo' },
        date: nowSeconds(),
        forward_origin: { type: 'user', date: nowSeconds(), sender_user: from },
        story: { chat: { id: 700000001, type: 'private', first_name: 'Ann' }, id: 12 },
      },
    };
    const answer = await deliver('telegram', shop.id, JSON.stringify(update), headers);
    expect(answer.json).toEqual({ ok: true, queued: 1, duplicates: 0 });
    expect(await storedTexts(shop.id, '700000002', 1)).toEqual(['[story]']);
  });

  it("acknowledges a channel post Telegram copies into the discussion group without taking it as a buyer's", async () => {
    const shop = await createShop('telegram', credentials);
    const group = { id: -1002000000001, type: 'supergroup', title: 'Shop chat' };
    const update = {
      update_id: 820001,
      message: {
        message_id: 51,
        from: { id: 777000, is_bot: false, first_name: 'Telegram' },
        sender_chat: { id: -1003000000001, type: 'channel', title: 'Shop news' },
        chat: group,
        date: nowSeconds(),
        is_automatic_forward: true,
        forward_origin: {
          type: 'channel',
          chat: { id: -1003000000001, type: 'channel', title: 'Shop news' },
          message_id: 9,
          date: nowSeconds(),
        },
        text: '双十一大促',
      },
    };
    const answer = await deliver('telegram', shop.id, JSON.stringify(update), headers);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ ok: true, queued: 0, duplicates: 0 });
  });

  it('refuses an update without the secret token header, or with another one, with 401', async () => {
    const shop = await createShop('telegram', credentials);
    const body = JSON.stringify({
      update_id: 1,
      message: { message_id: 1, from, chat, date: 1, text: 'x' },
    });
    const missing = await deliver('telegram', shop.id, body, {
      'Content-Type': 'application/json',
    });
    const wrong = await deliver('telegram', shop.id, body, {
      ...headers,
      'X-Telegram-Bot-Api-Secret-Token': 'another_secret_0123456789abcdefghij',
    });
    expect([missing.status, wrong.status]).toEqual([401, 401]);
  });
});

describe('WeChat Official Account', () => {
  const token = 'wxsendertoken1';
  const appId = 'wx2c2769f8efd9abc2';
  const encodingAESKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
  let nonce = 1_320_562_000;

  /** The query WeChat adds to every push: sha1 of the sorted token, timestamp and nonce. */
  function signedQuery(): Record<string, string> {
    const timestamp = String(nowSeconds());
    const n = String(++nonce);
    const signature = createHash('sha1')
      .update([token, timestamp, n].sort().join(''))
      .digest('hex');
    return { signature, timestamp, nonce: n, openid: 'oSenderOpenId0001' };
  }
  const xmlHeaders = { 'Content-Type': 'text/xml' };

  function textXml(msgId: string, content: string, openId = 'oSenderOpenId0001'): string {
    return `<xml><ToUserName><![CDATA[gh_sender]]></ToUserName><FromUserName><![CDATA[${openId}]]></FromUserName><CreateTime>${nowSeconds()}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId}</MsgId></xml>`;
  }

  it('answers the GET echostr check with the echostr itself, in plain and in safe mode', async () => {
    // The Official Account signs its server check the plain way whatever the encryption mode.
    for (const credentials of [
      { appId, appSecret: 's', token },
      { appId, appSecret: 's', token, encodingAESKey },
    ]) {
      const shop = await createShop('wechat', credentials);
      const query = { ...signedQuery(), echostr: '6418497383838363' };
      const res = await fetch(`${h.url}/webhooks/wechat/${shop.id}?${new URLSearchParams(query)}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('6418497383838363');
    }
  });

  it('decodes character references in a body written without CDATA', async () => {
    const shop = await createShop('wechat', { appId, appSecret: 's', token });
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n  <ToUserName>gh_sender</ToUserName>\n  <FromUserName>oSenderOpenId0002</FromUserName>\n  <CreateTime>${nowSeconds()}</CreateTime>\n  <MsgType>text</MsgType>\n  <Content>M &amp; L &lt;都要&gt; &#20320;好</Content>\n  <MsgId>23000000000000001</MsgId>\n</xml>\n`;
    const answer = await deliver('wechat', shop.id, xml, xmlHeaders, signedQuery());
    expect(answer).toMatchObject({ status: 200, text: '' });
    expect(await storedTexts(shop.id, 'oSenderOpenId0002', 1)).toEqual(['M & L <都要> 你好']);
  });

  it('answers event pushes with an empty 200: a CLICK opens the conversation, subscribe/VIEW/LOCATION/unknown do not', async () => {
    const shop = await createShop('wechat', { appId, appSecret: 's', token });
    const event = (name: string, extra = '') =>
      `<xml><ToUserName><![CDATA[gh_sender]]></ToUserName><FromUserName><![CDATA[oSenderOpenId0003]]></FromUserName><CreateTime>${nowSeconds()}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${name}]]></Event>${extra}</xml>`;
    const pushes = [
      event('subscribe', '<EventKey><![CDATA[]]></EventKey>'),
      event('VIEW', '<EventKey><![CDATA[https://shop.example/]]></EventKey>'),
      event(
        'LOCATION',
        '<Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision>',
      ),
      event(
        'TEMPLATESENDJOBFINISH',
        '<MsgID>200163836</MsgID><Status><![CDATA[success]]></Status>',
      ),
      event('CLICK', '<EventKey><![CDATA[联系客服]]></EventKey>'),
    ];
    for (const xml of pushes)
      expect(await deliver('wechat', shop.id, xml, xmlHeaders, signedQuery())).toMatchObject({
        status: 200,
        text: '',
      });
    const history = await eventually(async () => {
      const messages = await h.container.conversations.history(shop.id, 'oSenderOpenId0003');
      return messages.length === 1 ? messages : null;
    });
    expect(history[0]).toMatchObject({ kind: 'open', text: '[menu] 联系客服' });
  });

  it('takes a compatible-mode push (plaintext beside <Encrypt>) when the shop keeps no EncodingAESKey', async () => {
    const shop = await createShop('wechat', { appId, appSecret: 's', token });
    const plain = textXml('23000000000000002', '兼容模式');
    const crypto = new WXBizMsgCrypt(token, encodingAESKey, appId);
    const encrypted = crypto.encrypt(plain);
    const query = signedQuery();
    const compatible = plain.replace('</xml>', `<Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`);
    const answer = await deliver('wechat', shop.id, compatible, xmlHeaders, {
      ...query,
      encrypt_type: 'aes',
      msg_signature: crypto.getSignature(query.timestamp!, query.nonce!, encrypted),
    });
    expect(answer).toMatchObject({ status: 200, text: '' });
    expect(await storedTexts(shop.id, 'oSenderOpenId0001', 1)).toEqual(['兼容模式']);
  });

  it('takes a safe-mode push sealed by a WeChat SDK once, and refuses a ciphertext-only push without the key', async () => {
    const safeShop = await createShop('wechat', { appId, appSecret: 's', token, encodingAESKey });
    const plainShop = await createShop('wechat', { appId, appSecret: 's', token });
    const crypto = new WXBizMsgCrypt(token, encodingAESKey, appId);
    const encrypted = crypto.encrypt(textXml('23000000000000003', '安全模式', 'oSenderOpenId0004'));
    const body = `<xml>\n    <ToUserName><![CDATA[gh_sender]]></ToUserName>\n    <Encrypt><![CDATA[${encrypted}]]></Encrypt>\n</xml>`;
    const safeQuery = () => {
      const query = signedQuery();
      return {
        ...query,
        encrypt_type: 'aes',
        msg_signature: crypto.getSignature(query.timestamp!, query.nonce!, encrypted),
      };
    };
    expect(await deliver('wechat', safeShop.id, body, xmlHeaders, safeQuery())).toMatchObject({
      status: 200,
      text: '',
    });
    // WeChat retries (no answer within 5 s) with the same MsgId: absorbed.
    expect(await deliver('wechat', safeShop.id, body, xmlHeaders, safeQuery())).toMatchObject({
      status: 200,
      text: '',
    });
    expect(await storedTexts(safeShop.id, 'oSenderOpenId0004', 1)).toEqual(['安全模式']);
    const refused = await deliver('wechat', plainShop.id, body, xmlHeaders, safeQuery());
    expect(refused.status).toBe(401);
    expect(refused.json.error?.code).toBe('invalid_signature');
  });
  it('uses up the signed query of a ciphertext-only push it refused, so a copied query carries no forged body', async () => {
    // The shop keeps no EncodingAESKey while its console sends safe mode: every real push is
    // refused (401), and its query (timestamp, nonce, signature) could be read from a log.
    const shop = await createShop('wechat', { appId, appSecret: 's', token });
    const crypto = new WXBizMsgCrypt(token, encodingAESKey, appId);
    const encrypted = crypto.encrypt(textXml('23000000000000005', '真的', 'oSenderOpenId0005'));
    const query = signedQuery();
    const copied = {
      ...query,
      encrypt_type: 'aes',
      msg_signature: crypto.getSignature(query.timestamp!, query.nonce!, encrypted),
    };
    const real = `<xml><ToUserName><![CDATA[gh_sender]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`;
    expect((await deliver('wechat', shop.id, real, xmlHeaders, copied)).status).toBe(401);
    // The same query with a plaintext body of someone else's making (compatible mode's shape).
    const forged = textXml('23000000000000006', '假冒的消息', 'oSenderOpenId0005').replace(
      '</xml>',
      `<Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`,
    );
    const answer = await deliver('wechat', shop.id, forged, xmlHeaders, copied);
    expect(answer.status).toBe(401);
    expect(answer.json.error?.code).toBe('invalid_signature');
    expect(await h.container.conversations.history(shop.id, 'oSenderOpenId0005')).toEqual([]);
  });
});

describe('generic (Standard Webhooks)', () => {
  function message(messageId: string, buyerId: string, text: string) {
    return JSON.stringify({
      type: 'message',
      timestamp: new Date().toISOString(),
      data: {
        messageId,
        buyer: { id: buyerId },
        from: 'buyer',
        text,
        sentAt: new Date().toISOString(),
      },
    });
  }

  /** The standardwebhooks library's signature with the shop's secret, and one with a retired secret. */
  function rotatedSignatures(secret: string, id: string, now: Date, body: string) {
    const retired = `whsec_${randomBytes(32).toString('base64')}`;
    return {
      current: new StandardWebhook(secret).sign(id, now, body),
      stale: new StandardWebhook(retired).sign(id, now, body),
    };
  }

  /** The three Standard Webhooks headers as the reference library signs them. */
  function referenceSigned(secret: string, id: string, now: Date, body: string) {
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new StandardWebhook(secret).sign(id, now, body),
    };
  }

  it('accepts a signature list from a rotating sender (a stale secret first) and a retry once', async () => {
    const shop = await createShop('generic', { replyUrl: 'https://bridge.example.com/replies' });
    const body = message('tb-sender-1', 'tb_buyer_1', '这个有红色的吗？');
    const now = new Date();
    const { current, stale } = rotatedSignatures(shop.webhookSecret!, 'msg_sender_1', now, body);
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'webhook-id': 'msg_sender_1',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': `${stale} v1a,${randomBytes(64).toString('base64')} ${current}`,
    };
    expect((await deliver('generic', shop.id, body, headers)).json).toEqual({
      ok: true,
      queued: 1,
      duplicates: 0,
    });
    expect((await deliver('generic', shop.id, body, headers)).json).toEqual({
      ok: true,
      queued: 0,
      duplicates: 1,
    });
  });

  it('accepts Svix-signed deliveries with svix-* headers', async () => {
    const shop = await createShop('generic', { replyUrl: 'https://bridge.example.com/replies' });
    const body = message('tb-sender-2', 'tb_buyer_2', 'svix');
    const now = new Date();
    const answer = await deliver('generic', shop.id, body, {
      'Content-Type': 'application/json',
      'svix-id': 'msg_sender_2',
      'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
      'svix-signature': new SvixWebhook(shop.webhookSecret!).sign('msg_sender_2', now, body),
    });
    expect(answer.json).toEqual({ ok: true, queued: 1, duplicates: 0 });
  });

  it('accepts a body that starts with a UTF-8 byte order mark, signed over those bytes', async () => {
    const shop = await createShop('generic', { replyUrl: 'https://bridge.example.com/replies' });
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(message('tb-sender-3', 'tb_buyer_3', '带BOM')),
    ]);
    const now = new Date();
    const answer = await deliver('generic', shop.id, body, {
      'content-type': 'application/json',
      ...referenceSigned(shop.webhookSecret!, 'msg_sender_3', now, body.toString('utf8')),
    });
    expect(answer.status).toBe(200);
    expect(await storedTexts(shop.id, 'tb_buyer_3', 1)).toEqual(['带BOM']);
  });

  it('accepts the signatures sent as repeated webhook-signature headers rather than one list', async () => {
    const shop = await createShop('generic', { replyUrl: 'https://bridge.example.com/replies' });
    const body = message('tb-sender-6', 'tb_buyer_6', 'two headers');
    const now = new Date();
    const { current, stale } = rotatedSignatures(shop.webhookSecret!, 'msg_sender_6', now, body);
    const { status } = await rawPost(
      `/webhooks/generic/${shop.id}`,
      {
        'content-type': 'application/json',
        'webhook-id': 'msg_sender_6',
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        // Two header lines, the right signature first.
        'webhook-signature': [current, stale],
      },
      (req) => req.end(body),
    );
    expect(status).toBe(200);
  });

  it("answers curl's Expect: 100-continue and a chunked body (no Content-Length) like any other", async () => {
    const shop = await createShop('generic', { replyUrl: 'https://bridge.example.com/replies' });
    const body = message('tb-sender-5', 'tb_buyer_5', `长消息${'。'.repeat(2000)}`);
    const now = new Date();
    let continued = false;
    const answer = await rawPost(
      `/webhooks/generic/${shop.id}`,
      {
        'content-type': 'application/json',
        expect: '100-continue',
        'transfer-encoding': 'chunked',
        ...referenceSigned(shop.webhookSecret!, 'msg_sender_5', now, body),
      },
      // As curl does: the body only after the server's 100 Continue, here in two chunks.
      (req) =>
        req.on('continue', () => {
          continued = true;
          const bytes = Buffer.from(body);
          req.write(bytes.subarray(0, 1000));
          req.end(bytes.subarray(1000));
        }),
    );
    expect({ ...answer, continued }).toEqual({
      status: 200,
      continued: true,
      body: JSON.stringify({ ok: true, queued: 1, duplicates: 0 }),
    });
  });

  it('refuses a timestamp in milliseconds with 401 invalid_timestamp, as the reference verifier does', async () => {
    const shop = await createShop('generic', { replyUrl: 'https://bridge.example.com/replies' });
    const body = message('tb-sender-4', 'tb_buyer_4', 'ms');
    const ms = String(Date.now());
    const mac = createHmac('sha256', Buffer.from(shop.webhookSecret!.slice(6), 'base64'))
      .update(`msg_sender_4.${ms}.${body}`)
      .digest('base64');
    const answer = await deliver('generic', shop.id, body, {
      'content-type': 'application/json',
      'webhook-id': 'msg_sender_4',
      'webhook-timestamp': ms,
      'webhook-signature': `v1,${mac}`,
    });
    expect(answer.status).toBe(401);
    expect(answer.json.error?.code).toBe('invalid_timestamp');
  });
});

describe('shared sender addresses', () => {
  // Last in this file: every delivery here comes from 127.0.0.1, as a platform's few servers
  // deliver for all of its shops.
  it("keeps delivering to a shop when another shop's stale secret fails verification from the same address", async () => {
    const stale = await createShop('line', {
      channelSecret: 'secret-before-reissue',
      channelAccessToken: 't',
    });
    const healthy = await createShop('line', {
      channelSecret: 'healthy-secret',
      channelAccessToken: 't',
    });
    const sign = (body: string, secret: string) => ({
      'content-type': 'application/json',
      'x-line-signature': createHmac('sha256', secret).update(body).digest('base64'),
    });
    const empty = JSON.stringify({ destination: 'U0123456789abcdef0123456789abcdef', events: [] });
    // LINE signs with the reissued secret; this shop still holds the old one.
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++)
      statuses.push(
        (await deliver('line', stale.id, empty, sign(empty, 'secret-after-reissue'))).status,
      );
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses.at(-1)).toBe(429);
    const answer = await deliver('line', healthy.id, empty, sign(empty, 'healthy-secret'));
    expect(answer.status).toBe(200);
  });
});
