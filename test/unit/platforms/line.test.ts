import fc from 'fast-check';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboundReply } from '../../../src/platforms/contract';
import { lineAdapter } from '../../../src/platforms/line';
import { REPLY_TOKEN_LIFETIME_MS, retryKeyFor } from '../../../src/platforms/line/send';
import { expectAppError } from '../../fixtures/platforms/app-error';
import {
  lineFollowEvent,
  lineMediaEvent,
  lineSignature,
  lineTextEvent,
  signedLineDelivery,
} from '../../fixtures/platforms/line';
import { testPlatformHttp } from '../../fixtures/platforms/platform-http';
import { asInbound } from '../../fixtures/platforms/signed-request';

const credentials = {
  channelSecret: 'line-channel-secret',
  channelAccessToken: 'line-access-token',
};

describe('line credentials', () => {
  it('names a missing field', () => {
    expect(lineAdapter.credentialsSchema.safeParse(credentials).success).toBe(true);
    const result = lineAdapter.credentialsSchema.safeParse({ channelSecret: 'x' });
    expect(result.error?.issues[0]?.path).toEqual(['channelAccessToken']);
    expect(result.error?.issues[0]?.message).toMatch(/channelAccessToken/);
  });
});

describe('line verify', () => {
  it('matches the recomputed vector: secret "testsecret" over the verification batch', () => {
    const body = '{"destination":"Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","events":[]}';
    expect(lineSignature(body, 'testsecret')).toBe('i8HtEerxPclLzFsB7khN7D/if+ydVrE4SDdhi6dz9i8=');
    const request = signedLineDelivery({ secret: 'testsecret', body });
    expect(() =>
      lineAdapter.verify(asInbound(request), { ...credentials, channelSecret: 'testsecret' }),
    ).not.toThrow();
  });

  it('rejects tampered, unsigned and wrong-secret deliveries with 401', () => {
    const request = signedLineDelivery({
      secret: credentials.channelSecret,
      events: [lineTextEvent({ webhookEventId: 'e1', messageId: '1' })],
    });
    lineAdapter.verify(asInbound(request), credentials);
    const tampered = {
      ...request,
      rawBody: Buffer.from(request.rawBody.toString().replace('Hello', 'Hellp')),
    };
    expectAppError(
      () => lineAdapter.verify(asInbound(tampered), credentials),
      401,
      'invalid_signature',
    );
    expectAppError(
      () => lineAdapter.verify(asInbound({ ...request, headers: {} }), credentials),
      401,
      'invalid_signature',
    );
    const wrong = signedLineDelivery({ secret: 'other', events: [] });
    expectAppError(
      () => lineAdapter.verify(asInbound(wrong), credentials),
      401,
      'invalid_signature',
    );
  });

  it('never accepts a mutated body or signature (property)', () => {
    const request = signedLineDelivery({
      secret: credentials.channelSecret,
      events: [lineTextEvent({ webhookEventId: 'e1', messageId: '1' })],
    });
    const signature = request.headers['x-line-signature']!;
    fc.assert(
      fc.property(
        fc.nat({ max: request.rawBody.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (index, flip) => {
          const body = Buffer.from(request.rawBody);
          body[index] = body[index]! ^ flip;
          expectAppError(
            () => lineAdapter.verify(asInbound({ ...request, rawBody: body }), credentials),
            401,
          );
        },
      ),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (candidate) => {
        fc.pre(candidate !== signature);
        expectAppError(
          () =>
            lineAdapter.verify(
              asInbound({ ...request, headers: { 'x-line-signature': candidate } }),
              credentials,
            ),
          401,
        );
      }),
    );
  });
});

describe('line parse', () => {
  const parse = (events: unknown[]) =>
    lineAdapter.parse(asInbound(signedLineDelivery({ secret: 'x', events })), credentials).events;

  it('answers the empty verification batch with no events', () => {
    expect(lineAdapter.handshake).toBeUndefined();
    expect(parse([])).toEqual([]);
  });

  it('turns a text message into a buyer message keyed by webhookEventId, ids as strings', () => {
    expect(
      parse([
        lineTextEvent({
          webhookEventId: '01HABCDEF0123456789ABCDEFG',
          messageId: '444573844083572737',
        }),
      ]),
    ).toEqual([
      {
        kind: 'message',
        eventId: '01HABCDEF0123456789ABCDEFG',
        messageId: '444573844083572737',
        buyer: { id: 'U4af4980629a0b1c2d3e4f5a6b7c8d9e0' },
        from: 'buyer',
        text: 'Hello',
        sentAt: '2023-11-14T22:13:20.000Z',
        replyContext: {
          to: 'U4af4980629a0b1c2d3e4f5a6b7c8d9e0',
          replyToken: 'nHuyWiB7yP5Zw52FIkcQobQuGDXCTA',
          replyTokenIssuedAt: '1700000000000',
        },
      },
    ]);
  });

  it('parses every message of a batch, with placeholders, and skips standby and non-message events', () => {
    const events = parse([
      lineTextEvent({ webhookEventId: 'e1', messageId: '1', text: 'one' }),
      lineFollowEvent('e2'),
      lineMediaEvent({ webhookEventId: 'e3', messageId: '3', type: 'image' }),
      lineTextEvent({ webhookEventId: 'e4', messageId: '4', mode: 'standby' }),
      lineMediaEvent({ webhookEventId: 'e5', messageId: '5', type: 'sticker' }),
    ]);
    expect(events.map((e) => e.kind === 'message' && [e.eventId, e.messageId, e.text])).toEqual([
      ['e1', '1', 'one'],
      ['e3', '3', '[image]'],
      ['e5', '5', '[sticker]'],
    ]);
  });

  it('drops the reply token of a redelivered event', () => {
    const [event] = parse([
      lineTextEvent({ webhookEventId: 'e1', messageId: '1', isRedelivery: true }),
    ]);
    expect(event?.kind === 'message' && event.replyContext).toEqual({
      to: 'U4af4980629a0b1c2d3e4f5a6b7c8d9e0',
    });
  });

  it('rejects malformed payloads with 400 naming the field', () => {
    const bad = {
      ...lineTextEvent({ webhookEventId: 'e1', messageId: '1' }),
      webhookEventId: undefined,
    };
    const error = expectAppError(() => parse([bad]), 400, 'invalid_payload');
    expect(error.details).toEqual({ field: 'events.0.webhookEventId' });
    const noEvents = signedLineDelivery({ secret: 'x', body: '{"destination":"U1"}' });
    expect(
      expectAppError(() => lineAdapter.parse(asInbound(noEvents), credentials), 400).details,
    ).toEqual({ field: 'events' });
  });

  it('refuses a timestamp no Date can hold with 400 naming it, not a 500', () => {
    const late = lineTextEvent({ webhookEventId: 'e1', messageId: '1', timestamp: 9e15 });
    expect(expectAppError(() => parse([late]), 400, 'invalid_payload').details).toEqual({
      field: 'events.0.timestamp',
    });
  });
});

describe('line send', () => {
  const http = testPlatformHttp();
  const now = 1_700_000_010_000;
  const reply: OutboundReply = {
    replyId: 'reply-1',
    conversationId: 'c1',
    shopId: 's1',
    buyerId: 'U4af4980629a0b1c2d3e4f5a6b7c8d9e0',
    text: 'We have it in M and L.',
    replyContext: {
      to: 'U4af4980629a0b1c2d3e4f5a6b7c8d9e0',
      replyToken: 'tok-1',
      replyTokenIssuedAt: '1700000000000',
    },
    lastBuyerMessageAt: 1_700_000_000_000,
    repliesSinceLastBuyerMessage: 0,
    now,
  };
  const line = () =>
    nock('https://api.line.me', { reqheaders: { authorization: 'Bearer line-access-token' } });
  afterEach(() => nock.cleanAll());

  it('uses the reply API while the token is fresh and unused', async () => {
    const scope = line()
      .post('/v2/bot/message/reply', {
        replyToken: 'tok-1',
        messages: [{ type: 'text', text: 'We have it in M and L.' }],
      })
      .reply(200, { sentMessages: [{ id: '461230966842064897', quoteToken: 'q' }] });
    await expect(lineAdapter.send!(reply, credentials, http)).resolves.toEqual({
      ok: true,
      platformMessageId: '461230966842064897',
    });
    expect(scope.isDone()).toBe(true);
  });

  it('pushes with a stable retry key once the token is used or too old', async () => {
    const push = (times: number) =>
      line()
        .matchHeader('x-line-retry-key', retryKeyFor('reply-1'))
        .post('/v2/bot/message/push', {
          to: 'U4af4980629a0b1c2d3e4f5a6b7c8d9e0',
          messages: [{ type: 'text', text: 'We have it in M and L.' }],
        })
        .times(times)
        .reply(200, { sentMessages: [{ id: '9', quoteToken: 'q' }] });
    const scope = push(2);
    await expect(
      lineAdapter.send!({ ...reply, repliesSinceLastBuyerMessage: 1 }, credentials, http),
    ).resolves.toEqual({ ok: true, platformMessageId: '9' });
    await expect(
      lineAdapter.send!(
        { ...reply, now: 1_700_000_000_000 + REPLY_TOKEN_LIFETIME_MS + 1 },
        credentials,
        http,
      ),
    ).resolves.toMatchObject({ ok: true });
    expect(scope.isDone()).toBe(true);
    expect(retryKeyFor('reply-1')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('falls back to push when LINE refuses the reply token', async () => {
    const scope = line()
      .post('/v2/bot/message/reply')
      .reply(400, { message: 'Invalid reply token' })
      .post('/v2/bot/message/push')
      .reply(200, { sentMessages: [{ id: '10', quoteToken: 'q' }] });
    await expect(lineAdapter.send!(reply, credentials, http)).resolves.toEqual({
      ok: true,
      platformMessageId: '10',
    });
    expect(scope.isDone()).toBe(true);
  });

  it('treats a 409 on a retried push as already delivered', async () => {
    line()
      .post('/v2/bot/message/push')
      .reply(409, { message: 'The retry key is already accepted' });
    await expect(
      lineAdapter.send!({ ...reply, replyContext: { to: reply.buyerId } }, credentials, http),
    ).resolves.toEqual({ ok: true });
  });

  it("maps 400 to final with LINE's message, 500 and 429 to retryable, the monthly quota to final", async () => {
    const noToken = { ...reply, replyContext: { to: reply.buyerId } };
    line()
      .post('/v2/bot/message/push')
      .reply(400, { message: 'The request body has 1 error(s)', details: [] });
    await expect(lineAdapter.send!(noToken, credentials, http)).resolves.toEqual({
      ok: false,
      retryable: false,
      status: 400,
      error: 'The request body has 1 error(s)',
    });
    line().post('/v2/bot/message/push').reply(500, { message: 'Internal error' });
    await expect(lineAdapter.send!(noToken, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
      status: 500,
    });
    line().post('/v2/bot/message/push').reply(429, { message: 'Too many requests' });
    await expect(lineAdapter.send!(noToken, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
      status: 429,
    });
    line()
      .post('/v2/bot/message/push')
      .reply(429, { message: 'You have reached your monthly limit.' });
    await expect(lineAdapter.send!(noToken, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: false,
      status: 429,
    });
    line().post('/v2/bot/message/push').replyWithError('ECONNRESET');
    await expect(lineAdapter.send!(noToken, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
    });
  });
});
