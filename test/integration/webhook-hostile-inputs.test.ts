import { createCipheriv, randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStandardWebhook } from '../../src/platforms/generic/standard-webhooks';
import { seededRandom as seeded } from '../../src/shared/seeded-random';
import { LINE_DESTINATION, lineSignature, lineTextEvent } from '../fixtures/platforms/line';
import {
  MESSENGER_APP_ID,
  messengerDeliveryBody,
  messengerText,
} from '../fixtures/platforms/messenger';
import { telegramTextUpdate } from '../fixtures/platforms/telegram';
import { sha1Sorted, wechatEncrypt, wechatTextXml } from '../fixtures/platforms/wechat';
import {
  WHATSAPP_PHONE_NUMBER_ID,
  whatsappDeliveryBody,
  whatsappMessage,
  whatsappSignature,
} from '../fixtures/platforms/whatsapp';
import { drained } from '../support/billing-traffic';
import { type Harness, startHarness } from '../support/harness';
import { deeplyNested, treeMutations } from '../support/hostile-requests';

/**
 * Every platform the shop schema in /openapi.json names, sent signed hostile deliveries: the
 * signature is right, the body is not. A platform adapter parses what strangers' platforms
 * shaped; whatever the shape, the answer is a 200 (the event set aside or ignored) or a 4xx in
 * the error envelope, never a 5xx or a hang, and the service stays ready.
 */

interface Platform {
  credentials: Record<string, unknown>;
  /** A valid delivery's body (JSON value, or raw text for XML platforms). */
  body: () => unknown;
  /** Headers and query that authenticate these exact bytes. */
  sign: (raw: Buffer) => { headers: Record<string, string>; query?: Record<string, string> };
  /** The GET handshake's query with a valid token and the given challenge, if it has one. */
  handshake?: (challenge: string) => Record<string, string>;
}

const now = () => Math.floor(Date.now() / 1000);
let counter = 0;
/** A new event id each time: a mutated delivery must be processed, not dropped as a redelivery. */
const fresh = () => ++counter;
const WECHAT_TOKEN = 'wxtoken123';
let nonces = 0;
/** A fresh nonce each time: WeChat's plain mode signs no body, so a reused query is refused. */
const wechatQuery = () => {
  const timestamp = String(now());
  const nonce = String(1_000_000 + ++nonces);
  return { signature: sha1Sorted([WECHAT_TOKEN, timestamp, nonce]), timestamp, nonce };
};

/** How to sign for each platform; a platform the document names without an entry fails the test. */
const PLATFORMS: Record<string, Platform | 'no webhooks'> = {
  generic: {
    credentials: {},
    body: () => ({
      type: 'message',
      data: {
        messageId: `m${fresh()}`,
        buyer: { id: 'b1' },
        from: 'buyer',
        text: 'hi',
        sentAt: new Date().toISOString(),
      },
    }),
    sign: () => ({ headers: {} }), // replaced per shop: the secret is generated
  },
  whatsapp: {
    credentials: {
      appSecret: 'wa-app-secret',
      verifyToken: 'wa-verify',
      accessToken: 'EAAG-token',
      phoneNumberId: WHATSAPP_PHONE_NUMBER_ID,
    },
    body: () =>
      whatsappDeliveryBody({
        messages: [
          whatsappMessage({
            id: `wamid.F${fresh()}`,
            from: '8613800000001',
            timestamp: String(now()),
            text: 'hi',
          }),
        ],
      }),
    sign: (raw) => ({
      headers: { 'x-hub-signature-256': whatsappSignature(raw, 'wa-app-secret') },
    }),
    handshake: (challenge) => ({
      'hub.mode': 'subscribe',
      'hub.verify_token': 'wa-verify',
      'hub.challenge': challenge,
    }),
  },
  messenger: {
    credentials: {
      appSecret: 'm-secret',
      appId: MESSENGER_APP_ID,
      verifyToken: 'm-verify',
      pageAccessToken: 'PAGE-TOKEN',
    },
    body: () =>
      messengerDeliveryBody({
        messaging: [messengerText({ mid: `m_F${fresh()}`, timestamp: Date.now() })],
      }),
    sign: (raw) => ({ headers: { 'x-hub-signature-256': whatsappSignature(raw, 'm-secret') } }),
    handshake: (challenge) => ({
      'hub.mode': 'subscribe',
      'hub.verify_token': 'm-verify',
      'hub.challenge': challenge,
    }),
  },
  line: {
    credentials: { channelSecret: 'line-secret', channelAccessToken: 'line-token' },
    body: () => ({
      destination: LINE_DESTINATION,
      events: [
        lineTextEvent({
          webhookEventId: `E${fresh()}`,
          messageId: String(fresh()),
          timestamp: Date.now(),
        }),
      ],
    }),
    sign: (raw) => ({ headers: { 'x-line-signature': lineSignature(raw, 'line-secret') } }),
  },
  telegram: {
    credentials: {
      botToken: '123456:ABC-def',
      secretToken: 'tg_secret_1_0123456789abcdefghijklmn',
    },
    body: () => telegramTextUpdate({ updateId: fresh(), date: now() }),
    sign: () => ({
      headers: { 'x-telegram-bot-api-secret-token': 'tg_secret_1_0123456789abcdefghijklmn' },
    }),
  },
  wechat: {
    credentials: { appId: 'wx0123456789abcdef', appSecret: 'wx-secret', token: WECHAT_TOKEN },
    body: () => wechatTextXml({ msgId: String(1234567890123456 + fresh()), createTime: now() }),
    sign: () => ({
      headers: { 'content-type': 'text/xml' },
      query: { ...wechatQuery(), openid: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs' },
    }),
    handshake: (challenge) => ({ ...wechatQuery(), echostr: challenge }),
  },
  // Web shops take buyers through the widget; their webhook path answers like an unknown one.
  web: 'no webhooks',
};

/** XML a hostile WeChat sender (or a man in the middle of plain mode) may send. */
const HOSTILE_XML = [
  '<xml><ToUserName>',
  '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><xml><MsgType>text</MsgType><Content>&d;&d;&d;&d;</Content></xml>',
  '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&e;</Content><MsgId>1</MsgId></xml>',
  `<xml>${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}</xml>`,
  '<xml><MsgType><![CDATA[text]]></MsgType></xml>',
  '<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>soon</CreateTime><MsgType>text</MsgType><Content>x</Content><MsgId>not-a-number</MsgId></xml>',
  '<xml><ToUserName>gh</ToUserName><FromUserName></FromUserName><CreateTime>1e308</CreateTime><MsgType>text</MsgType><Content></Content><MsgId>-1</MsgId></xml>',
  '<xml><MsgType>text</MsgType><MsgType>image</MsgType><Content>a</Content><Content>b</Content></xml>',
  `<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType>text</MsgType><Content><![CDATA[${'x'.repeat(200_000)}]]></Content><MsgId>99</MsgId></xml>`,
  '<xml><Encrypt><![CDATA[not base64 at all!!]]></Encrypt></xml>',
  '<xml><Content>nul\u0000byte \ud800</Content></xml>',
  '{"MsgType":"text"}',
  '',
  'not xml at all',
];

let h: Harness;
let port: number;
let ipCounter = 0;
const shops: Record<string, { id: string; webhookSecret?: string }> = {};
let platforms: string[] = [];

beforeAll(async () => {
  h = await startHarness({
    env: {
      TRUST_PROXY: 'true',
      WEBHOOK_RATE_PER_MINUTE: '100000',
      WEBHOOK_FAIR_SHARE_PER_MINUTE: '100000',
    },
  });
  port = Number(new URL(h.url).port);
  const doc = (await h.api('/openapi.json', { token: '' })).body;
  platforms =
    doc.paths['/v1/shops'].post.requestBody.content['application/json'].schema.properties.platform
      .enum;
  for (const name of platforms) {
    const entry = PLATFORMS[name];
    const res = await h.api('/v1/shops', {
      body: {
        name: `${name} shop`,
        platform: name,
        credentials:
          entry === 'no webhooks' || !entry
            ? { allowedOrigins: ['https://store.example'] }
            : entry.credentials,
      },
    });
    expect(res.status, `${name}: ${res.text}`).toBe(201);
    shops[name] = res.body;
  }
}, 60_000);
afterAll(() => h.close());

interface Sent {
  platform: string;
  label: string;
  method: 'GET' | 'POST';
  body?: Buffer;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  expect: 'reject' | 'survive';
}

function send(s: Sent) {
  return sendTo(shops[s.platform]!.id, s);
}

function sendTo(
  shopId: string,
  s: Sent,
): Promise<{ status: number; contentType: string; text: string } | { error: string }> {
  ipCounter += 1;
  const query = new URLSearchParams(s.query ?? {}).toString();
  const headers: Record<string, string> = {
    'x-forwarded-for': `203.0.${(ipCounter >> 8) & 255}.${ipCounter & 255}`,
    ...(s.body
      ? { 'content-type': 'application/json', 'content-length': String(s.body.length) }
      : {}),
    ...s.headers,
  };
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: s.method,
        path: `/webhooks/${s.platform}/${shopId}${query ? `?${query}` : ''}`,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ error: 'no answer within 5000 ms' });
    }, 5000);
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') return;
      clearTimeout(timer);
      resolve({ error: error.message });
    });
    req.end(s.body);
  });
}

function signed(platform: string, raw: Buffer): Pick<Sent, 'headers' | 'query'> {
  const entry = PLATFORMS[platform];
  if (!entry || entry === 'no webhooks') return {};
  if (platform === 'generic') {
    const id = `evt_${ipCounter}_${raw.length}`;
    const timestamp = now();
    return {
      headers: {
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signStandardWebhook(shops.generic!.webhookSecret!, id, timestamp, raw),
      },
    };
  }
  return entry.sign(raw);
}

function deliveries(platform: string, random: () => number): Sent[] {
  const entry = PLATFORMS[platform];
  const out: Sent[] = [];
  const post = (label: string, text: string | Buffer, expect: Sent['expect'], sign = true) => {
    const body = Buffer.isBuffer(text) ? text : Buffer.from(text);
    out.push({
      platform,
      label,
      method: 'POST',
      body,
      ...(sign ? signed(platform, body) : {}),
      expect,
    });
  };
  if (!entry || entry === 'no webhooks') {
    post('a JSON body', '{"a":1}', 'reject');
    post('malformed', '{"a":', 'reject');
    return out;
  }
  const valid = entry.body();
  const validText = typeof valid === 'string' ? valid : JSON.stringify(valid);
  post('unsigned', validText, 'reject', false);
  // Every credential the platform sends, each value altered: the body's bytes stay right.
  const good = signed(platform, Buffer.from(validText));
  const spoil = (values: Record<string, string> = {}) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, `${v.slice(0, -2)}zz`]));
  out.push({
    platform,
    label: 'wrong signature',
    method: 'POST',
    body: Buffer.from(validText),
    headers: spoil(good.headers),
    query: good.query && { ...spoil(good.query), timestamp: good.query.timestamp! },
    expect: 'reject',
  });
  if (typeof valid === 'string') {
    for (const xml of HOSTILE_XML) post(`xml ${xml.slice(0, 40)}`, xml, 'survive');
  } else {
    for (const raw of [
      '{"a":',
      'null',
      '[]',
      '42',
      '"text"',
      deeplyNested(10_000),
      `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
    ])
      post(`body ${raw.slice(0, 20)}`, raw, raw.startsWith('{"a":{') ? 'survive' : 'reject');
    post('body not UTF-8', Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]), 'reject');
    for (const m of treeMutations(entry.body, random, 45)) post(m.label, m.body, 'survive');
  }
  if (entry.handshake) {
    const handshake = entry.handshake;
    for (const challenge of [
      '<script>alert(1)</script>',
      'x'.repeat(10_000),
      '',
      '\u202e😀\u0000',
      '%ZZ',
    ])
      out.push({
        platform,
        label: `handshake challenge ${challenge.slice(0, 20)}`,
        method: 'GET',
        query: handshake(challenge),
        expect: 'survive',
      });
    out.push({
      platform,
      label: 'handshake without token',
      method: 'GET',
      query: { ...handshake('1'), 'hub.verify_token': 'wrong', signature: 'wrong' },
      expect: 'reject',
    });
  }
  return out;
}

function judge(s: Sent, answer: Awaited<ReturnType<typeof send>>): string | null {
  if ('error' in answer) return answer.error;
  if (answer.status >= 500) return `${answer.status}: ${answer.text.slice(0, 160)}`;
  if (s.expect === 'reject' && answer.status < 400) return `accepted (${answer.status})`;
  // A handshake echoes what it was sent: never as a page a browser would run.
  if (answer.status < 400)
    return /html|xml|javascript/.test(answer.contentType) && s.method === 'GET'
      ? `echoed as ${answer.contentType}`
      : null;
  if (!answer.contentType.startsWith('application/json'))
    return `${answer.status} as ${answer.contentType}`;
  if (answer.text.length > 4096) return `${answer.status} error of ${answer.text.length} bytes`;
  if (/\n\s+at |node_modules|\/work\/|\.ts:\d+|Error:|root:x:0/.test(answer.text))
    return `leaks: ${answer.text.slice(0, 200)}`;
  const body = JSON.parse(answer.text) as { error?: { code?: string; message?: string } };
  if (!body.error?.code || !body.error.message)
    return `${answer.status} outside the envelope: ${answer.text.slice(0, 100)}`;
  return null;
}

describe('signed hostile deliveries on every platform', () => {
  it('knows how to sign for every platform the document names', () => {
    expect(platforms.length).toBeGreaterThan(5);
    expect(platforms.filter((p) => !PLATFORMS[p])).toEqual([]);
  });

  it('accepts each platform its valid delivery (the signatures below are right)', async () => {
    for (const platform of platforms) {
      const entry = PLATFORMS[platform]!;
      if (entry === 'no webhooks') continue;
      const valid = entry.body();
      const body = Buffer.from(typeof valid === 'string' ? valid : JSON.stringify(valid));
      const answer = await send({
        platform,
        label: 'valid',
        method: 'POST',
        body,
        ...signed(platform, body),
        expect: 'survive',
      });
      expect('status' in answer && answer.status, `${platform}: ${JSON.stringify(answer)}`).toBe(
        200,
      );
    }
  });

  it('answers every hostile delivery 200 or a 4xx in the envelope, in time, and stays ready', async () => {
    const random = seeded(1129);
    const jobs = platforms.flatMap((p) => deliveries(p, random));
    const failures: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < jobs.length) {
          const job = jobs[next++]!;
          const problem = judge(job, await send(job));
          if (problem)
            failures.push(`${job.method} ${job.platform} [${job.label.slice(0, 80)}]: ${problem}`);
        }
      }),
    );
    expect(failures).toEqual([]);
    expect((await h.api('/readyz', { token: '' })).status).toBe(200);
    // What was taken in is processed, not failed: a hostile event set aside, never a crashed job.
    await drained(h);
    const failed = await h.api('/v1/ops/failed-jobs');
    expect(failed.status).toBe(200);
    expect(failed.body.jobs).toEqual([]);
  }, 120_000);
});

describe('WeChat safe mode: signed Encrypt values that do not decrypt to a message', () => {
  const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
  const APP_ID = 'wx0123456789abcdef';

  /** AES-256-CBC as WeChat uses it (key from EncodingAESKey, IV its first 16 bytes), no padding added. */
  function encryptRaw(plain: Buffer): string {
    const key = Buffer.from(`${AES_KEY}=`, 'base64');
    const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
  }
  /** A plaintext with the given length field and padding byte, padded to whole blocks. */
  function forged(length: number, message: string, pad: number): Buffer {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(length >>> 0, 0);
    const plain = Buffer.concat([randomBytes(16), len, Buffer.from(message), Buffer.from(APP_ID)]);
    const fill = 32 - (plain.length % 32);
    return Buffer.concat([plain, Buffer.alloc(fill - 1, fill), Buffer.from([pad])]);
  }

  it('answers each with a 4xx in the envelope (or 200), never a 5xx', async () => {
    const res = await h.api('/v1/shops', {
      body: {
        name: 'wechat safe',
        platform: 'wechat',
        credentials: {
          appId: APP_ID,
          appSecret: 'wx-secret',
          token: WECHAT_TOKEN,
          encodingAESKey: AES_KEY,
        },
      },
    });
    expect(res.status).toBe(201);
    const shopId = res.body.id as string;
    const xml = wechatTextXml({ msgId: '88', createTime: now() });
    const encrypts: Record<string, string> = {
      'not base64': '!!!not base64!!!',
      empty: '',
      'not whole blocks': Buffer.from('12345').toString('base64'),
      'random blocks': randomBytes(64).toString('base64'),
      'another app id': wechatEncrypt(xml, AES_KEY, 'wx_someone_else'),
      'length past the end': encryptRaw(forged(0xffffffff, xml, 8)),
      'length zero': encryptRaw(forged(0, xml, 8)),
      'padding byte 0': encryptRaw(forged(xml.length, xml, 0)),
      'padding byte 200': encryptRaw(forged(xml.length, xml, 200)),
      'entity expansion inside': wechatEncrypt(HOSTILE_XML[1]!, AES_KEY, APP_ID),
      'not xml inside': wechatEncrypt('{"MsgType":"text"}', AES_KEY, APP_ID),
      '10 KB of base64': randomBytes(7500).toString('base64'),
    };
    const problems: string[] = [];
    // An encrypted delivery, signed right (both signatures) whatever its Encrypt holds.
    const postEncrypted = (label: string, encrypt: string, nonce: string) => {
      const timestamp = String(now());
      return sendTo(shopId, {
        platform: 'wechat',
        label,
        method: 'POST',
        body: Buffer.from(
          `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
        ),
        headers: { 'content-type': 'text/xml' },
        query: {
          signature: sha1Sorted([WECHAT_TOKEN, timestamp, nonce]),
          timestamp,
          nonce,
          encrypt_type: 'aes',
          msg_signature: sha1Sorted([WECHAT_TOKEN, timestamp, nonce, encrypt]),
        },
        expect: 'survive',
      });
    };
    for (const [label, encrypt] of Object.entries(encrypts)) {
      const answer = await postEncrypted(label, encrypt, String(2_000_000 + ++nonces));
      const problem = judge(
        { platform: 'wechat', label, method: 'POST', expect: 'survive' },
        answer,
      );
      if (problem) problems.push(`${label}: ${problem}`);
    }
    expect(problems).toEqual([]);
    // The real thing still goes through: the refusals above are about the bytes.
    const good = wechatEncrypt(xml, AES_KEY, APP_ID);
    const ok = await postEncrypted('valid', good, String(3_000_000 + ++nonces));
    expect('status' in ok && ok.status, JSON.stringify(ok)).toBe(200);
  });
});
