import fc from 'fast-check';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboundReply } from '../../../src/platforms/contract';
import { whatsappAdapter } from '../../../src/platforms/whatsapp';
import { expectAppError } from '../../fixtures/platforms/app-error';
import { testPlatformHttp } from '../../fixtures/platforms/platform-http';
import { asInbound } from '../../fixtures/platforms/signed-request';
import {
  documentedWhatsappText,
  signedWhatsappDelivery,
  whatsappBusinessAppEchoBody,
  whatsappDeliveryBody,
  whatsappHandshake,
  whatsappMessage,
  whatsappSignature,
  whatsappStatus,
} from '../../fixtures/platforms/whatsapp';

const credentials = {
  appSecret: 'app-secret-1',
  verifyToken: 'vibecoding',
  accessToken: 'EAAJB-token',
  phoneNumberId: '106540352242922',
};

describe('whatsapp credentials', () => {
  it('accepts the four fields and names a missing one', () => {
    expect(whatsappAdapter.credentialsSchema.safeParse(credentials).success).toBe(true);
    const { accessToken: _omitted, ...rest } = credentials;
    const result = whatsappAdapter.credentialsSchema.safeParse(rest);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['accessToken']);
    expect(result.error?.issues[0]?.message).toMatch(/accessToken/);
  });
});

describe('whatsapp verify', () => {
  it("accepts Meta's documented example signed with the app secret", () => {
    const request = signedWhatsappDelivery({
      secret: credentials.appSecret,
      body: documentedWhatsappText,
    });
    expect(() => whatsappAdapter.verify(asInbound(request), credentials)).not.toThrow();
  });

  it('matches the published HMAC-SHA256 vector (key "secret", message "test")', () => {
    expect(whatsappSignature('test', 'secret')).toBe(
      'sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914',
    );
  });

  it('rejects a tampered body, a missing signature and a wrong secret with 401', () => {
    const request = signedWhatsappDelivery({
      secret: credentials.appSecret,
      body: documentedWhatsappText,
    });
    const tampered = {
      ...request,
      rawBody: Buffer.from(request.rawBody.toString().replace('color', 'colour')),
    };
    expectAppError(
      () => whatsappAdapter.verify(asInbound(tampered), credentials),
      401,
      'invalid_signature',
    );
    const unsigned = { ...request, headers: { 'content-type': 'application/json' } };
    expectAppError(
      () => whatsappAdapter.verify(asInbound(unsigned), credentials),
      401,
      'invalid_signature',
    );
    const wrongSecret = signedWhatsappDelivery({
      secret: 'another-secret',
      body: documentedWhatsappText,
    });
    expectAppError(
      () => whatsappAdapter.verify(asInbound(wrongSecret), credentials),
      401,
      'invalid_signature',
    );
    const noPrefix = {
      ...request,
      headers: { 'x-hub-signature-256': request.headers['x-hub-signature-256']!.slice(7) },
    };
    expectAppError(
      () => whatsappAdapter.verify(asInbound(noPrefix), credentials),
      401,
      'invalid_signature',
    );
  });

  it("verifies the bytes as received, with Meta's escaped unicode intact", () => {
    const raw = Buffer.from(
      JSON.stringify(whatsappDeliveryWithText('\u00e4\u00f6\u00e5')).replace(
        'äöå',
        '\\u00e4\\u00f6\\u00e5',
      ),
    );
    const request = {
      rawBody: raw,
      headers: { 'x-hub-signature-256': whatsappSignature(raw, credentials.appSecret) },
      query: {},
    };
    whatsappAdapter.verify(asInbound(request), credentials);
    expect(whatsappAdapter.parse(asInbound(request), credentials).events[0]).toMatchObject({
      text: 'äöå',
    });
  });

  it('never accepts a mutated body or a mutated signature (property)', () => {
    const request = signedWhatsappDelivery({
      secret: credentials.appSecret,
      body: documentedWhatsappText,
    });
    const signature = request.headers['x-hub-signature-256']!;
    fc.assert(
      fc.property(
        fc.nat({ max: request.rawBody.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (index, flip) => {
          const body = Buffer.from(request.rawBody);
          body[index] = body[index]! ^ flip;
          expectAppError(
            () => whatsappAdapter.verify(asInbound({ ...request, rawBody: body }), credentials),
            401,
          );
        },
      ),
    );
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 80 }), (candidate) => {
        fc.pre(candidate !== signature && candidate.toLowerCase() !== signature);
        expectAppError(
          () =>
            whatsappAdapter.verify(
              asInbound({ ...request, headers: { 'x-hub-signature-256': candidate } }),
              credentials,
            ),
          401,
        );
      }),
    );
    fc.assert(
      fc.property(fc.nat({ max: 63 }), fc.constantFrom(...'0123456789abcdef'), (index, char) => {
        const hex = signature.slice(7);
        fc.pre(hex[index] !== char);
        const mutated = `sha256=${hex.slice(0, index)}${char}${hex.slice(index + 1)}`;
        expectAppError(
          () =>
            whatsappAdapter.verify(
              asInbound({ ...request, headers: { 'x-hub-signature-256': mutated } }),
              credentials,
            ),
          401,
        );
      }),
    );
  });
});

function whatsappDeliveryWithText(text: string) {
  return {
    ...documentedWhatsappText,
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: '15550783881',
                phone_number_id: credentials.phoneNumberId,
              },
              messages: [whatsappMessage({ id: 'wamid.unicode', text })],
            },
          },
        ],
      },
    ],
  };
}

describe('whatsapp handshake', () => {
  it('answers the documented challenge when the verify token matches', () => {
    expect(whatsappAdapter.handshake!(asInbound(whatsappHandshake()), credentials)).toEqual({
      contentType: 'text/plain',
      body: '1158201444',
    });
  });

  it('refuses a wrong verify token with 403 and a missing challenge with 400', () => {
    expectAppError(
      () => whatsappAdapter.handshake!(asInbound(whatsappHandshake('guess')), credentials),
      403,
    );
    const noChallenge = whatsappHandshake();
    delete noChallenge.query['hub.challenge'];
    expectAppError(() => whatsappAdapter.handshake!(asInbound(noChallenge), credentials), 400);
  });
});

describe('whatsapp parse', () => {
  it('turns the documented text message into a buyer message', () => {
    const request = signedWhatsappDelivery({
      secret: credentials.appSecret,
      body: documentedWhatsappText,
    });
    const { events, response } = whatsappAdapter.parse(asInbound(request), credentials);
    expect(response).toBeUndefined();
    expect(events).toEqual([
      {
        kind: 'message',
        eventId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
        messageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
        buyer: { id: '16505551234', name: 'Sheena Nelson' },
        from: 'buyer',
        text: 'Does it come in another color?',
        sentAt: '2025-06-08T20:59:43.000Z',
        replyContext: { phoneNumberId: '106540352242922', waId: '16505551234' },
      },
    ]);
  });

  it('parses every message of a batch, across entries and changes, with placeholders for media', () => {
    const body = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [
            {
              field: 'messages',
              value: {
                metadata: { phone_number_id: credentials.phoneNumberId },
                messages: [
                  whatsappMessage({ id: 'wamid.1', text: 'first' }),
                  whatsappMessage({
                    id: 'wamid.2',
                    raw: { type: 'image', image: { id: 'media', mime_type: 'image/jpeg' } },
                  }),
                  whatsappMessage({
                    id: 'wamid.3',
                    raw: { type: 'image', image: { id: 'media', caption: 'this one' } },
                  }),
                ],
              },
            },
          ],
        },
        {
          id: '1',
          changes: [
            {
              field: 'messages',
              value: {
                metadata: { phone_number_id: credentials.phoneNumberId },
                messages: [
                  whatsappMessage({
                    id: 'wamid.4',
                    from: '447700900123',
                    raw: { type: 'location', location: { latitude: 1, longitude: 2 } },
                  }),
                  whatsappMessage({
                    id: 'wamid.5',
                    raw: {
                      type: 'interactive',
                      interactive: {
                        type: 'button_reply',
                        button_reply: { id: 'b', title: 'Yes please' },
                      },
                    },
                  }),
                ],
              },
            },
          ],
        },
      ],
    };
    const request = signedWhatsappDelivery({ secret: credentials.appSecret, body });
    const events = whatsappAdapter.parse(asInbound(request), credentials).events;
    expect(events.map((e) => e.kind === 'message' && [e.eventId, e.text])).toEqual([
      ['wamid.1', 'first'],
      ['wamid.2', '[image]'],
      ['wamid.3', '[image] this one'],
      ['wamid.4', '[location]'],
      ['wamid.5', 'Yes please'],
    ]);
  });

  it('gives no events for status updates', () => {
    const request = signedWhatsappDelivery({
      secret: credentials.appSecret,
      statuses: [whatsappStatus('wamid.ours', 'delivered'), whatsappStatus('wamid.ours', 'read')],
    });
    expect(whatsappAdapter.parse(asInbound(request), credentials).events).toEqual([]);
  });

  it('turns replies typed in the WhatsApp Business app into agent messages, skipping edits and deletions', () => {
    const body = whatsappBusinessAppEchoBody([
      { id: 'wamid.echo1', to: '+1 650-555-1234', text: 'Yes, blue is in stock.' },
      { id: 'wamid.echo2', type: 'edit' },
      { id: 'wamid.echo3', type: 'revoke' },
      { id: 'wamid.echo4', type: 'image' },
    ]);
    const events = whatsappAdapter.parse(
      asInbound(signedWhatsappDelivery({ secret: 'x', body })),
      credentials,
    ).events;
    expect(events).toEqual([
      {
        kind: 'message',
        eventId: 'wamid.echo1',
        messageId: 'wamid.echo1',
        buyer: { id: '16505551234' },
        from: 'agent',
        text: 'Yes, blue is in stock.',
        sentAt: '2025-02-12T00:43:44.000Z',
        replyContext: { phoneNumberId: '106540352242922', waId: '16505551234' },
      },
      expect.objectContaining({ eventId: 'wamid.echo4', from: 'agent', text: '[image]' }),
    ]);
  });

  it('ignores messages addressed to another business number of the same app', () => {
    const request = signedWhatsappDelivery({
      secret: credentials.appSecret,
      phoneNumberId: '999999999999999',
      messages: [whatsappMessage({ id: 'wamid.other' })],
    });
    expect(whatsappAdapter.parse(asInbound(request), credentials).events).toEqual([]);
  });

  it('takes the good changes of a batch and sets a malformed one aside, named by its field', () => {
    const good = whatsappDeliveryBody({ messages: [whatsappMessage({ id: 'wamid.good' })] });
    const bad = whatsappDeliveryBody({ messages: [whatsappMessage({ id: 'wamid.bad' })] });
    (bad.entry[0]!.changes[0]!.value as Record<string, unknown>).messages = 'not a list';
    const body = {
      ...good,
      entry: [
        { ...good.entry[0]!, changes: [...good.entry[0]!.changes, ...bad.entry[0]!.changes] },
      ],
    };
    const parsed = whatsappAdapter.parse(
      asInbound(signedWhatsappDelivery({ secret: 'x', body })),
      credentials,
    );
    expect(parsed.events.map((e) => e.eventId)).toEqual(['wamid.good']);
    expect(parsed.refusedEvents).toEqual(['entry.0.changes.1.value.messages']);
    // Within one change, each message stands on its own: the ones around a bad one are taken.
    const mixed = whatsappDeliveryBody({
      messages: [
        whatsappMessage({ id: 'wamid.a' }),
        { ...whatsappMessage({ id: 'wamid.no-from' }), from: undefined },
        { ...whatsappMessage({ id: 'wamid.no-time' }), timestamp: 'soon' },
        whatsappMessage({ id: 'wamid.c' }),
      ],
    });
    const taken = whatsappAdapter.parse(
      asInbound(signedWhatsappDelivery({ secret: 'x', body: mixed })),
      credentials,
    );
    expect(taken.events.map((e) => e.eventId)).toEqual(['wamid.a', 'wamid.c']);
    expect(taken.refusedEvents).toEqual([
      'entry.0.changes.0.value.messages.1.from',
      'entry.0.changes.0.value.messages.2.timestamp',
    ]);
  });

  it('rejects malformed payloads with 400 naming the field', () => {
    const notJson = { rawBody: Buffer.from('{nope'), headers: {}, query: {} };
    expectAppError(
      () => whatsappAdapter.parse(asInbound(notJson), credentials),
      400,
      'invalid_payload',
    );
    const wrongObject = signedWhatsappDelivery({
      secret: 'x',
      body: { object: 'page', entry: [] },
    });
    const error = expectAppError(
      () => whatsappAdapter.parse(asInbound(wrongObject), credentials),
      400,
      'invalid_payload',
    );
    expect(error.details).toEqual({ field: 'object' });
    const noId = signedWhatsappDelivery({
      secret: 'x',
      messages: [{ from: '1', timestamp: '1', type: 'text', text: { body: 'x' } }],
    });
    const missing = expectAppError(() => whatsappAdapter.parse(asInbound(noId), credentials), 400);
    expect(missing.details).toEqual({ field: 'entry.0.changes.0.value.messages.0.id' });
  });
});

describe('whatsapp send', () => {
  const http = testPlatformHttp();
  const now = Date.parse('2026-01-01T12:00:00Z');
  const reply: OutboundReply = {
    replyId: 'r1',
    conversationId: 'c1',
    shopId: 's1',
    buyerId: '16505551234',
    text: 'Yes, in blue and green.',
    replyContext: { phoneNumberId: '106540352242922', waId: '16505551234' },
    lastBuyerMessageAt: now - 60_000,
    repliesSinceLastBuyerMessage: 0,
    now,
  };

  afterEach(() => nock.cleanAll());

  it('POSTs the text to /{phone_number_id}/messages with the bearer token', async () => {
    const scope = nock('https://graph.facebook.com', {
      reqheaders: { authorization: 'Bearer EAAJB-token', 'content-type': 'application/json' },
    })
      .post('/v21.0/106540352242922/messages', {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '16505551234',
        type: 'text',
        text: { preview_url: false, body: 'Yes, in blue and green.' },
      })
      .reply(200, {
        messaging_product: 'whatsapp',
        contacts: [{ input: '16505551234', wa_id: '16505551234' }],
        messages: [{ id: 'wamid.sent' }],
      });
    await expect(whatsappAdapter.send!(reply, credentials, http)).resolves.toEqual({
      ok: true,
      platformMessageId: 'wamid.sent',
    });
    expect(scope.isDone()).toBe(true);
  });

  it('refuses without a request once the 24-hour window has closed', async () => {
    const result = await whatsappAdapter.send!(
      { ...reply, lastBuyerMessageAt: now - 24 * 3_600_000 - 1 },
      credentials,
      http,
    );
    expect(result).toMatchObject({ ok: false, retryable: false });
    const never = await whatsappAdapter.send!(
      { ...reply, lastBuyerMessageAt: undefined },
      credentials,
      http,
    );
    expect(never).toMatchObject({ ok: false, retryable: false });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('answers within 24 hours of a welcome request (the chat opened without a message), not after', async () => {
    const scope = nock('https://graph.facebook.com')
      .post('/v21.0/106540352242922/messages')
      .reply(200, { messages: [{ id: 'wamid.welcome' }] });
    const welcomed = { ...reply, lastBuyerMessageAt: undefined, repliesSinceOpen: 3 };
    await expect(
      whatsappAdapter.send!({ ...welcomed, openedAt: now - 23 * 3_600_000 }, credentials, http),
    ).resolves.toEqual({ ok: true, platformMessageId: 'wamid.welcome' });
    expect(scope.isDone()).toBe(true);
    const late = await whatsappAdapter.send!(
      { ...welcomed, openedAt: now - 24 * 3_600_000 - 1 },
      credentials,
      http,
    );
    expect(late).toMatchObject({ ok: false, retryable: false });
  });

  it("maps a 400 to a final failure carrying Meta's message", async () => {
    nock('https://graph.facebook.com')
      .post('/v21.0/106540352242922/messages')
      .reply(400, {
        error: {
          message: '(#131047) Re-engagement message',
          type: 'OAuthException',
          code: 131047,
          fbtrace_id: 'x',
        },
      });
    await expect(whatsappAdapter.send!(reply, credentials, http)).resolves.toEqual({
      ok: false,
      retryable: false,
      status: 400,
      error: '(#131047) Re-engagement message (WhatsApp error 131047)',
    });
  });

  it('retries 500s, 429s, throughput errors and network failures', async () => {
    nock('https://graph.facebook.com')
      .post('/v21.0/106540352242922/messages')
      .reply(500, { error: { message: 'Service unavailable', code: 1 } });
    await expect(whatsappAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
      status: 500,
    });
    nock('https://graph.facebook.com')
      .post('/v21.0/106540352242922/messages')
      .reply(429, 'slow down');
    await expect(whatsappAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
      status: 429,
    });
    nock('https://graph.facebook.com')
      .post('/v21.0/106540352242922/messages')
      .reply(400, { error: { message: 'Rate limit hit', code: 130429 } });
    await expect(whatsappAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
    });
    nock('https://graph.facebook.com')
      .post('/v21.0/106540352242922/messages')
      .replyWithError('socket hang up');
    await expect(whatsappAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
    });
  });
});
