import fc from 'fast-check';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboundReply } from '../../../src/platforms/contract';
import { telegramAdapter } from '../../../src/platforms/telegram';
import { expectAppError } from '../../fixtures/platforms/app-error';
import { testPlatformHttp } from '../../fixtures/platforms/platform-http';
import { asInbound } from '../../fixtures/platforms/signed-request';
import {
  telegramDelivery,
  telegramEditedUpdate,
  telegramPhotoUpdate,
  telegramTextUpdate,
} from '../../fixtures/platforms/telegram';

const credentials = {
  botToken: '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11',
  secretToken: 'seatmate_secret-1_0123456789abcdefghij',
};

describe('telegram credentials', () => {
  it('names a missing or malformed field', () => {
    expect(telegramAdapter.credentialsSchema.safeParse(credentials).success).toBe(true);
    const missing = telegramAdapter.credentialsSchema.safeParse({ botToken: credentials.botToken });
    expect(missing.error?.issues[0]?.path).toEqual(['secretToken']);
    const bad = telegramAdapter.credentialsSchema.safeParse({
      ...credentials,
      secretToken: 'has spaces',
    });
    expect(bad.error?.issues[0]?.message).toMatch(/secretToken/);
    const short = telegramAdapter.credentialsSchema.safeParse({
      ...credentials,
      secretToken: 'abc123',
    });
    expect(short.error?.issues[0]?.message).toMatch(/24 random bytes/);
  });
});

describe('telegram verify', () => {
  const request = telegramDelivery({
    secretToken: credentials.secretToken,
    update: telegramTextUpdate({ updateId: 1 }),
  });

  it('accepts the secret token header and rejects a missing or wrong one with 401', () => {
    expect(() => telegramAdapter.verify(asInbound(request), credentials)).not.toThrow();
    expectAppError(
      () => telegramAdapter.verify(asInbound({ ...request, headers: {} }), credentials),
      401,
      'invalid_signature',
    );
    const wrong = telegramDelivery({
      secretToken: 'another',
      update: telegramTextUpdate({ updateId: 1 }),
    });
    expectAppError(
      () => telegramAdapter.verify(asInbound(wrong), credentials),
      401,
      'invalid_signature',
    );
  });

  it('never accepts any other secret token (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 300 }), (candidate) => {
        fc.pre(candidate !== credentials.secretToken);
        expectAppError(
          () =>
            telegramAdapter.verify(
              asInbound({ ...request, headers: { 'x-telegram-bot-api-secret-token': candidate } }),
              credentials,
            ),
          401,
        );
      }),
    );
    fc.assert(
      fc.property(
        fc.nat({ max: credentials.secretToken.length - 1 }),
        fc.constantFrom(...'abcXYZ019_-'),
        (index, char) => {
          const secret = credentials.secretToken;
          fc.pre(secret[index] !== char);
          const mutated = `${secret.slice(0, index)}${char}${secret.slice(index + 1)}`;
          expectAppError(
            () =>
              telegramAdapter.verify(
                asInbound({ ...request, headers: { 'x-telegram-bot-api-secret-token': mutated } }),
                credentials,
              ),
            401,
          );
        },
      ),
    );
  });
});

describe('telegram parse', () => {
  const parse = (update: unknown) =>
    telegramAdapter.parse(asInbound(telegramDelivery({ secretToken: 'x', update })), credentials)
      .events;

  it('turns a private text message into a buyer message keyed by update_id, ids as strings', () => {
    expect(parse(telegramTextUpdate({ updateId: 123456789, chatId: 4503599627370495 }))).toEqual([
      {
        kind: 'message',
        eventId: '123456789',
        messageId: '4503599627370495/42',
        buyer: { id: '4503599627370495', name: 'Ann Lee' },
        from: 'buyer',
        text: 'Hello',
        sentAt: '2023-11-14T22:13:20.000Z',
        replyContext: { chatId: '4503599627370495' },
      },
    ]);
  });

  it('gives media a placeholder, keeping the caption', () => {
    expect(parse(telegramPhotoUpdate({ updateId: 2 }))[0]).toMatchObject({ text: '[photo]' });
    expect(parse(telegramPhotoUpdate({ updateId: 3, caption: 'this one?' }))[0]).toMatchObject({
      text: '[photo] this one?',
    });
  });

  it('gives no events for edits, callback queries, bots and service messages', () => {
    expect(parse(telegramEditedUpdate(4))).toEqual([]);
    expect(
      parse({
        update_id: 5,
        callback_query: { id: '1', from: { id: 1, is_bot: false, first_name: 'A' }, data: 'x' },
      }),
    ).toEqual([]);
    const bot = telegramTextUpdate({ updateId: 6 });
    expect(
      parse({
        ...bot,
        message: { ...bot.message, from: { id: 9, is_bot: true, first_name: 'OtherBot' } },
      }),
    ).toEqual([]);
    const joined = telegramTextUpdate({ updateId: 7 });
    const { text: _text, ...service } = joined.message;
    expect(
      parse({
        update_id: 7,
        message: { ...service, new_chat_members: [{ id: 5, is_bot: false, first_name: 'B' }] },
      }),
    ).toEqual([]);
  });

  it('rejects malformed updates with 400 naming the field', () => {
    expect(expectAppError(() => parse({ message: {} }), 400, 'invalid_payload').details).toEqual({
      field: 'update_id',
    });
    expect(
      expectAppError(() => parse({ update_id: 1, message: { message_id: 1, date: 1 } }), 400)
        .details,
    ).toEqual({ field: 'message.chat' });
  });

  it('refuses a date no Date can hold with 400 naming it, not a 500', () => {
    const late = telegramTextUpdate({ updateId: 1, date: 9_000_000_000_000 });
    expect(expectAppError(() => parse(late), 400, 'invalid_payload').details).toEqual({
      field: 'message.date',
    });
  });
});

describe('telegram send', () => {
  const http = testPlatformHttp();
  const reply: OutboundReply = {
    replyId: 'r1',
    conversationId: 'c1',
    shopId: 's1',
    buyerId: '111111111',
    text: 'Sure!',
    replyContext: { chatId: '111111111' },
    lastBuyerMessageAt: 0,
    repliesSinceLastBuyerMessage: 7,
    now: Date.parse('2026-01-01T00:00:00Z'),
  };
  const path = `/bot${credentials.botToken}/sendMessage`;
  afterEach(() => nock.cleanAll());

  it('POSTs sendMessage with the chat id, whatever the time since the buyer wrote', async () => {
    const scope = nock('https://api.telegram.org', {
      reqheaders: { 'content-type': 'application/json' },
    })
      .post(path, { chat_id: '111111111', text: 'Sure!' })
      .reply(200, {
        ok: true,
        result: { message_id: 77, date: 1, chat: { id: 111111111, type: 'private' } },
      });
    await expect(telegramAdapter.send!(reply, credentials, http)).resolves.toEqual({
      ok: true,
      platformMessageId: '111111111/77',
    });
    expect(scope.isDone()).toBe(true);
  });

  it("maps 400/403 to final with Telegram's description, 429/500 and network errors to retryable", async () => {
    nock('https://api.telegram.org')
      .post(path)
      .reply(400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' });
    await expect(telegramAdapter.send!(reply, credentials, http)).resolves.toEqual({
      ok: false,
      retryable: false,
      status: 400,
      error: 'Bad Request: chat not found',
    });
    nock('https://api.telegram.org').post(path).reply(403, {
      ok: false,
      error_code: 403,
      description: 'Forbidden: bot was blocked by the user',
    });
    await expect(telegramAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: false,
      status: 403,
    });
    nock('https://api.telegram.org')
      .post(path)
      .reply(429, {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 5',
        parameters: { retry_after: 5 },
      });
    await expect(telegramAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
      status: 429,
    });
    nock('https://api.telegram.org').post(path).reply(502, 'Bad Gateway');
    await expect(telegramAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
      status: 502,
    });
    nock('https://api.telegram.org').post(path).replyWithError('ETIMEDOUT');
    await expect(telegramAdapter.send!(reply, credentials, http)).resolves.toMatchObject({
      ok: false,
      retryable: true,
    });
  });
});
