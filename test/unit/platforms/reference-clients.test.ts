import { validateSignature } from '@line/bot-sdk';
import nock from 'nock';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterEach, describe, expect, it } from 'vitest';
// node-webot's WeChat crypto (WXBizMsgCrypt), written independently of Tencent's sample and of ours.
import WXBizMsgCrypt from 'wechat-crypto';
import { WhatsAppAPI } from 'whatsapp-api-js';
import type { MessageEvent } from '../../../src/platforms/contract';
import { genericAdapter } from '../../../src/platforms/generic';
import { lineAdapter } from '../../../src/platforms/line';
import { wechatAdapter } from '../../../src/platforms/wechat';
import { whatsappAdapter } from '../../../src/platforms/whatsapp';
import { fetchWhatsappMedia } from '../../../src/platforms/whatsapp/media';
import { expectAppError } from '../../fixtures/platforms/app-error';
import { lineGroupTextEvent, signedLineDelivery } from '../../fixtures/platforms/line';
import { testPlatformHttp } from '../../fixtures/platforms/platform-http';
import { asInbound } from '../../fixtures/platforms/signed-request';
import { wechatTextXml } from '../../fixtures/platforms/wechat';
import { signedWhatsappDelivery, whatsappMessage } from '../../fixtures/platforms/whatsapp';

/** The Standard Webhooks reference test vector, also used by Svix. */
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const generic = { webhookSecret: secret, replyUrl: 'https://bridge.example.com/replies' };

afterEach(() => nock.cleanAll());

function genericBody(messageId: string) {
  return JSON.stringify({
    type: 'message',
    data: {
      messageId,
      buyer: { id: 'tb_buyer_42' },
      from: 'buyer',
      text: '这个有红色的吗？',
      sentAt: '2026-01-05T08:30:00Z',
    },
  });
}

describe('generic: signed by the reference libraries', () => {
  const now = new Date('2026-01-05T08:30:10Z');

  it('accepts a delivery signed by the standardwebhooks library', () => {
    const body = genericBody('tb-1');
    const signature = new StandardWebhook(secret).sign('msg_1', now, body);
    const request = {
      rawBody: Buffer.from(body),
      headers: {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
      query: {},
    };
    const inbound = asInbound(request, now.getTime());
    expect(() => genericAdapter.verify(inbound, generic)).not.toThrow();
    expect(genericAdapter.parse(inbound, generic).events[0]).toMatchObject({ eventId: 'msg_1' });
  });

  it('accepts Svix-branded headers (svix-id, svix-timestamp, svix-signature) as the svix library sends them', () => {
    const body = genericBody('tb-2');
    const signature = new SvixWebhook(secret).sign('msg_svix_2', now, body);
    const request = {
      rawBody: Buffer.from(body),
      headers: {
        'svix-id': 'msg_svix_2',
        'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
        'svix-signature': signature,
      },
      query: {},
    };
    const inbound = asInbound(request, now.getTime());
    expect(() => genericAdapter.verify(inbound, generic)).not.toThrow();
    // The svix-id is the dedupe key, as webhook-id would be.
    expect(genericAdapter.parse(inbound, generic).events[0]).toMatchObject({
      eventId: 'msg_svix_2',
    });
    const tampered = { ...request, rawBody: Buffer.from(body.replace('红色', '蓝色')) };
    expectAppError(
      () => genericAdapter.verify(asInbound(tampered, now.getTime()), generic),
      401,
      'invalid_signature',
    );
  });

  it("signs replies so the standardwebhooks library's verifier accepts them", async () => {
    let captured: { headers: Record<string, string>; body: string } | undefined;
    nock('https://bridge.example.com')
      .post('/replies')
      .reply(function (_uri, body) {
        const headers: Record<string, string> = {};
        for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'])
          headers[name] = String(this.req.headers[name]);
        captured = { headers, body: JSON.stringify(body) };
        return [200, {}];
      });
    const result = await genericAdapter.send!(
      {
        replyId: 'rpl_1',
        conversationId: 'cnv_1',
        shopId: 's1',
        buyerId: 'tb_buyer_42',
        text: '有的，红色M码有货。',
        repliesSinceLastBuyerMessage: 0,
        now: Date.now(),
      },
      generic,
      testPlatformHttp(),
    );
    expect(result).toEqual({ ok: true });
    expect(captured).toBeDefined();
    const verified = new StandardWebhook(secret).verify(captured!.body, captured!.headers);
    expect(verified).toMatchObject({ type: 'reply', data: { replyId: 'rpl_1' } });
  });
});

describe('LINE: @line/bot-sdk agrees with our signature check', () => {
  const credentials = { channelSecret: 'line-secret-1', channelAccessToken: 't' };

  it('a delivery we accept validates with the SDK, and a tampered one fails both', () => {
    const request = signedLineDelivery({
      secret: credentials.channelSecret,
      events: [lineGroupTextEvent({ webhookEventId: 'E1', messageId: 'm1' })],
    });
    const signature = request.headers['x-line-signature']!;
    expect(validateSignature(request.rawBody, credentials.channelSecret, signature)).toBe(true);
    expect(() => lineAdapter.verify(asInbound(request), credentials)).not.toThrow();
    const tampered = Buffer.from(request.rawBody.toString().replace('Hello', 'Hellp'));
    expect(validateSignature(tampered, credentials.channelSecret, signature)).toBe(false);
    expectAppError(
      () => lineAdapter.verify(asInbound({ ...request, rawBody: tampered }), credentials),
      401,
    );
  });
});

describe('WeChat safe mode: encrypted and signed by node-webot wechat-crypto', () => {
  const credentials = {
    appId: 'wx2c2769f8efd9abc2',
    appSecret: 's',
    token: 'spamtest',
    encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  };

  it('decrypts and verifies what the independent client produced', () => {
    const crypt = new WXBizMsgCrypt(
      credentials.token,
      credentials.encodingAESKey,
      credentials.appId,
    );
    const now = Date.parse('2026-01-05T08:30:00Z');
    const timestamp = String(Math.floor(now / 1000));
    const nonce = '1320562132';
    const encrypt = crypt.encrypt(wechatTextXml({ msgId: '6054768590064713728', content: '在吗' }));
    const request = {
      rawBody: Buffer.from(
        `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
      ),
      headers: { 'content-type': 'text/xml' },
      query: {
        signature: 'unused-in-safe-mode',
        timestamp,
        nonce,
        openid: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs',
        encrypt_type: 'aes',
        msg_signature: crypt.getSignature(timestamp, nonce, encrypt),
      },
    };
    const inbound = asInbound(request, now);
    expect(() => wechatAdapter.verify(inbound, credentials)).not.toThrow();
    const [event] = wechatAdapter.parse(inbound, credentials).events as MessageEvent[];
    expect(event).toMatchObject({ eventId: '6054768590064713728', text: '在吗' });
  });
});

describe('WhatsApp: whatsapp-api-js 6.2.2 agrees with our signature check and media requests', () => {
  const appSecret = 'wa-app-secret';
  const credentials = {
    appSecret,
    verifyToken: 'v',
    accessToken: 'EAAG-reference-token',
    phoneNumberId: '106540352242922',
  };

  it('a delivery we accept verifies with the library, and a tampered one fails both', async () => {
    const library = new WhatsAppAPI({ token: 't', appSecret, v: 'v21.0' });
    const request = signedWhatsappDelivery({
      secret: appSecret,
      messages: [whatsappMessage({ id: 'wamid.REF', text: 'hello' })],
    });
    const signature = request.headers['x-hub-signature-256']!;
    expect(() => whatsappAdapter.verify(asInbound(request), credentials)).not.toThrow();
    expect(await library.verifyRequestSignature(request.rawBody.toString(), signature)).toBe(true);
    const tampered = {
      ...request,
      rawBody: Buffer.from(request.rawBody.toString().replace('hello', 'hellO')),
    };
    expectAppError(() => whatsappAdapter.verify(asInbound(tampered), credentials), 401);
    expect(await library.verifyRequestSignature(tampered.rawBody.toString(), signature)).toBe(
      false,
    );
  });

  it("fetches media as the library's retrieveMedia + fetchMedia do: same URLs, token and agent", async () => {
    const mediaId = '1003383421387256';
    const cdnUrl = `https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=${mediaId}&ext=1&hash=h`;
    type Seen = { url: string; headers: Record<string, string> };
    /** Answers like Graph and the CDN, recording what each client asked for. */
    const recorder = (seen: Seen[]): typeof fetch =>
      (async (input: string | URL | Request, init?: RequestInit) => {
        const url = String(input instanceof Request ? input.url : input);
        const headers = Object.fromEntries(
          Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [
            k.toLowerCase(),
            v,
          ]),
        );
        seen.push({ url, headers });
        return url.startsWith('https://graph.facebook.com/')
          ? Response.json({
              messaging_product: 'whatsapp',
              url: cdnUrl,
              mime_type: 'image/jpeg',
              id: mediaId,
            })
          : new Response(Buffer.from([0xff, 0xd8, 0xff]), {
              headers: { 'content-type': 'image/jpeg' },
            });
      }) as typeof fetch;

    const theirs: Seen[] = [];
    const library = new WhatsAppAPI({
      token: credentials.accessToken,
      v: 'v21.0',
      secure: false,
      ponyfill: { fetch: recorder(theirs) },
    });
    const info = (await library.retrieveMedia(mediaId)) as { url: string };
    await library.fetchMedia(info.url);

    const ours: Seen[] = [];
    const http = { ...testPlatformHttp(), fetch: recorder(ours) };
    const response = await fetchWhatsappMedia(
      { kind: 'image', ref: mediaId },
      credentials,
      http,
      AbortSignal.timeout(5000),
    );
    expect(response.status).toBe(200);
    const path = (url: string) => url.replace(/\?$/, '');
    expect(ours.map((r) => path(r.url))).toEqual(theirs.map((r) => path(r.url)));
    for (const [index, request] of theirs.entries()) {
      expect(ours[index]!.headers.authorization).toBe(request.headers.authorization);
      expect(ours[index]!.headers['user-agent']).toBe(request.headers['user-agent']);
    }
  });
});
