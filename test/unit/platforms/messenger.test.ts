import fc from 'fast-check';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboundReply } from '../../../src/platforms/contract';
import { messengerAdapter } from '../../../src/platforms/messenger';
import { expectAppError } from '../../fixtures/platforms/app-error';
import {
  MESSENGER_APP_ID,
  MESSENGER_PAGE_ID,
  messengerAttachment,
  messengerDeliveryBody,
  messengerDeliveryReceipt,
  messengerEcho,
  messengerHandshake,
  messengerRead,
  messengerText,
  PAGE_INBOX_APP_ID,
  signedMessengerDelivery,
} from '../../fixtures/platforms/messenger';
import { testPlatformHttp } from '../../fixtures/platforms/platform-http';
import { asInbound } from '../../fixtures/platforms/signed-request';

const credentials = {
  appSecret: 'messenger-app-secret',
  appId: MESSENGER_APP_ID,
  verifyToken: 'verify-me',
  pageAccessToken: 'EAAG-page-token',
};

describe('messenger credentials', () => {
  it('requires appSecret, appId, verifyToken and pageAccessToken, naming the missing one', () => {
    expect(messengerAdapter.credentialsSchema.safeParse(credentials).success).toBe(true);
    const result = messengerAdapter.credentialsSchema.safeParse({
      ...credentials,
      pageAccessToken: '',
    });
    expect(result.error?.issues[0]?.path).toEqual(['pageAccessToken']);
    expect(result.error?.issues[0]?.message).toMatch(/pageAccessToken/);
  });
});

describe('messenger verify', () => {
  const request = signedMessengerDelivery({
    secret: credentials.appSecret,
    messaging: [messengerText({ mid: 'mid.1' })],
  });

  it('accepts a delivery signed with the app secret', () => {
    expect(() => messengerAdapter.verify(asInbound(request), credentials)).not.toThrow();
  });

  it('rejects tampered, unsigned and wrongly signed deliveries with 401', () => {
    const tampered = {
      ...request,
      rawBody: Buffer.from(request.rawBody.toString().replace('hello', 'HELLO')),
    };
    expectAppError(
      () => messengerAdapter.verify(asInbound(tampered), credentials),
      401,
      'invalid_signature',
    );
    expectAppError(
      () => messengerAdapter.verify(asInbound({ ...request, headers: {} }), credentials),
      401,
    );
    const wrong = signedMessengerDelivery({
      secret: 'not-it',
      messaging: [messengerText({ mid: 'mid.1' })],
    });
    expectAppError(() => messengerAdapter.verify(asInbound(wrong), credentials), 401);
  });

  it('never accepts a mutated body or signature (property)', () => {
    const signature = request.headers['x-hub-signature-256']!;
    fc.assert(
      fc.property(
        fc.nat({ max: request.rawBody.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (index, flip) => {
          const body = Buffer.from(request.rawBody);
          body[index] = body[index]! ^ flip;
          expectAppError(
            () => messengerAdapter.verify(asInbound({ ...request, rawBody: body }), credentials),
            401,
          );
        },
      ),
    );
    fc.assert(
      fc.property(fc.nat({ max: 63 }), fc.constantFrom(...'0123456789abcdef'), (index, char) => {
        const hex = signature.slice(7);
        fc.pre(hex[index] !== char);
        const mutated = `sha256=${hex.slice(0, index)}${char}${hex.slice(index + 1)}`;
        expectAppError(
          () =>
            messengerAdapter.verify(
              asInbound({ ...request, headers: { 'x-hub-signature-256': mutated } }),
              credentials,
            ),
          401,
        );
      }),
    );
  });
});

describe('messenger handshake', () => {
  it('echoes hub.challenge for the right verify token and refuses a wrong one with 403', () => {
    expect(
      messengerAdapter.handshake!(asInbound(messengerHandshake('verify-me', '42')), credentials),
    ).toEqual({
      contentType: 'text/plain',
      body: '42',
    });
    expectAppError(
      () => messengerAdapter.handshake!(asInbound(messengerHandshake('verify-you')), credentials),
      403,
    );
  });
});

describe('messenger parse', () => {
  const parse = (request: ReturnType<typeof signedMessengerDelivery>) =>
    messengerAdapter.parse(asInbound(request), credentials).events;

  it('takes the good items of a batch and sets a malformed one aside, named by its field', () => {
    const parsed = messengerAdapter.parse(
      asInbound(
        signedMessengerDelivery({
          secret: 'x',
          messaging: [
            messengerText({ mid: 'm.good' }),
            { sender: { id: '1' }, recipient: { id: '2' }, message: { mid: 'm.bad' } },
          ],
        }),
      ),
      credentials,
    );
    expect(parsed.events.map((e) => e.eventId)).toEqual(['m.good']);
    expect(parsed.refusedEvents).toEqual(['entry.0.messaging.1.timestamp']);
  });

  it('turns the documented text message into a buyer message with ms timestamps', () => {
    const events = parse(
      signedMessengerDelivery({
        secret: 'x',
        messaging: [
          messengerText({ mid: 'mid.1457764197618:41d102a3e1ae206a38', psid: '6783926561659426' }),
        ],
      }),
    );
    expect(events).toEqual([
      {
        kind: 'message',
        eventId: 'mid.1457764197618:41d102a3e1ae206a38',
        messageId: 'mid.1457764197618:41d102a3e1ae206a38',
        buyer: { id: '6783926561659426' },
        from: 'buyer',
        text: 'hello, world!',
        sentAt: '2016-03-23T00:25:52.478Z',
        replyContext: { pageId: MESSENGER_PAGE_ID, psid: '6783926561659426' },
      },
    ]);
  });

  it('parses every message of a batch and gives attachments a placeholder', () => {
    const events = parse(
      signedMessengerDelivery({
        secret: 'x',
        messaging: [
          messengerText({ mid: 'm1', text: 'one' }),
          messengerAttachment({ mid: 'm2', type: 'image' }),
          messengerText({ mid: 'm3', text: 'three', psid: '999' }),
        ],
      }),
    );
    expect(events.map((e) => e.kind === 'message' && [e.eventId, e.buyer.id, e.text])).toEqual([
      ['m1', '6783926561659426', 'one'],
      ['m2', '6783926561659426', '[image]'],
      ['m3', '999', 'three'],
    ]);
  });

  it('gives no events for delivery receipts, reads and standby traffic', () => {
    expect(
      parse(
        signedMessengerDelivery({
          secret: 'x',
          messaging: [messengerDeliveryReceipt(['m1']), messengerRead()],
        }),
      ),
    ).toEqual([]);
    expect(
      parse(signedMessengerDelivery({ secret: 'x', standby: [messengerText({ mid: 'm9' })] })),
    ).toEqual([]);
  });

  it('ignores echoes of what Seatmate sent, by app_id or by our metadata tag', () => {
    const events = parse(
      signedMessengerDelivery({
        secret: 'x',
        messaging: [
          messengerEcho({ mid: 'echo.ours', appId: MESSENGER_APP_ID }),
          messengerEcho({ mid: 'echo.tagged', appId: '111', metadata: 'seatmate:reply-1' }),
        ],
      }),
    );
    expect(events).toEqual([]);
  });

  it('turns an echo typed in Page Inbox into an agent message for the buyer it was sent to', () => {
    const events = parse(
      signedMessengerDelivery({
        secret: 'x',
        messaging: [messengerEcho({ mid: 'echo.inbox', appId: PAGE_INBOX_APP_ID, psid: '555' })],
      }),
    );
    expect(events).toEqual([
      expect.objectContaining({
        eventId: 'echo.inbox',
        from: 'agent',
        buyer: { id: '555' },
        text: 'Thanks, checking now',
      }),
    ]);
  });

  it('ignores entries for other Pages when pageId is configured', () => {
    const body = messengerDeliveryBody({
      pageId: '777',
      messaging: [messengerText({ mid: 'm1' })],
    });
    const request = signedMessengerDelivery({ secret: 'x', body });
    expect(
      messengerAdapter.parse(asInbound(request), { ...credentials, pageId: MESSENGER_PAGE_ID })
        .events,
    ).toEqual([]);
    expect(messengerAdapter.parse(asInbound(request), credentials).events).toHaveLength(1);
  });

  it('rejects malformed payloads with 400 naming the field', () => {
    const error = expectAppError(
      () =>
        parse(
          signedMessengerDelivery({
            secret: 'x',
            messaging: [{ sender: { id: '1' }, recipient: { id: '2' }, message: { mid: 'm' } }],
          }),
        ),
      400,
      'invalid_payload',
    );
    expect(error.details).toEqual({ field: 'entry.0.messaging.0.timestamp' });
    expectAppError(
      () =>
        parse(signedMessengerDelivery({ secret: 'x', body: { object: 'instagram', entry: [] } })),
      400,
    );
  });

  it('refuses a timestamp no Date can hold with 400 naming it, not a 500', () => {
    const late = messengerText({ mid: 'm.late', timestamp: 9e15 });
    const error = expectAppError(
      () => parse(signedMessengerDelivery({ secret: 'x', messaging: [late] })),
      400,
      'invalid_payload',
    );
    expect(error.details).toEqual({ field: 'entry.0.messaging.0.timestamp' });
  });
});

describe('messenger send', () => {
  const http = testPlatformHttp();
  const now = Date.parse('2026-01-01T12:00:00Z');
  const reply: OutboundReply = {
    replyId: 'reply-7',
    conversationId: 'c1',
    shopId: 's1',
    buyerId: '6783926561659426',
    text: 'It ships tomorrow.',
    replyContext: { pageId: MESSENGER_PAGE_ID, psid: '6783926561659426' },
    lastBuyerMessageAt: now - 3_600_000,
    repliesSinceLastBuyerMessage: 2,
    now,
  };
  afterEach(() => nock.cleanAll());

  it('POSTs a RESPONSE to /me/messages with the Page token and our metadata tag', async () => {
    const scope = nock('https://graph.facebook.com', {
      reqheaders: { 'content-type': 'application/json' },
    })
      .post('/v21.0/me/messages', {
        recipient: { id: '6783926561659426' },
        messaging_type: 'RESPONSE',
        message: { text: 'It ships tomorrow.', metadata: 'seatmate:reply-7' },
      })
      .query({ access_token: 'EAAG-page-token' })
      .reply(200, { recipient_id: '6783926561659426', message_id: 'm_sent' });
    await expect(messengerAdapter.send!(reply, credentials, http)).resolves.toEqual({
      ok: true,
      platformMessageId: 'm_sent',
    });
    expect(scope.isDone()).toBe(true);
  });

  it('refuses without a request after 24 hours', async () => {
    const result = await messengerAdapter.send!(
      { ...reply, lastBuyerMessageAt: now - 25 * 3_600_000 },
      credentials,
      http,
    );
    expect(result).toMatchObject({ ok: false, retryable: false });
  });

  it("maps 400 to final with Meta's message, 500 and rate limits to retryable", async () => {
    nock('https://graph.facebook.com')
      .post('/v21.0/me/messages')
      .query(true)
      .reply(400, {
        error: {
          message: '(#10) This message is sent outside of allowed window.',
          code: 10,
          error_subcode: 2018278,
        },
      });
    await expect(messengerAdapter.send!(reply, credentials, http)).resolves.toEqual({
      ok: false,
      retryable: false,
      status: 400,
      error: '(#10) This message is sent outside of allowed window. (Messenger error 10)',
    });
    nock('https://graph.facebook.com').post('/v21.0/me/messages').query(true).reply(500, 'oops');
    await expect(messengerAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
      status: 500,
    });
    nock('https://graph.facebook.com')
      .post('/v21.0/me/messages')
      .query(true)
      .reply(400, {
        error: { message: 'Calls to this api have exceeded the rate limit.', code: 613 },
      });
    await expect(messengerAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
    });
  });
});
