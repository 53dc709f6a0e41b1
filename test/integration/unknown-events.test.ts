import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signStandardWebhook } from '../../src/platforms/generic/standard-webhooks';
import { LINE_DESTINATION, lineSignature, lineTextEvent } from '../fixtures/platforms/line';
import { sha1Sorted } from '../fixtures/platforms/wechat';
import { whatsappSignature } from '../fixtures/platforms/whatsapp';
import { type Harness, startHarness } from '../support/harness';

/**
 * A platform adds event kinds over time. One this service does not know is
 * acknowledged (2xx: a refusal would only be retried for days) and logged by
 * its kind, never its content, so it is not dropped unseen.
 */
let h: Harness;
let generic: { id: string; webhookSecret: string };
const shops: Record<string, string> = {};
const TELEGRAM_SECRET = 'T'.repeat(40);

beforeAll(async () => {
  h = await startHarness({ workers: false });
  generic = await h.createGenericShop({ timezone: 'UTC' });
  const create = async (platform: string, credentials: Record<string, unknown>) => {
    const res = await h.api('/v1/shops', {
      body: { name: platform, platform, timezone: 'UTC', credentials },
    });
    shops[platform] = res.body.id;
  };
  await create('line', { channelSecret: 'line-secret', channelAccessToken: 'token' });
  await create('messenger', {
    appSecret: 'm-secret',
    appId: '1517776481860111',
    verifyToken: 'v',
    pageAccessToken: 'p',
  });
  await create('wechat', { appId: 'wx2c2769f8efd9abc2', appSecret: 's', token: 'spamtest' });
  await create('telegram', { botToken: '123:abc', secretToken: TELEGRAM_SECRET });
  await create('whatsapp', {
    appSecret: 'wa-secret',
    verifyToken: 'v',
    accessToken: 'EAA',
    phoneNumberId: '106540352242922',
  });
});
afterAll(() => h.close());

async function post(path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${h.url}${path}`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.json() };
}

/** The `unknown event kinds` log lines written while `run` runs. */
async function loggedKinds(run: () => Promise<unknown>) {
  const info = vi.spyOn(h.container.services.logger, 'info');
  try {
    await run();
    return info.mock.calls
      .filter(([, message]) => message === 'webhook events of unknown kinds acknowledged')
      .map(([fields]) => fields);
  } finally {
    info.mockRestore();
  }
}

describe('events of kinds the service does not know', () => {
  it('generic: a type outside the contract is refused, naming the field (our own contract)', async () => {
    const body = JSON.stringify({ type: 'typing', data: { buyerId: 'b1' } });
    const id = `msg_${randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    const answer = await post(`/webhooks/generic/${generic.id}`, body, {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandardWebhook(generic.webhookSecret, id, ts, body),
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'invalid_request' } });
    expect(JSON.stringify(answer.body)).toContain('type');
  });

  it('generic: a known type that is malformed is still refused', async () => {
    const body = JSON.stringify({ type: 'message', data: {} });
    const id = `msg_${randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    const answer = await post(`/webhooks/generic/${generic.id}`, body, {
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandardWebhook(generic.webhookSecret, id, ts, body),
    });
    expect(answer.status).toBe(400);
  });

  it('LINE, Telegram, WhatsApp, Messenger and WeChat: unknown kinds beside known ones are logged by kind', async () => {
    const line = JSON.stringify({
      destination: LINE_DESTINATION,
      events: [
        { type: 'follow', mode: 'active', timestamp: 1, webhookEventId: 'e1' },
        { type: 'hologram', mode: 'active', timestamp: 1, webhookEventId: 'e2' },
      ],
    });
    const telegram = JSON.stringify({ update_id: 7, chat_boost: { chat: { id: 1 } } });
    const whatsapp = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'account_update', value: { phone_number: '1' } }] }],
    });
    const messenger = JSON.stringify({
      object: 'page',
      entry: [
        {
          id: '1',
          messaging: [
            { sender: { id: '1' }, recipient: { id: '2' }, timestamp: 1, read: { watermark: 1 } },
            { sender: { id: '1' }, recipient: { id: '2' }, timestamp: 1, optin: { ref: 'x' } },
          ],
        },
      ],
    });
    const ts = String(Math.floor(Date.now() / 1000));
    const wechatQuery = `?signature=${sha1Sorted(['spamtest', ts, 'n1'])}&timestamp=${ts}&nonce=n1`;
    const wechat =
      '<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>' +
      '<MsgType>event</MsgType><Event>hologram_call</Event></xml>';
    const answers: number[] = [];
    const logged = await loggedKinds(async () => {
      for (const [platform, body, headers] of [
        ['line', line, { 'x-line-signature': lineSignature(line, 'line-secret') }],
        ['telegram', telegram, { 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET }],
        ['whatsapp', whatsapp, { 'x-hub-signature-256': whatsappSignature(whatsapp, 'wa-secret') }],
        [
          'messenger',
          messenger,
          {
            'x-hub-signature-256': `sha256=${createHmac('sha256', 'm-secret').update(messenger).digest('hex')}`,
          },
        ],
      ] as const)
        answers.push(
          (await post(`/webhooks/${platform}/${shops[platform]}`, body, headers)).status,
        );
      const res = await fetch(`${h.url}/webhooks/wechat/${shops.wechat}${wechatQuery}`, {
        method: 'POST',
        body: wechat,
      });
      answers.push(res.status);
    });
    expect(answers).toEqual([200, 200, 200, 200, 200]);
    expect(logged).toEqual([
      { platform: 'line', shopId: shops.line, kinds: ['hologram'] },
      { platform: 'telegram', shopId: shops.telegram, kinds: ['chat_boost'] },
      { platform: 'whatsapp', shopId: shops.whatsapp, kinds: ['account_update'] },
      { platform: 'messenger', shopId: shops.messenger, kinds: ['optin'] },
      { platform: 'wechat', shopId: shops.wechat, kinds: ['event:hologram_call'] },
    ]);
  });

  it('LINE: a malformed event is set aside and logged by field; the good ones beside it are queued', async () => {
    const good = lineTextEvent({ webhookEventId: 'good-1', messageId: 'm-good-1', text: '在吗' });
    const bad = {
      ...lineTextEvent({ webhookEventId: 'bad-1', messageId: 'm-bad-1', text: '电话13812345678' }),
      timestamp: 'yesterday',
    };
    const line = JSON.stringify({ destination: LINE_DESTINATION, events: [good, bad] });
    const warn = vi.spyOn(h.container.services.logger, 'warn');
    try {
      const answer = await post(`/webhooks/line/${shops.line}`, line, {
        'x-line-signature': lineSignature(line, 'line-secret'),
      });
      expect(answer).toEqual({ status: 200, body: { ok: true, queued: 1, duplicates: 0 } });
      const logged = warn.mock.calls.filter(
        ([, message]) =>
          message === 'malformed webhook events set aside; the rest of the batch acknowledged',
      );
      expect(logged.map(([fields]) => fields)).toEqual([
        { platform: 'line', shopId: shops.line, fields: ['events.1.timestamp'] },
      ]);
      expect(JSON.stringify(logged)).not.toContain('13812345678');
    } finally {
      warn.mockRestore();
    }
    // A batch with nothing usable is still refused, naming the field.
    const onlyBad = JSON.stringify({ destination: LINE_DESTINATION, events: [bad] });
    const refused = await post(`/webhooks/line/${shops.line}`, onlyBad, {
      'x-line-signature': lineSignature(onlyBad, 'line-secret'),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.field).toBe('events.0.timestamp');
  });
});
