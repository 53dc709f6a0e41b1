import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignedRequest } from '../fixtures/platforms/signed-request';
import {
  encryptedWechatDelivery,
  signedWechatDelivery,
  wechatTextXml,
} from '../fixtures/platforms/wechat';
import {
  signedWhatsappDelivery,
  WHATSAPP_PHONE_NUMBER_ID,
  whatsappMessage,
} from '../fixtures/platforms/whatsapp';
import { buyerMessage, type Harness, startHarness } from '../support/harness';

/**
 * Bounded versions of the hostile-load findings (issue 15); `npm run bench:abuse`
 * runs the large-number versions and prints the figures.
 */
let h: Harness;
const wa = {
  appSecret: 'wa-app-secret',
  verifyToken: 'wa-verify',
  accessToken: 'EAAG-token',
  phoneNumberId: WHATSAPP_PHONE_NUMBER_ID,
};
const wechat = {
  appId: 'wx2c2769f8efd9abc2',
  appSecret: 'wechat-app-secret',
  token: 'spamtest',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
};

beforeAll(async () => {
  h = await startHarness({
    workers: false,
    env: {
      WEBHOOK_RATE_PER_MINUTE: '10',
      WEBHOOK_FAILED_VERIFICATIONS_PER_MINUTE: '5',
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '1500',
      HTTP_MAX_CONNECTIONS: '40',
      TRUST_PROXY: 'true',
    },
  });
});
afterAll(() => h.close());

async function createShop(platform: string, credentials: Record<string, unknown>) {
  const res = await h.api('/v1/shops', {
    body: { name: `${platform} shop`, platform, timezone: 'UTC', credentials },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string };
}

/** Each test speaks from its own address, so the per-address failure budgets stay apart. */
async function post(
  platform: string,
  shopId: string,
  request: SignedRequest,
  from = `198.51.100.${Math.floor(Math.random() * 250)}`,
) {
  const query = new URLSearchParams(request.query).toString();
  const res = await fetch(`${h.url}/webhooks/${platform}/${shopId}${query ? `?${query}` : ''}`, {
    method: 'POST',
    headers: { ...request.headers, 'x-forwarded-for': from },
    body: new Uint8Array(request.rawBody),
  });
  return { status: res.status, headers: res.headers, body: await res.json().catch(() => null) };
}

const nowSeconds = () => String(Math.floor(Date.now() / 1000));

/** A generic delivery whose signature is wrong: a failed verification. */
function forgedGeneric(): SignedRequest {
  return {
    rawBody: Buffer.from('{}'),
    headers: {
      'content-type': 'application/json',
      'webhook-id': 'forged',
      'webhook-timestamp': nowSeconds(),
      'webhook-signature': 'v1,AAAA',
    },
    query: {},
  };
}

describe('bounded work before authentication', () => {
  it('refuses a WeChat body past the platform cap before verifying anything', async () => {
    const shop = await createShop('wechat', wechat);
    const junk = `<xml>${'<a>'.repeat(200_000)}</xml>`;
    const res = await post('wechat', shop.id, {
      rawBody: Buffer.from(junk),
      headers: { 'content-type': 'text/xml' },
      query: { timestamp: nowSeconds(), nonce: '1', encrypt_type: 'aes', msg_signature: 'x' },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('verifies a safe-mode delivery from its Encrypt value alone, never parsing the unsigned envelope', async () => {
    const shop = await createShop('wechat', wechat);
    const signed = encryptedWechatDelivery({
      ...wechat,
      xml: wechatTextXml({ msgId: '5000000000000000001' }),
      timestamp: nowSeconds(),
    });
    // The envelope around the signed value is not XML at all: only the signed part is read.
    const encrypt = /<!\[CDATA\[([^\]]+)\]\]><\/Encrypt>/.exec(signed.rawBody.toString())![1];
    const mangled = { ...signed, rawBody: Buffer.from(`junk <Encrypt>${encrypt}</Encrypt> <<<`) };
    expect((await post('wechat', shop.id, mangled)).status).toBe(200);
    // Two Encrypt elements: which one was signed is ambiguous, so it is refused.
    const doubled = {
      ...signed,
      rawBody: Buffer.from(`<xml><Encrypt>${encrypt}</Encrypt><Encrypt>${encrypt}</Encrypt></xml>`),
    };
    expect((await post('wechat', shop.id, doubled)).status).toBe(401);
  });

  it('accepts a captured plain-mode WeChat signature only with the body it came with', async () => {
    const { encodingAESKey: _unused, ...plain } = wechat;
    const shop = await createShop('wechat', plain);
    const original = signedWechatDelivery({
      token: wechat.token,
      xml: wechatTextXml({ msgId: '5000000000000000002', content: 'real' }),
      timestamp: nowSeconds(),
      nonce: '777',
    });
    expect((await post('wechat', shop.id, original)).status).toBe(200);
    // A platform retry of the same delivery is fine (the MsgId dedupe absorbs it).
    expect((await post('wechat', shop.id, original)).status).toBe(200);
    const forged = {
      ...original,
      rawBody: Buffer.from(wechatTextXml({ msgId: '5000000000000000003', content: 'forged' })),
    };
    const res = await post('wechat', shop.id, forged);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('invalid_signature');
  });

  it('caps every platform at its own size, far below the old 1 MiB', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const big = buyerMessage('buyer-big', 'x'.repeat(9_000), Date.now());
    big.data.agentName = 'y'.repeat(150_000);
    const res = await h.sendGeneric(shop, big);
    expect(res.status).toBe(413);
  });

  it('answers 429 with Retry-After once an address has failed verification too often', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const from = '203.0.113.7';
    const forged = forgedGeneric();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await post('generic', shop.id, forged, from)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    const limited = await post('generic', shop.id, forged, from);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body.error.code).toBe('too_many_failed_verifications');
    // Another address is not affected.
    expect((await post('generic', shop.id, forged, '203.0.113.8')).status).toBe(401);
  });

  it('caps one address across all shops at ten shops’ worth of failures a minute', async () => {
    // Each shop allows 5 failures a minute from an address: spread over shops, 50 in all.
    const from = '203.0.113.50';
    const forged = forgedGeneric();
    const statuses: number[] = [];
    for (let s = 0; s < 11; s++) {
      const shop = await h.createGenericShop({ timezone: 'UTC' });
      for (let i = 0; i < 5; i++)
        statuses.push((await post('generic', shop.id, forged, from)).status);
    }
    expect(statuses.slice(0, 50)).toEqual(Array(50).fill(401));
    expect(statuses.slice(50)).toEqual(Array(5).fill(429));
    // Another address is not affected.
    const other = await h.createGenericShop({ timezone: 'UTC' });
    expect((await post('generic', other.id, forged, '203.0.113.51')).status).toBe(401);
  });

  it('counts failures by the address our proxy appended, whatever the client wrote before it', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const forged = forgedGeneric();
    // A new made-up first entry each time: the budget is still the real peer's (the last entry).
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await post('generic', shop.id, forged, `192.0.2.${i}, 203.0.113.9`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    // Koa's route (another spelling of the path) reads the same address as the webhook lane.
    const viaKoa = await fetch(`${h.url}/webhooks/generic/${shop.id}/`, {
      method: 'POST',
      headers: { ...forged.headers, 'x-forwarded-for': '192.0.2.200, 203.0.113.9' },
      body: '{}',
    });
    expect(viaKoa.status).toBe(429);
    // Someone writing the victim's address first cannot spend its budget.
    expect((await post('generic', shop.id, forged, '203.0.113.9, 203.0.113.10')).status).toBe(401);
  });
});

describe('connection limits', () => {
  /** Opens a raw socket, writes `text`, and resolves with how long the server took to close it. */
  function closedAfter(text: string, giveUpMs: number): Promise<number> {
    return new Promise((resolve) => {
      const { port } = new URL(h.url);
      const started = Date.now();
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(text));
      socket.on('data', () => undefined);
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(Number.POSITIVE_INFINITY);
      }, giveUpMs);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(Date.now() - started);
      });
      socket.on('error', () => undefined);
    });
  }

  it('drops a connection whose headers never finish', async () => {
    const ms = await closedAfter('POST /webhooks/generic/x HTTP/1.1\r\nHost: a\r\n', 8000);
    expect(ms).toBeLessThan(8000);
  });

  it('drops a connection whose body never finishes', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const ms = await closedAfter(
      `POST /webhooks/generic/${shop.id} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"a":`,
      8000,
    );
    expect(ms).toBeLessThan(8000);
  });

  it('holds no more than HTTP_MAX_CONNECTIONS connections', async () => {
    const { port } = new URL(h.url);
    const sockets = await Promise.all(
      Array.from(
        { length: 60 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const socket = net.connect(Number(port), '127.0.0.1', () => resolve(socket));
            socket.on('error', () => undefined);
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    const open = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
    for (const socket of sockets) socket.destroy();
    expect(open).toBeLessThanOrEqual(40);
  });
});

describe('noisy neighbours', () => {
  it('counts events, not requests, and refuses a batch past the platform cap', async () => {
    const shop = await createShop('whatsapp', wa);
    const batch = (n: number) =>
      signedWhatsappDelivery({
        secret: wa.appSecret,
        messages: Array.from({ length: n }, () =>
          whatsappMessage({ id: `wamid.${randomUUID()}`, timestamp: nowSeconds() }),
        ),
      });
    const tooBig = await post('whatsapp', shop.id, batch(1001));
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('too_many_events');
    // Quota 10 events a minute: a batch of 10 uses it up, the next request is refused.
    expect((await post('whatsapp', shop.id, batch(10))).status).toBe(200);
    const next = await post('whatsapp', shop.id, batch(1));
    expect(next.status).toBe(429);
    expect(next.headers.get('retry-after')).toBeTruthy();
  });
});
