import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { OpenEvent, OutboundReply } from '../../../src/platforms/contract';
import { lineAdapter } from '../../../src/platforms/line';
import { createRedisTokenCache } from '../../../src/platforms/redis-token-cache';
import { wechatAdapter } from '../../../src/platforms/wechat';
import { linePostbackEvent, signedLineDelivery } from '../../fixtures/platforms/line';
import { testPlatformHttp } from '../../fixtures/platforms/platform-http';
import { asInbound } from '../../fixtures/platforms/signed-request';
import { signedWechatDelivery, wechatMenuClickXml } from '../../fixtures/platforms/wechat';

const wechat = { appId: 'wx2c2769f8efd9abc2', appSecret: 'secret', token: 'spamtest' };
const line = { channelSecret: 'line-secret', channelAccessToken: 'line-token' };

describe('asking for service without writing opens the conversation', () => {
  it('WeChat: a CLICK on the 联系客服 menu is an open event, a VIEW link is nothing', () => {
    const createTime = 1348831860;
    const click = signedWechatDelivery({
      token: wechat.token,
      xml: wechatMenuClickXml({ createTime }),
      timestamp: String(createTime),
    });
    const parsed = wechatAdapter.parse(asInbound(click, createTime * 1000), wechat);
    expect(parsed.response).toMatchObject({ status: 200, body: '' });
    expect(parsed.events).toEqual([
      {
        kind: 'open',
        eventId: `click/oyORnuP8q7ou2gfYjqLzSIWZf0rs/${createTime}`,
        buyer: { id: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs' },
        label: '[menu] 联系客服',
        sentAt: new Date(createTime * 1000).toISOString(),
        replyContext: {
          openId: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs',
          officialAccount: 'gh_10f6c3c3ac5a',
        },
      },
    ]);
    const view = signedWechatDelivery({
      token: wechat.token,
      xml: wechatMenuClickXml({ event: 'VIEW', eventKey: 'https://shop.example.com' }),
      timestamp: String(createTime),
    });
    expect(wechatAdapter.parse(asInbound(view, createTime * 1000), wechat).events).toEqual([]);
  });

  it('LINE: a postback is an open event carrying its reply token', () => {
    const request = signedLineDelivery({
      secret: line.channelSecret,
      events: [linePostbackEvent({ webhookEventId: 'PB1' })],
    });
    const [event] = lineAdapter.parse(asInbound(request), line).events as OpenEvent[];
    expect(event).toMatchObject({
      kind: 'open',
      eventId: 'PB1',
      buyer: { id: 'U4af4980629a0b1c2d3e4f5a6b7c8d9e0' },
      label: '[postback] action=contact_service',
      replyContext: {
        to: 'U4af4980629a0b1c2d3e4f5a6b7c8d9e0',
        replyToken: 'b60d432864f44d079f6d8efe86cf404b',
      },
    });
  });
});

describe('WeChat: a menu click opens a one-minute window of three replies', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await redis.quit();
  });
  const now = Date.parse('2026-01-01T12:00:00Z');
  const reply = (extra: Partial<OutboundReply>): OutboundReply => ({
    replyId: 'r1',
    conversationId: 'c1',
    shopId: 's1',
    buyerId: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs',
    text: '您好，请问有什么可以帮您？',
    replyContext: { openId: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs', officialAccount: 'gh_1' },
    repliesSinceLastBuyerMessage: 0,
    now,
    ...extra,
  });

  it('sends within the minute after the click, refuses after it or past three replies', async () => {
    const http = testPlatformHttp(
      createRedisTokenCache(redis, `test:wechat:${randomUUID()}:`, { pollIntervalMs: 10 }),
    );
    const api = nock('https://api.weixin.qq.com')
      .get('/cgi-bin/token')
      .query(true)
      .reply(200, { access_token: 'T1', expires_in: 7200 })
      .post('/cgi-bin/message/custom/send')
      .query({ access_token: 'T1' })
      .reply(200, { errcode: 0, errmsg: 'ok' });
    await expect(
      wechatAdapter.send!(reply({ openedAt: now - 20_000, repliesSinceOpen: 0 }), wechat, http),
    ).resolves.toEqual({ ok: true });
    expect(api.isDone()).toBe(true);
    const late = await wechatAdapter.send!(reply({ openedAt: now - 61_000 }), wechat, http);
    expect(late).toMatchObject({ ok: false, retryable: false });
    const many = await wechatAdapter.send!(
      reply({ openedAt: now - 5_000, repliesSinceOpen: 3 }),
      wechat,
      http,
    );
    expect(many).toMatchObject({ ok: false, retryable: false });
    expect(nock.pendingMocks()).toEqual([]);
  });
});
