import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { OutboundReply } from '../../../src/platforms/contract';
import { OutboundRefused } from '../../../src/platforms/outbound-guard';
import { createRedisTokenCache } from '../../../src/platforms/redis-token-cache';
import { wechatAdapter } from '../../../src/platforms/wechat';
import {
  decryptWechatMessage,
  wechatSignature,
} from '../../../src/platforms/wechat/message-crypto';
import { expectAppError } from '../../fixtures/platforms/app-error';
import { testPlatformHttp } from '../../fixtures/platforms/platform-http';
import { asInbound } from '../../fixtures/platforms/signed-request';
import {
  encryptedWechatDelivery,
  encryptedWechatHandshake,
  signedWechatDelivery,
  tencentSample,
  tencentSampleDelivery,
  wechatEncrypt,
  wechatHandshake,
  wechatImageXml,
  wechatSubscribeEventXml,
  wechatTextXml,
} from '../../fixtures/platforms/wechat';

const sampleCredentials = {
  appId: tencentSample.appId,
  appSecret: 'app-secret',
  token: tencentSample.token,
  encodingAESKey: tencentSample.encodingAESKey,
};
const plainCredentials = { appId: 'wx1234567890abcdef', appSecret: 'secret', token: 'plaintoken' };
const sampleNow = Number(tencentSample.timestamp) * 1000;
const now = Date.parse('2026-01-01T00:00:00Z');
const ts = String(now / 1000);

describe('wechat credentials', () => {
  it('names the missing field and accepts an optional 43-character EncodingAESKey', () => {
    expect(wechatAdapter.credentialsSchema.safeParse(sampleCredentials).success).toBe(true);
    expect(wechatAdapter.credentialsSchema.safeParse(plainCredentials).success).toBe(true);
    const missing = wechatAdapter.credentialsSchema.safeParse({ appId: 'wx1', token: 'abc' });
    expect(missing.error?.issues[0]?.path).toEqual(['appSecret']);
    const badKey = wechatAdapter.credentialsSchema.safeParse({
      ...plainCredentials,
      encodingAESKey: 'short',
    });
    expect(badKey.error?.issues[0]?.message).toMatch(/encodingAESKey/);
  });
});

describe("wechat message crypto against Tencent's published sample", () => {
  it('reproduces the sample msg_signature and decrypts Encrypt to the sample message for its AppID', () => {
    expect(
      wechatSignature([
        tencentSample.token,
        tencentSample.timestamp,
        tencentSample.nonce,
        tencentSample.encrypt,
      ]),
    ).toBe(tencentSample.msgSignature);
    const xml = decryptWechatMessage(
      tencentSample.encrypt,
      tencentSample.encodingAESKey,
      tencentSample.appId,
    );
    expect(xml).toContain('<Content><![CDATA[abcdteT]]></Content>');
    expect(xml).toContain('<MsgId>6054768590064713728</MsgId>');
    expect(() =>
      decryptWechatMessage(
        tencentSample.encrypt,
        tencentSample.encodingAESKey,
        'wx0000000000000000',
      ),
    ).toThrow(/AppID/);
  });

  it('verifies and parses the sample delivery, keeping the 64-bit MsgId exact', () => {
    const request = asInbound(tencentSampleDelivery(), sampleNow);
    wechatAdapter.verify(request, sampleCredentials);
    const parsed = wechatAdapter.parse(request, sampleCredentials);
    expect(parsed).toEqual({
      events: [
        {
          kind: 'message',
          eventId: '6054768590064713728',
          messageId: '6054768590064713728',
          buyer: { id: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs' },
          from: 'buyer',
          text: 'abcdteT',
          sentAt: '2014-09-03T09:14:28.000Z',
          replyContext: {
            openId: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs',
            officialAccount: 'gh_10f6c3c3ac5a',
          },
        },
      ],
      response: { status: 200, contentType: 'text/plain', body: '' },
    });
    expect(Number('6054768590064713728') > Number.MAX_SAFE_INTEGER).toBe(true);
  });
});

describe('wechat verify', () => {
  it('accepts a plain-mode delivery and rejects a wrong token, a missing signature or a stale timestamp', () => {
    const request = signedWechatDelivery({
      token: plainCredentials.token,
      xml: wechatTextXml({ msgId: '1' }),
      timestamp: ts,
    });
    wechatAdapter.verify(asInbound(request, now), plainCredentials);
    const wrong = signedWechatDelivery({
      token: 'othertoken',
      xml: wechatTextXml({ msgId: '1' }),
      timestamp: ts,
    });
    expectAppError(
      () => wechatAdapter.verify(asInbound(wrong, now), plainCredentials),
      401,
      'invalid_signature',
    );
    const unsigned = { ...request, query: { timestamp: ts, nonce: '1' } };
    expectAppError(() => wechatAdapter.verify(asInbound(unsigned, now), plainCredentials), 401);
    expectAppError(
      () => wechatAdapter.verify(asInbound(request, now + 301_000), plainCredentials),
      401,
    );
  });

  it('accepts a safe-mode delivery and rejects a tampered Encrypt, a wrong key or a wrong AppID', () => {
    const options = { ...sampleCredentials, xml: wechatTextXml({ msgId: '2' }), timestamp: ts };
    const request = encryptedWechatDelivery(options);
    wechatAdapter.verify(asInbound(request, now), sampleCredentials);
    const tampered = {
      ...request,
      rawBody: Buffer.from(
        request.rawBody
          .toString()
          .replace(
            /<Encrypt><!\[CDATA\[(.)/,
            (_m, c: string) => `<Encrypt><![CDATA[${c === 'A' ? 'B' : 'A'}`,
          ),
      ),
    };
    expectAppError(
      () => wechatAdapter.verify(asInbound(tampered, now), sampleCredentials),
      401,
      'invalid_signature',
    );
    const otherApp = encryptedWechatDelivery({ ...options, appId: 'wx0000000000000000' });
    expectAppError(
      () => wechatAdapter.verify(asInbound(otherApp, now), sampleCredentials),
      401,
      'invalid_signature',
    );
    const otherKey = encryptedWechatDelivery({
      ...options,
      encodingAESKey: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq',
    });
    expectAppError(() => wechatAdapter.verify(asInbound(otherKey, now), sampleCredentials), 401);
  });

  it('refuses plain deliveries once the shop has an EncodingAESKey, and encrypted ones without it', () => {
    const plain = signedWechatDelivery({
      token: sampleCredentials.token,
      xml: wechatTextXml({ msgId: '3' }),
      timestamp: ts,
    });
    expectAppError(() => wechatAdapter.verify(asInbound(plain, now), sampleCredentials), 401);
    const encrypted = encryptedWechatDelivery({
      ...sampleCredentials,
      token: plainCredentials.token,
      xml: wechatTextXml({ msgId: '3' }),
      timestamp: ts,
    });
    expectAppError(() => wechatAdapter.verify(asInbound(encrypted, now), plainCredentials), 401);
  });

  it('never accepts a mutated Encrypt or a mutated signature (property)', () => {
    const request = asInbound(tencentSampleDelivery(), sampleNow);
    const body = request.rawBody.toString();
    const start = body.indexOf(tencentSample.encrypt);
    fc.assert(
      fc.property(
        fc.nat({ max: tencentSample.encrypt.length - 1 }),
        fc.constantFrom(...'ABCDEFabcdef0123456789+/'),
        (index, char) => {
          fc.pre(tencentSample.encrypt[index] !== char);
          const mutated = `${body.slice(0, start + index)}${char}${body.slice(start + index + 1)}`;
          expectAppError(
            () =>
              wechatAdapter.verify(
                { ...request, rawBody: Buffer.from(mutated) },
                sampleCredentials,
              ),
            401,
          );
        },
      ),
    );
    fc.assert(
      fc.property(fc.nat({ max: 39 }), fc.constantFrom(...'0123456789abcdef'), (index, char) => {
        const signature = tencentSample.msgSignature;
        fc.pre(signature[index] !== char);
        const mutated = `${signature.slice(0, index)}${char}${signature.slice(index + 1)}`;
        expectAppError(
          () =>
            wechatAdapter.verify(
              { ...request, query: { ...request.query, msg_signature: mutated } },
              sampleCredentials,
            ),
          401,
        );
      }),
    );
    // Plain mode signs only the query: any change to signature, timestamp or nonce is refused.
    const plain = asInbound(
      signedWechatDelivery({
        token: plainCredentials.token,
        xml: wechatTextXml({ msgId: '1' }),
        timestamp: ts,
      }),
      now,
    );
    fc.assert(
      fc.property(
        fc.constantFrom('signature', 'nonce'),
        fc.string({ minLength: 1, maxLength: 40 }),
        (field, value) => {
          fc.pre(plain.query[field] !== value);
          expectAppError(
            () =>
              wechatAdapter.verify(
                { ...plain, query: { ...plain.query, [field]: value } },
                plainCredentials,
              ),
            401,
          );
        },
      ),
    );
  });
});

describe('wechat handshake', () => {
  it('echoes echostr for the right token and refuses a wrong one with 403', () => {
    const request = wechatHandshake({
      token: plainCredentials.token,
      timestamp: ts,
      echostr: '5837397520984758',
    });
    expect(wechatAdapter.handshake!(asInbound(request, now), plainCredentials)).toEqual({
      contentType: 'text/plain',
      body: '5837397520984758',
    });
    const wrong = wechatHandshake({ token: 'someothertoken', timestamp: ts, echostr: '1' });
    expectAppError(() => wechatAdapter.handshake!(asInbound(wrong, now), plainCredentials), 403);
    const { echostr: _echostr, ...noEcho } = request.query;
    expect(
      expectAppError(
        () =>
          wechatAdapter.handshake!(asInbound({ ...request, query: noEcho }, now), plainCredentials),
        400,
      ).details,
    ).toEqual({
      field: 'echostr',
    });
  });

  it('decrypts an encrypted echostr in safe mode and refuses one for another AppID', () => {
    const request = encryptedWechatHandshake({
      ...sampleCredentials,
      timestamp: ts,
      plainEchostr: '4386102951057284',
    });
    expect(wechatAdapter.handshake!(asInbound(request, now), sampleCredentials).body).toBe(
      '4386102951057284',
    );
    const other = encryptedWechatHandshake({
      ...sampleCredentials,
      appId: 'wx0000000000000000',
      timestamp: ts,
      plainEchostr: '1',
    });
    expectAppError(() => wechatAdapter.handshake!(asInbound(other, now), sampleCredentials), 403);
  });
});

describe('wechat parse', () => {
  const parsePlain = (xml: string) =>
    wechatAdapter.parse(
      asInbound(signedWechatDelivery({ token: plainCredentials.token, xml, timestamp: ts }), now),
      plainCredentials,
    );

  it('parses a plain text message, a 64-bit MsgId stays a string, and answers with an empty body', () => {
    const parsed = parsePlain(
      wechatTextXml({ msgId: '18446744073709551615', content: '有货吗？' }),
    );
    expect(parsed.response).toEqual({ status: 200, contentType: 'text/plain', body: '' });
    expect(parsed.events[0]).toMatchObject({
      eventId: '18446744073709551615',
      messageId: '18446744073709551615',
      text: '有货吗？',
    });
  });

  it('gives media a placeholder and events no buyer message', () => {
    expect(parsePlain(wechatImageXml('42')).events[0]).toMatchObject({
      text: '[image]',
      eventId: '42',
    });
    expect(parsePlain(wechatSubscribeEventXml())).toEqual({
      events: [],
      response: { status: 200, contentType: 'text/plain', body: '' },
    });
  });

  it('parses a safe-mode delivery from its decrypted inner message', () => {
    const request = encryptedWechatDelivery({
      ...sampleCredentials,
      xml: wechatTextXml({ msgId: '77', content: 'inner' }),
      timestamp: ts,
    });
    expect(wechatAdapter.parse(asInbound(request, now), sampleCredentials).events[0]).toMatchObject(
      { eventId: '77', text: 'inner' },
    );
  });

  it('rejects malformed XML or a missing field with 400 naming it', () => {
    expectAppError(() => parsePlain('not xml'), 400, 'invalid_payload');
    const noMsgId = wechatTextXml({ msgId: '1' }).replace('<MsgId>1</MsgId>', '');
    expect(expectAppError(() => parsePlain(noMsgId), 400).details).toEqual({ field: 'MsgId' });
  });
});

describe('wechat send', () => {
  let redis: Redis;
  const credentials = plainCredentials;
  const reply: OutboundReply = {
    replyId: 'r1',
    conversationId: 'c1',
    shopId: 's1',
    buyerId: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs',
    text: '有的，今天下单明天发货。',
    replyContext: { openId: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs', officialAccount: 'gh_10f6c3c3ac5a' },
    lastBuyerMessageAt: now - 3_600_000,
    repliesSinceLastBuyerMessage: 0,
    now,
  };
  const tokenQuery = {
    grant_type: 'client_credential',
    appid: credentials.appId,
    secret: credentials.appSecret,
  };
  const wechat = () => nock('https://api.weixin.qq.com');
  const freshHttp = () =>
    testPlatformHttp(
      createRedisTokenCache(redis, `test:wechat:${randomUUID()}:`, { pollIntervalMs: 10 }),
    );

  beforeAll(() => {
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await redis.quit();
  });
  afterEach(() => nock.cleanAll());

  it('fetches an access token once, caches it, and sends through custom/send', async () => {
    const http = freshHttp();
    const scope = wechat()
      .get('/cgi-bin/token')
      .query(tokenQuery)
      .once()
      .reply(200, { access_token: 'TOKEN_1', expires_in: 7200 })
      .post('/cgi-bin/message/custom/send', {
        touser: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs',
        msgtype: 'text',
        text: { content: '有的，今天下单明天发货。' },
      })
      .query({ access_token: 'TOKEN_1' })
      .twice()
      .reply(200, { errcode: 0, errmsg: 'ok' });
    await expect(wechatAdapter.send!(reply, credentials, http)).resolves.toEqual({ ok: true });
    await expect(
      wechatAdapter.send!({ ...reply, repliesSinceLastBuyerMessage: 1 }, credentials, http),
    ).resolves.toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
    expect(await http.tokenCache.get(`wechat:access-token:${credentials.appId}`)).toBe('TOKEN_1');
  });

  it('fetches the token once for 5 concurrent sends', async () => {
    const http = freshHttp();
    const scope = wechat()
      .get('/cgi-bin/token')
      .query(true)
      .delay(100)
      .reply(200, { access_token: 'SHARED', expires_in: 7200 })
      .post('/cgi-bin/message/custom/send')
      .query({ access_token: 'SHARED' })
      .times(5)
      .reply(200, { errcode: 0, errmsg: 'ok' });
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        wechatAdapter.send!({ ...reply, replyId: `r${i}` }, credentials, http),
      ),
    );
    expect(results).toEqual(Array(5).fill({ ok: true }));
    expect(scope.isDone()).toBe(true);
  });

  it('refreshes an expired token once and retries the send', async () => {
    const http = freshHttp();
    await http.tokenCache.set(`wechat:access-token:${credentials.appId}`, 'OLD', 7000);
    const scope = wechat()
      .post('/cgi-bin/message/custom/send')
      .query({ access_token: 'OLD' })
      .reply(200, { errcode: 42001, errmsg: 'access_token expired rid: 1' })
      .get('/cgi-bin/token')
      .query(tokenQuery)
      .reply(200, { access_token: 'NEW', expires_in: 7200 })
      .post('/cgi-bin/message/custom/send')
      .query({ access_token: 'NEW' })
      .reply(200, { errcode: 0, errmsg: 'ok' });
    await expect(wechatAdapter.send!(reply, credentials, http)).resolves.toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
    expect(await http.tokenCache.get(`wechat:access-token:${credentials.appId}`)).toBe('NEW');
  });

  it('refreshes only once: a second token error is a retryable failure', async () => {
    const http = freshHttp();
    await http.tokenCache.set(`wechat:access-token:${credentials.appId}`, 'OLD', 7000);
    wechat()
      .post('/cgi-bin/message/custom/send')
      .query(true)
      .twice()
      .reply(200, { errcode: 40001, errmsg: 'invalid credential' })
      .get('/cgi-bin/token')
      .query(true)
      .once()
      .reply(200, { access_token: 'NEW', expires_in: 7200 });
    await expect(wechatAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
    });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('refuses without any request after 48 hours or after 5 replies', async () => {
    const http = freshHttp();
    await expect(
      wechatAdapter.send!(
        { ...reply, lastBuyerMessageAt: now - 48 * 3_600_000 - 1 },
        credentials,
        http,
      ),
    ).resolves.toMatchObject({
      ok: false,
      retryable: false,
    });
    await expect(
      wechatAdapter.send!({ ...reply, repliesSinceLastBuyerMessage: 5 }, credentials, http),
    ).resolves.toMatchObject({
      ok: false,
      retryable: false,
      error: expect.stringMatching(/5 replies/),
    });
  });

  it('maps WeChat refusals to final failures with errmsg, and busy/5xx to retryable', async () => {
    const http = freshHttp();
    await http.tokenCache.set(`wechat:access-token:${credentials.appId}`, 'T', 7000);
    wechat().post('/cgi-bin/message/custom/send').query(true).reply(200, {
      errcode: 45015,
      errmsg: 'response out of time limit or subscription is canceled',
    });
    await expect(wechatAdapter.send!(reply, credentials, http)).resolves.toEqual({
      ok: false,
      retryable: false,
      error: 'response out of time limit or subscription is canceled (errcode 45015)',
    });
    wechat()
      .post('/cgi-bin/message/custom/send')
      .query(true)
      .reply(200, { errcode: -1, errmsg: 'system error' });
    await expect(wechatAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
    });
    wechat().post('/cgi-bin/message/custom/send').query(true).reply(500, 'busy');
    await expect(wechatAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
      status: 500,
    });
    wechat()
      .post('/cgi-bin/message/custom/send')
      .query(true)
      .reply(400, { errcode: 44002, errmsg: 'empty post data' });
    await expect(wechatAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: false,
      status: 400,
      error: 'empty post data',
    });
  });

  it('fails finally when the AppSecret is refused, and retries when the token API is down', async () => {
    wechat()
      .get('/cgi-bin/token')
      .query(true)
      .reply(200, { errcode: 40125, errmsg: 'invalid appsecret' });
    await expect(wechatAdapter.send!(reply, credentials, freshHttp())).resolves.toEqual({
      ok: false,
      retryable: false,
      error: 'WeChat token: invalid appsecret (errcode 40125)',
    });
    wechat().get('/cgi-bin/token').query(true).replyWithError('ECONNRESET');
    await expect(wechatAdapter.send!(reply, credentials, freshHttp())).resolves.toMatchObject({
      ok: false,
      retryable: true,
    });
  });

  it('reports a failed token request as every sender does: a refused destination is final, a network error only its code', async () => {
    const refused = {
      ...freshHttp(),
      fetch: async () => {
        throw new OutboundRefused('address_not_allowed', 'the host resolves to a private address');
      },
    };
    await expect(wechatAdapter.send!(reply, credentials, refused)).resolves.toEqual({
      ok: false,
      retryable: false,
      error: 'WeChat token request: destination refused (address_not_allowed)',
    });
    wechat()
      .get('/cgi-bin/token')
      .query(true)
      .replyWithError({ code: 'ECONNRESET', message: 'socket hang up at 10.0.0.7:443' });
    await expect(wechatAdapter.send!(reply, credentials, freshHttp())).resolves.toEqual({
      ok: false,
      retryable: true,
      error: 'WeChat token request: network error (ECONNRESET)',
    });
  });

  it("keeps at most 200 characters of WeChat's errmsg, as of every platform's message", async () => {
    const long = `invalid appsecret ${'x'.repeat(5000)}`;
    wechat().get('/cgi-bin/token').query(true).reply(200, { errcode: 40125, errmsg: long });
    const refused = await wechatAdapter.send!(reply, credentials, freshHttp());
    expect(refused).toEqual({
      ok: false,
      retryable: false,
      error: `WeChat token: ${long.slice(0, 200)} (errcode 40125)`,
    });
    const http = freshHttp();
    await http.tokenCache.set(`wechat:access-token:${credentials.appId}`, 'T', 7000);
    wechat()
      .post('/cgi-bin/message/custom/send')
      .query(true)
      .reply(200, { errcode: 45015, errmsg: long });
    await expect(wechatAdapter.send!(reply, credentials, http)).resolves.toEqual({
      ok: false,
      retryable: false,
      error: `${long.slice(0, 200)} (errcode 45015)`,
    });
  });

  it('reads an endless token answer only up to a bound, not until the timeout', async () => {
    let closed = false;
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":"');
      const chunk = 'x'.repeat(64 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      req.socket.once('close', () => {
        closed = true;
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const http = { ...freshHttp(), apiBase: { ...freshHttp().apiBase, wechat: base } };
      const started = Date.now();
      const result = await wechatAdapter.send!(reply, credentials, http);
      expect(result).toMatchObject({ ok: false, retryable: false });
      expect(Date.now() - started).toBeLessThan(3000);
      await vi.waitFor(() => expect(closed).toBe(true));
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

it("the fixture encryption round-trips through the adapter's decryption", () => {
  const encrypted = wechatEncrypt(
    '<xml>hi</xml>',
    tencentSample.encodingAESKey,
    tencentSample.appId,
  );
  expect(decryptWechatMessage(encrypted, tencentSample.encodingAESKey, tencentSample.appId)).toBe(
    '<xml>hi</xml>',
  );
});
