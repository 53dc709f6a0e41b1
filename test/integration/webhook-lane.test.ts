import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readBody } from '../../src/http/raw-body';
import type { HttpServices } from '../../src/http/services';
import { webhookLane } from '../../src/http/webhook-lane';
import type { WebhookAnswer } from '../../src/pipeline/webhook-ingest';
import { signStandardWebhook } from '../../src/platforms/generic/standard-webhooks';
import { buyerMessage, type Harness, startHarness } from '../support/harness';

/**
 * The server answers `POST /webhooks/{platform}/{shopId}` in a lane in front
 * of Koa (src/http/webhook-lane.ts); other spellings of the path (a trailing
 * slash) still reach the Koa route. Both must answer alike, header for header.
 */
let h: Harness;
let shop: { id: string; webhookSecret: string };
/** The lane alone (what it leaves is answered 599), so its answers are its own. */
let laneOnly: http.Server;
let laneUrl: string;

beforeAll(async () => {
  h = await startHarness({ workers: false });
  shop = await h.createGenericShop({ timezone: 'UTC' });
  const lane = webhookLane(h.container.services);
  laneOnly = http.createServer((req, res) => {
    if (lane(req, res)) return;
    res.statusCode = 599;
    res.end('{}');
  });
  await new Promise<void>((resolve) => laneOnly.listen(0, '127.0.0.1', resolve));
  laneUrl = `http://127.0.0.1:${(laneOnly.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => laneOnly.close(resolve));
  await h.close();
});

function signed(secret = shop.webhookSecret) {
  const id = `msg_${randomUUID()}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const message = buyerMessage('b-lane', '您好，在吗？', Date.now());
  const body = JSON.stringify({ type: 'message', data: message.data });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook(secret, id, timestamp, body),
    },
  };
}

/** What a client sees of an answer, minus what differs by nature (date, a fresh request id). */
async function seen(
  path: string,
  init: { body: string; headers: Record<string, string> },
  base = h.url,
) {
  const res = await fetch(`${base}${path}`, { method: 'POST', ...init });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    retryAfter: res.headers.get('retry-after'),
    requestId: res.headers.get('x-request-id'),
    body: await res.json(),
  };
}

describe('the webhook lane', () => {
  it('answers a delivery as the Koa route does, and queues it', async () => {
    const lane = await seen(`/webhooks/generic/${shop.id}`, signed(), laneUrl);
    const koa = await seen(`/webhooks/generic/${shop.id}/`, signed());
    expect(lane.status).toBe(200);
    expect(lane.body).toMatchObject({ ok: true, queued: 1 });
    expect({ ...lane, requestId: null }).toEqual({ ...koa, requestId: null });
    expect(lane.type).toBe('application/json; charset=utf-8');
    // A fresh request id on each: a UUID when the caller sent none.
    expect(lane.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('takes only POSTs to the exact path, leaving the rest to Koa', async () => {
    for (const path of [`/webhooks/generic/${shop.id}/`, `/webhooks/generic`, `/v1/shops`]) {
      expect((await fetch(`${laneUrl}${path}`, { method: 'POST', body: '{}' })).status).toBe(599);
    }
    expect((await fetch(`${laneUrl}/webhooks/generic/${shop.id}`)).status).toBe(599);
    // The server itself answers those spellings through Koa.
    expect((await seen(`/webhooks/generic/${shop.id}/`, signed())).status).toBe(200);
  });

  it('keeps a sane X-Request-Id and replaces one that is not', async () => {
    const kept = signed();
    kept.headers = { ...kept.headers, 'x-request-id': 'relay-42.a_b' } as typeof kept.headers;
    expect((await seen(`/webhooks/generic/${shop.id}`, kept)).requestId).toBe('relay-42.a_b');
    const odd = signed();
    odd.headers = { ...odd.headers, 'x-request-id': 'a b<script>' } as typeof odd.headers;
    expect((await seen(`/webhooks/generic/${shop.id}`, odd)).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a bad signature, an unknown platform and an unknown shop in the one envelope', async () => {
    for (const [path, status, code] of [
      [`/webhooks/generic/${shop.id}`, 401, 'invalid_signature'],
      ['/webhooks/myspace/whatever', 404, 'not_found'],
      ['/webhooks/generic/shp_nobody', 404, 'not_found'],
      // Not valid percent-escaping: kept as sent, as the router keeps it.
      ['/webhooks/generic/%E0%A4%A', 404, 'not_found'],
    ] as const) {
      const forged = signed(`whsec_${Buffer.from('not the secret').toString('base64')}`);
      const lane = await seen(path, forged, laneUrl);
      const koa = await seen(`${path}/`, forged);
      expect(lane.status, path).toBe(status);
      expect(lane.body.error.code, path).toBe(code);
      expect({ ...lane, requestId: null }, path).toEqual({ ...koa, requestId: null });
    }
  });

  it('answers 404 for an unknown shop before its body arrives, so no stranger’s body is held', async () => {
    const { port } = new URL(laneUrl);
    // 4 MiB announced, 16 bytes sent: the answer must not wait for (and buffer) the rest.
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: Number(port),
        method: 'POST',
        path: '/webhooks/whatsapp/shp_nobody',
        headers: { 'content-type': 'application/json', 'content-length': String(4 * 1024 * 1024) },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (error) => {
        if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
      });
      req.write('{"object":"whats');
    });
    expect(status).toBe(404);
  }, 20_000);

  it('refuses a chunked body past the cap without reading it all, and closes the connection', async () => {
    const { port } = new URL(laneUrl);
    const answer = await new Promise<{
      status: number;
      headers: http.IncomingHttpHeaders;
      body: string;
    }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: `/webhooks/generic/${shop.id}` },
        (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      // No Content-Length: the cap is found while reading. 300 KiB against generic's cap.
      const chunk = 'x'.repeat(1024);
      for (let i = 0; i < 300; i++) req.write(chunk);
      req.end();
    });
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body).error.code).toBe('payload_too_large');
  });

  it('takes a client that leaves mid-body calmly: no error logged, the server carries on', async () => {
    const errors = vi.spyOn(h.container.services.logger, 'error');
    try {
      const { port } = new URL(h.url);
      const cut = (head: string, part: string) =>
        new Promise<void>((resolve) => {
          const socket = net.connect(Number(port), '127.0.0.1', () => {
            socket.write(
              `POST /webhooks/generic/${shop.id} HTTP/1.1\r\nHost: x\r\n${head}\r\n${part}`,
            );
            setTimeout(() => {
              socket.destroy();
              resolve();
            }, 30);
          });
        });
      for (let i = 0; i < 5; i++) await cut('Content-Length: 1000\r\n', '{"type":');
      await cut('Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(errors).not.toHaveBeenCalled();
      expect((await seen(`/webhooks/generic/${shop.id}`, signed())).status).toBe(200);
    } finally {
      errors.mockRestore();
    }
  });

  it('closes connections after answering once the process drains', async () => {
    const drained = await startHarness({ workers: false });
    try {
      const own = await drained.createGenericShop({ timezone: 'UTC' });
      drained.container.stopStreams();
      const id = `msg_${randomUUID()}`;
      const res = await drained.sendGeneric(own, buyerMessage('b-drain', 'hi', Date.now()), { id });
      expect(res.status).toBe(200);
      expect(res.headers.get('connection')).toBe('close');
      // The Koa route says the same.
      const koa = await fetch(`${drained.url}/webhooks/generic/${own.id}/`, {
        method: 'POST',
        body: '{}',
      });
      expect(koa.headers.get('connection')).toBe('close');
    } finally {
      await drained.close();
    }
  });
});

/** The lane alone on its own server, over an ingest that answers what a test says. */
async function laneOver(deliver: (query: Record<string, string | undefined>) => WebhookAnswer) {
  const services = {
    ...h.container.services,
    ingest: {
      target: async () => ({ limits: { maxBodyBytes: 1024, maxEvents: 1 } }),
      deliver: async (_target: unknown, request: { query: Record<string, string | undefined> }) =>
        deliver(request.query),
    },
  } as unknown as HttpServices;
  const lane = webhookLane(services);
  const server = http.createServer((req, res) => {
    if (!lane(req, res)) res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('the webhook lane, at its edges', () => {
  it('turns an answer Node refuses to write into the 500 envelope, and stays up', async () => {
    const served = await laneOver(() => ({
      status: 200,
      contentType: 'text/plain\r\nX-Evil: 1',
      body: 'ok',
      queued: 0,
      duplicates: 0,
    }));
    try {
      const res = await fetch(`${served.url}/webhooks/generic/s1`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(500);
      expect(res.headers.get('x-evil')).toBeNull();
      expect((await res.json()).error.code).toBe('internal_error');
      const again = await fetch(`${served.url}/webhooks/generic/s1`, {
        method: 'POST',
        body: '{}',
      });
      expect(again.status).toBe(500);
    } finally {
      await served.close();
    }
  });

  it('passes every query name on, the 1,001st too, as Koa does', async () => {
    let seenQuery: Record<string, string | undefined> = {};
    const served = await laneOver((query) => {
      seenQuery = query;
      return { status: 200, contentType: 'application/json', body: '{}', queued: 0, duplicates: 0 };
    });
    try {
      const names = Array.from({ length: 1000 }, (_, i) => `k${i}=v`).join('&');
      const res = await fetch(`${served.url}/webhooks/wechat/s1?${names}&signature=late`, {
        method: 'POST',
        body: '<xml/>',
      });
      expect(res.status).toBe(200);
      expect(seenQuery.signature).toBe('late');
      expect(Object.keys(seenQuery)).toHaveLength(1001);
    } finally {
      await served.close();
    }
  });

  it('refuses at once a body whose client left before reading began', async () => {
    let outcome: Promise<unknown> | undefined;
    const server = http.createServer((req, res) => {
      // As a route that checks credentials in Redis before it reads the body.
      setTimeout(() => {
        const started = performance.now();
        outcome = readBody(req, 1024, 3000).then(
          () => ({ read: true }),
          (error: { code?: string }) => ({ code: error.code, ms: performance.now() - started }),
        );
        void outcome.then(() => res.destroy());
      }, 150);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.write('POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a"');
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 30);
        });
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const result = (await outcome) as { code: string; ms: number };
      expect(result.code).toBe('request_aborted');
      expect(result.ms).toBeLessThan(500);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
