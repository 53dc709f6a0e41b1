import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { ManualClock } from '../../src/shared/clock';
import { lineMediaEvent, signedLineDelivery } from '../fixtures/platforms/line';
import {
  messengerDeliveryBody,
  messengerImageAttachment,
  signedMessengerDelivery,
} from '../fixtures/platforms/messenger';
import type { SignedRequest } from '../fixtures/platforms/signed-request';
import { telegramDelivery, telegramPhotoUpdate } from '../fixtures/platforms/telegram';
import { signedWechatDelivery, wechatImageXml } from '../fixtures/platforms/wechat';
import { signedWhatsappDelivery, whatsappMessage } from '../fixtures/platforms/whatsapp';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

// The media proxy end to end: a real webhook stores the media message, an agent asks for it,
// and the platform's API (nock) is called with the shop's own token.
const clock = new ManualClock(Date.now());
const MAX_BYTES = 4096;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    clock,
    env: {
      META_GRAPH_API_BASE: 'http://graph.test/v21.0',
      LINE_DATA_API_BASE: 'http://line-data.test',
      WECHAT_API_BASE: 'http://wechat.test',
      TELEGRAM_API_BASE: 'http://telegram.test',
      MEDIA_MAX_BYTES: String(MAX_BYTES),
      MEDIA_TIMEOUT_MS: '1000',
    },
  });
});
afterAll(() => h.close());
afterEach(() => nock.cleanAll());

/** A 1x1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(60, 1)]);

async function post(platform: string, shopId: string, request: SignedRequest) {
  const query = new URLSearchParams(request.query).toString();
  const res = await fetch(`${h.url}/webhooks/${platform}/${shopId}${query ? `?${query}` : ''}`, {
    method: 'POST',
    headers: request.headers,
    body: new Uint8Array(request.rawBody),
  });
  expect(res.status).toBe(200);
}

async function shopWithAgent(platform: string, credentials: Record<string, unknown>) {
  const res = await h.api('/v1/shops', {
    body: { name: `${platform} shop`, platform, timezone: 'UTC', credentials },
  });
  expect(res.status).toBe(201);
  const agent = (await h.api('/v1/agents', { body: { name: 'Wu', shopIds: [res.body.id] } })).body;
  return { id: res.body.id as string, token: agent.token as string };
}

/** The id of the conversation's message with media, as the console reads it. */
async function mediaMessage(shop: { token: string }, id: string): Promise<string> {
  return eventually(async () => {
    const res = await h.api(`/v1/agent/conversations/${id}`, { token: shop.token });
    return res.body.lastMessages?.find((m: { media?: unknown }) => m.media)?.id as string;
  });
}

async function getMedia(
  token: string,
  id: string,
  messageId: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(
    `${h.url}/v1/agent/conversations/${id}/media/${encodeURIComponent(messageId)}`,
    { headers: { authorization: `Bearer ${token}`, ...headers } },
  );
  const body = Buffer.from(await res.arrayBuffer());
  let json: { error?: { code: string; message: string } } = {};
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    // A file, not an error.
  }
  return { status: res.status, headers: res.headers, body, error: json.error };
}

describe('WhatsApp media through the shop token', () => {
  const credentials = {
    appSecret: 'wa-secret',
    verifyToken: 'v',
    accessToken: 'EAAG-media-token',
    phoneNumberId: '106540352242922',
  };
  let shop: { id: string; token: string };
  let other: { id: string; token: string };
  let conversation: string;
  let imageId: string;
  let textId: string;

  beforeAll(async () => {
    shop = await shopWithAgent('whatsapp', credentials);
    other = await shopWithAgent('whatsapp', { ...credentials, accessToken: 'EAAG-other' });
    await post(
      'whatsapp',
      shop.id,
      signedWhatsappDelivery({
        secret: credentials.appSecret,
        messages: [
          whatsappMessage({ id: 'wamid.TEXT', from: '8613800000009', text: 'look' }),
          whatsappMessage({
            id: 'wamid.IMG',
            from: '8613800000009',
            raw: {
              type: 'image',
              image: {
                caption: 'red?',
                mime_type: 'image/jpeg',
                sha256: 'x',
                id: '1003383421387256',
              },
            },
          }),
        ],
      }),
    );
    conversation = conversationId(shop.id, '8613800000009');
    imageId = await mediaMessage(shop, conversation);
    textId = 'wamid.TEXT';
  });

  /** Graph's media lookup (GET /{media-id}) and the CDN download, both with the bearer token. */
  function graphServes(download: (scope: nock.Interceptor) => nock.Scope) {
    const graph = nock('http://graph.test', {
      reqheaders: { authorization: 'Bearer EAAG-media-token' },
    })
      .get('/v21.0/1003383421387256')
      .reply(200, {
        messaging_product: 'whatsapp',
        url: 'http://lookaside.test/whatsapp_business/attachments/?mid=1003383421387256&ext=1&hash=h',
        mime_type: 'image/jpeg',
        sha256: 'x',
        file_size: '303833',
        id: '1003383421387256',
      });
    const cdn = download(
      nock('http://lookaside.test', {
        reqheaders: { authorization: 'Bearer EAAG-media-token' },
      }).get('/whatsapp_business/attachments/'),
    );
    return { graph, cdn };
  }

  it('serves the image with its checked type, inline, nosniff, sandboxed, privately cached', async () => {
    const { graph, cdn } = graphServes((i) =>
      i.query(true).reply(200, JPEG, { 'content-type': 'image/jpeg' }),
    );
    const res = await getMedia(shop.token, conversation, imageId);
    expect(res.status).toBe(200);
    expect(graph.isDone() && cdn.isDone()).toBe(true);
    expect(res.body.equals(JPEG)).toBe(true);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
    expect(res.headers.get('content-disposition')).toMatch(
      /^inline; filename="image-wamid_IMG\.jpg"/,
    );
    expect(res.headers.get('cache-control')).toBe('private, max-age=300');
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);

    // Served again from the process cache (nothing mocked any more), and 304 for the same tag.
    const again = await getMedia(shop.token, conversation, imageId);
    expect(again.status).toBe(200);
    expect(again.body.equals(JPEG)).toBe(true);
    const unchanged = await getMedia(shop.token, conversation, imageId, { 'if-none-match': etag });
    expect(unchanged.status).toBe(304);
  });

  it("refuses another tenant's agent, a text message and an unknown message", async () => {
    const foreign = await getMedia(other.token, conversation, imageId);
    expect(foreign.status).toBe(404);
    expect(foreign.error?.code).toBe('not_found');
    const text = await getMedia(shop.token, conversation, textId);
    expect(text.status).toBe(404);
    expect(text.error?.code).toBe('media_not_found');
    const unknown = await getMedia(shop.token, conversation, 'wamid.NOPE');
    expect(unknown.status).toBe(404);
    expect(unknown.error?.code).toBe('media_not_found');
    // Nor does an agent's token of another shop reach it with an id of its own shop's spelling.
    const otherConversation = conversationId(other.id, '8613800000009');
    expect((await getMedia(other.token, otherConversation, imageId)).error?.code).toBe(
      'media_not_found',
    );
  });
});

describe('limits, refusals and upstream failures', () => {
  const credentials = {
    appSecret: 'wa-secret-2',
    verifyToken: 'v',
    accessToken: 'EAAG-media-token',
    phoneNumberId: '106540352242922',
  };
  let shop: { id: string; token: string };

  beforeAll(async () => {
    shop = await shopWithAgent('whatsapp', credentials);
  });

  let n = 0;
  /** A new buyer sends an image with this media id: its conversation and message ids. */
  async function receiveImage(mediaId: string) {
    n += 1;
    const buyer = `86139000000${n}`;
    await post(
      'whatsapp',
      shop.id,
      signedWhatsappDelivery({
        secret: credentials.appSecret,
        messages: [
          whatsappMessage({
            id: `wamid.L${n}`,
            from: buyer,
            raw: { type: 'image', image: { mime_type: 'image/jpeg', sha256: 'x', id: mediaId } },
          }),
        ],
      }),
    );
    const id = conversationId(shop.id, buyer);
    return { id, messageId: await mediaMessage(shop, id) };
  }

  /** A fresh image message (the cache is per message) and the Graph lookup for it. */
  async function freshImage(download: (scope: nock.Interceptor) => nock.Scope | undefined) {
    const mediaId = `77700${n + 1}`;
    const { id, messageId } = await receiveImage(mediaId);
    nock('http://graph.test')
      .get(`/v21.0/${mediaId}`)
      .reply(200, { url: `http://lookaside.test/m/${mediaId}`, id: mediaId });
    download(nock('http://lookaside.test').get(`/m/${mediaId}`));
    return getMedia(shop.token, id, messageId);
  }

  it('refuses a file over the limit by its Content-Length', async () => {
    const res = await freshImage((i) =>
      i.reply(200, Buffer.alloc(MAX_BYTES + 1), {
        'content-type': 'image/jpeg',
        'content-length': String(MAX_BYTES + 1),
      }),
    );
    expect(res.status).toBe(502);
    expect(res.error?.code).toBe('media_too_large');
  });

  it('cuts off a file that grows past the limit while streaming (no Content-Length)', async () => {
    const res = await freshImage((i) =>
      i.reply(
        200,
        () => {
          const { Readable } = require('node:stream') as typeof import('node:stream');
          return Readable.from([Buffer.alloc(3000, 1), Buffer.alloc(3000, 2)]);
        },
        { 'content-type': 'image/jpeg' },
      ),
    );
    expect(res.status).toBe(502);
    expect(res.error?.code).toBe('media_too_large');
  });

  it('refuses markup and scriptable types, whatever the message claimed', async () => {
    for (const type of ['text/html; charset=utf-8', 'image/svg+xml', 'application/javascript']) {
      const res = await freshImage((i) =>
        i.reply(200, '<svg onload="alert(1)"/>', { 'content-type': type }),
      );
      expect(res.status).toBe(502);
      expect(res.error?.code).toBe('media_type_refused');
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    }
  });

  it('answers 502 for a platform error and 404 for a file the platform no longer has', async () => {
    const failing = await freshImage((i) => i.reply(500, 'upstream trace with secrets'));
    expect(failing.status).toBe(502);
    expect(failing.error?.code).toBe('media_unavailable');
    expect(failing.body.toString()).not.toContain('secrets');
    const gone = await freshImage((i) => i.reply(404));
    expect(gone.status).toBe(404);
    expect(gone.error?.code).toBe('media_not_found');
  });

  it('answers 404 when Graph says the media id no longer exists (code 100, subcode 33)', async () => {
    const { id, messageId } = await receiveImage('9990');
    nock('http://graph.test')
      .get('/v21.0/9990')
      .reply(400, {
        error: {
          message: "Unsupported get request. Object with ID '9990' does not exist",
          type: 'GraphMethodException',
          code: 100,
          error_subcode: 33,
          fbtrace_id: 'A1',
        },
      });
    const res = await getMedia(shop.token, id, messageId);
    expect(res.status).toBe(404);
    expect(res.error?.code).toBe('media_not_found');
    nock('http://graph.test')
      .get('/v21.0/9990')
      .reply(401, {
        error: { message: 'Error validating access token', type: 'OAuthException', code: 190 },
      });
    const refused = await getMedia(shop.token, id, messageId);
    expect(refused.status).toBe(502);
    expect(refused.error?.code).toBe('media_unavailable');
  });

  it('answers 504 when the platform does not deliver in time', async () => {
    const res = await freshImage((i) =>
      i.delay(1500).reply(200, JPEG, { 'content-type': 'image/jpeg' }),
    );
    expect(res.status).toBe(504);
    expect(res.error?.code).toBe('media_unavailable');
  });

  it("never sends the token to a host outside Meta's media hosts, nor follows a redirect there", async () => {
    const { id, messageId } = await receiveImage('555');
    nock('http://graph.test')
      .get('/v21.0/555')
      .reply(200, { url: 'https://collector.example.com/x' });
    const res = await getMedia(shop.token, id, messageId);
    expect(res.status).toBe(502);
    expect(res.error?.message).toContain('outside its own hosts');

    nock('http://graph.test').get('/v21.0/555').reply(200, { url: 'http://lookaside.test/r' });
    nock('http://lookaside.test')
      .get('/r')
      .reply(302, '', { location: 'https://collector.example.com/y' });
    const redirected = await getMedia(shop.token, id, messageId);
    expect(redirected.status).toBe(502);
    expect(redirected.error?.message).toContain('outside its own hosts');
  });
});

describe('LINE, Telegram, WeChat and Messenger', () => {
  it('LINE: the content API on the data host with the channel token; 202 while preparing', async () => {
    const shop = await shopWithAgent('line', {
      channelSecret: 'line-secret',
      channelAccessToken: 'line-token',
    });
    await post(
      'line',
      shop.id,
      signedLineDelivery({
        secret: 'line-secret',
        events: [lineMediaEvent({ webhookEventId: 'LM1', messageId: '325708', type: 'image' })],
      }),
    );
    const id = conversationId(shop.id, 'U4af4980629a0b1c2d3e4f5a6b7c8d9e0');
    const messageId = await mediaMessage(shop, id);
    nock('http://line-data.test', { reqheaders: { authorization: 'Bearer line-token' } })
      .get('/v2/bot/message/325708/content')
      .reply(202, '');
    const preparing = await getMedia(shop.token, id, messageId);
    expect(preparing.status).toBe(502);
    expect(preparing.error?.code).toBe('media_unavailable');
    const content = nock('http://line-data.test', {
      reqheaders: { authorization: 'Bearer line-token' },
    })
      .get('/v2/bot/message/325708/content')
      .reply(200, PNG, { 'content-type': 'image/png' });
    const res = await getMedia(shop.token, id, messageId);
    expect(res.status).toBe(200);
    expect(content.isDone()).toBe(true);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.body.equals(PNG)).toBe(true);
  });

  it('Telegram: getFile then the file path; an unlabelled download is typed by its bytes', async () => {
    const shop = await shopWithAgent('telegram', {
      botToken: '123456:ABC-media',
      secretToken: 'tg-secret-0123456789abcdefghijklmnop',
    });
    await post(
      'telegram',
      shop.id,
      telegramDelivery({
        secretToken: 'tg-secret-0123456789abcdefghijklmnop',
        update: telegramPhotoUpdate({ updateId: 9001, caption: 'this?' }),
      }),
    );
    const id = conversationId(shop.id, '111111111');
    const messageId = await mediaMessage(shop, id);
    const api = nock('http://telegram.test')
      .get('/bot123456:ABC-media/getFile')
      .query({ file_id: 'AgAC' })
      .reply(200, {
        ok: true,
        result: {
          file_id: 'AgAC',
          file_unique_id: 'AQAD',
          file_size: 70,
          file_path: 'photos/file_0.png',
        },
      })
      .get('/file/bot123456:ABC-media/photos/file_0.png')
      .reply(200, PNG, { 'content-type': 'application/octet-stream' });
    const res = await getMedia(shop.token, id, messageId);
    expect(res.status).toBe(200);
    expect(api.isDone()).toBe(true);
    expect(res.headers.get('content-type')).toBe('image/png');
  });

  it('Telegram: a file over the Bot API download limit is too large', async () => {
    const shop = await shopWithAgent('telegram', {
      botToken: '654321:XYZ-media',
      secretToken: 'tg-secret-abcdefghijklmnop0123456789',
    });
    await post(
      'telegram',
      shop.id,
      telegramDelivery({
        secretToken: 'tg-secret-abcdefghijklmnop0123456789',
        update: telegramPhotoUpdate({ updateId: 9002 }),
      }),
    );
    const id = conversationId(shop.id, '111111111');
    const messageId = await mediaMessage(shop, id);
    nock('http://telegram.test')
      .get('/bot654321:XYZ-media/getFile')
      .query(true)
      .reply(400, { ok: false, error_code: 400, description: 'Bad Request: file is too big' });
    const res = await getMedia(shop.token, id, messageId);
    expect(res.status).toBe(502);
    expect(res.error?.code).toBe('media_too_large');
  });

  it('WeChat: the temporary-media API with the shared access token; a JSON errcode is a failure', async () => {
    const shop = await shopWithAgent('wechat', {
      appId: 'wx2c2769f8efd9abc2',
      appSecret: 'wechat-app-secret',
      token: 'spamtest',
    });
    const timestamp = String(Math.floor(clock.now() / 1000));
    await post(
      'wechat',
      shop.id,
      signedWechatDelivery({
        token: 'spamtest',
        xml: wechatImageXml('6054768590064713729'),
        timestamp,
      }),
    );
    const id = conversationId(shop.id, 'oyORnuP8q7ou2gfYjqLzSIWZf0rs');
    const messageId = await mediaMessage(shop, id);
    const api = nock('http://wechat.test')
      .get('/cgi-bin/token')
      .query(true)
      .reply(200, { access_token: 'WX-ACCESS', expires_in: 7200 })
      .get('/cgi-bin/media/get')
      .query({ access_token: 'WX-ACCESS', media_id: 'media_id' })
      .reply(200, JPEG, {
        'content-type': 'image/jpeg',
        'content-disposition': 'attachment; filename="media_id.jpg"',
      });
    const res = await getMedia(shop.token, id, messageId);
    expect(res.status).toBe(200);
    expect(api.isDone()).toBe(true);
    expect(res.headers.get('content-type')).toBe('image/jpeg');

    // A second image whose media id WeChat no longer knows (errcode 40007, as JSON).
    await post(
      'wechat',
      shop.id,
      signedWechatDelivery({
        token: 'spamtest',
        xml: wechatImageXml('6054768590064713730').replace('media_id', 'expired_media'),
        timestamp,
        nonce: '99',
      }),
    );
    const expiredId = await eventually(async () => {
      const r = await h.api(`/v1/agent/conversations/${id}`, { token: shop.token });
      return r.body.lastMessages?.find(
        (m: { media?: { ref?: string } }) => m.media?.ref === 'expired_media',
      )?.id as string;
    });
    nock('http://wechat.test')
      .get('/cgi-bin/media/get')
      .query({ access_token: 'WX-ACCESS', media_id: 'expired_media' })
      .reply(200, { errcode: 40007, errmsg: 'invalid media_id' });
    const expired = await getMedia(shop.token, id, expiredId);
    expect(expired.status).toBe(404);
    expect(expired.error?.code).toBe('media_not_found');
  });

  it("Messenger: the attachment's CDN URL, fetched without the Page token", async () => {
    const shop = await shopWithAgent('messenger', {
      appId: '1517776481860111',
      appSecret: 'messenger-secret',
      verifyToken: 'v',
      pageAccessToken: 'EAAG-page',
    });
    await post(
      'messenger',
      shop.id,
      signedMessengerDelivery({
        secret: 'messenger-secret',
        body: messengerDeliveryBody({
          messaging: [
            messengerImageAttachment({
              mid: 'm_IMG',
              url: 'http://scontent.test/v/t1/123.png?oh=1',
            }),
          ],
        }),
      }),
    );
    const id = conversationId(shop.id, '6783926561659426');
    const messageId = await mediaMessage(shop, id);
    const cdn = nock('http://scontent.test', { badheaders: ['authorization'] })
      .get('/v/t1/123.png')
      .query({ oh: '1' })
      .reply(200, PNG, { 'content-type': 'image/png' });
    const res = await getMedia(shop.token, id, messageId);
    expect(res.status).toBe(200);
    expect(cdn.isDone()).toBe(true);
  });

  it('a generic shop has no media to fetch', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const agent = (await h.api('/v1/agents', { body: { name: 'G', shopIds: [shop.id] } })).body;
    await h.sendGeneric(
      shop,
      buyerMessage('g-buyer', '[image]', clock.now(), { messageId: 'g-1' }),
    );
    const id = conversationId(shop.id, 'g-buyer');
    await eventually(
      async () =>
        (await h.api(`/v1/agent/conversations/${id}`, { token: agent.token })).body.lastMessages
          ?.length > 0,
    );
    const res = await getMedia(agent.token, id, 'g-1');
    expect(res.status).toBe(404);
    expect(res.error?.code).toBe('media_not_found');
  });
});
