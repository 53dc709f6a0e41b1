import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIds } from '../../src/pipeline/queues';
import { signStandardWebhook } from '../../src/platforms/generic/standard-webhooks';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { WEBHOOK_RATE_PER_MINUTE: '1000' } });
});
afterAll(() => h.close());

const today = () => new Date().toISOString().slice(0, 7);

async function consultations(shopId: string): Promise<number> {
  const res = await h.api(`/v1/shops/${shopId}/usage?month=${today()}`);
  return res.body.consultations;
}

describe('POST /webhooks/generic/:shopId', () => {
  it('queues a signed message and counts the consultation', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const res = await h.sendGeneric(shop, buyerMessage('buyer-1', 'hello', Date.now()));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, queued: 1, duplicates: 0 });
    await eventually(async () => (await consultations(shop.id)) === 1);
  });

  it('answers a redelivery 200 and changes nothing', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const message = buyerMessage('buyer-1', 'hello', Date.now());
    const first = await h.sendGeneric(shop, message, { id: 'evt-1' });
    expect(first.status).toBe(200);
    await eventually(async () => (await consultations(shop.id)) === 1);
    // Long after the job is gone, the dedupe key still answers for the event.
    await h.container.queues.inbound.of(shop.id).clean(0, 1000, 'completed');
    const again = await h.sendGeneric(shop, message, { id: 'evt-1' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ ok: true, queued: 0, duplicates: 1 });
    expect(await consultations(shop.id)).toBe(1);
    // The dedupe key outlives BullMQ's job retention: at least 72 h.
    const ttl = await h.container.redis.ttl(h.container.keys.delivery(shop.id, 'generic', 'evt-1'));
    expect(ttl).toBeGreaterThan(71 * 3600);
    expect(await h.container.conversations.history(shop.id, 'buyer-1')).toHaveLength(1);
  });

  it("keeps neither the buyer's words nor name in an inbound job once it is done", async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const eventId = `evt-${randomUUID()}`;
    const message = buyerMessage('buyer-p', 'I live at 1 Hidden Road', Date.now(), {
      buyer: { id: 'buyer-p', name: 'Pat Hidden' },
    });
    expect((await h.sendGeneric(shop, message, { id: eventId })).status).toBe(200);
    // The message is stored, then its completed job is removed with the buyer's words and name.
    await eventually(
      async () => (await h.container.conversations.history(shop.id, 'buyer-p')).length === 1,
    );
    await eventually(
      async () =>
        (await h.container.queues.inbound.getJob(jobIds.inbound('generic', shop.id, eventId))) ===
        undefined,
    );
    expect(await h.container.queues.inbound.getJobCounts('failed')).toMatchObject({ failed: 0 });
    // The conversation itself keeps the message.
    const [stored] = await h.container.conversations.history(shop.id, 'buyer-p');
    expect(stored?.text).toBe('I live at 1 Hidden Road');
  });

  it('turns 100 concurrent deliveries of one event into one job and one count', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const message = buyerMessage('buyer-c', 'anyone there?', Date.now());
    const eventId = `evt-${randomUUID()}`;
    // Jobs processed: completed inbound jobs are removed at once, so count them as they complete.
    const processed = async () =>
      (await h.container.metrics.jobLatency.get()).values.find(
        (v) => v.metricName?.endsWith('_count') && v.labels.queue === 'inbound',
      )?.value ?? 0;
    const before = await processed();
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => h.sendGeneric(shop, message, { id: eventId })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200));
    await eventually(async () => (await consultations(shop.id)) === 1);
    await eventually(async () => (await processed()) - before >= 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await processed()) - before).toBe(1);
    const history = await h.container.conversations.history(shop.id, 'buyer-c');
    expect(history).toHaveLength(1);
  });

  it('counts distinct buyers, not messages', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    for (const buyer of ['a', 'b', 'a', 'c', 'b']) {
      expect((await h.sendGeneric(shop, buyerMessage(buyer, 'hi', Date.now()))).status).toBe(200);
    }
    await eventually(async () => (await consultations(shop.id)) === 3);
  });

  it('rejects a bad signature, a wrong secret and a missing one with 401 and queues nothing', async () => {
    const shop = await h.createGenericShop();
    const body = JSON.stringify(buyerMessage('b', 'hi', Date.now()).data);
    const payload = JSON.stringify({ type: 'message', data: JSON.parse(body) });
    const ts = Math.floor(Date.now() / 1000);
    const wrong = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const post = (headers: Record<string, string>, raw = payload) =>
      fetch(`${h.url}/webhooks/generic/${shop.id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: raw,
      });
    const good = {
      'webhook-id': 'x1',
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandardWebhook(shop.webhookSecret, 'x1', ts, payload),
    };
    expect((await post(good, payload.replace('hi', 'ho'))).status).toBe(401);
    expect(
      (await post({ ...good, 'webhook-signature': signStandardWebhook(wrong, 'x1', ts, payload) }))
        .status,
    ).toBe(401);
    const missing = await post({ 'webhook-id': 'x1', 'webhook-timestamp': String(ts) });
    expect(missing.status).toBe(401);
    expect((await missing.json()).error.code).toBe('missing_signature');
    const stale = ts - 301;
    expect(
      (
        await post({
          'webhook-id': 'x1',
          'webhook-timestamp': String(stale),
          'webhook-signature': signStandardWebhook(shop.webhookSecret, 'x1', stale, payload),
        })
      ).status,
    ).toBe(401);
    expect(await consultations(shop.id)).toBe(0);
  });

  it('answers 400 naming the field for a schema error, and for malformed JSON', async () => {
    const shop = await h.createGenericShop();
    const res = await h.sendGeneric(shop, {
      data: { messageId: 'm1', buyer: { id: 'b' }, from: 'buyer', text: 'hi', sentAt: 'yesterday' },
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.message).toMatch(/^data\.sentAt: /);
    expect(body.error.details.field).toBe('data.sentAt');

    const raw = '{"type": "message", "data": ';
    const ts = Math.floor(Date.now() / 1000);
    const malformed = await fetch(`${h.url}/webhooks/generic/${shop.id}`, {
      method: 'POST',
      headers: {
        'webhook-id': 'z',
        'webhook-timestamp': String(ts),
        'webhook-signature': signStandardWebhook(shop.webhookSecret, 'z', ts, raw),
      },
      body: raw,
    });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe('malformed_json');
  });

  it('answers 404 for an unknown shop, an unknown platform and a shop of another platform', async () => {
    const shop = await h.createGenericShop();
    expect(
      (
        await h.sendGeneric(
          { id: 'shp_nope', webhookSecret: shop.webhookSecret },
          buyerMessage('b', 'x', Date.now()),
        )
      ).status,
    ).toBe(404);
    const other = await fetch(`${h.url}/webhooks/telegram/${shop.id}`, {
      method: 'POST',
      body: '{}',
    });
    expect(other.status).toBe(404);
    const unknown = await fetch(`${h.url}/webhooks/myspace/${shop.id}`, {
      method: 'POST',
      body: '{}',
    });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('not_found');
  });

  it('answers 413 over 1 MiB without reading further', async () => {
    const shop = await h.createGenericShop();
    const res = await fetch(`${h.url}/webhooks/generic/${shop.id}`, {
      method: 'POST',
      body: 'x'.repeat(1024 * 1024 + 1),
    });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('payload_too_large');
  });

  it('queues order and rating events', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const paidAt = new Date().toISOString();
    expect(
      (
        await h.sendGeneric(shop, {
          type: 'order',
          data: { orderId: 'o-1', buyerId: 'b', amountFen: 12_345, paidAt },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await h.sendGeneric(shop, {
          type: 'rating',
          data: { buyerId: 'b', score: 5, ratedAt: paidAt },
        })
      ).status,
    ).toBe(200);
    const month = paidAt.slice(0, 7);
    await eventually(
      async () =>
        (await h.container.redis.hlen(h.container.commerce.ordersKey(shop.id, month))) === 1,
    );
    await eventually(
      async () =>
        (await h.container.redis.hlen(h.container.commerce.ratingsKey(shop.id, month))) === 1,
    );
  });
});

describe('per-shop rate limit', () => {
  let limited: Harness;
  beforeAll(async () => {
    limited = await startHarness({ env: { WEBHOOK_RATE_PER_MINUTE: '3' }, workers: false });
  });
  afterAll(() => limited.close());

  it('answers 429 with Retry-After past the rate, per shop', async () => {
    const a = await limited.createGenericShop();
    const b = await limited.createGenericShop();
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await limited.sendGeneric(a, buyerMessage('x', 'hi', Date.now()))).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const over = await limited.sendGeneric(a, buyerMessage('x', 'hi', Date.now()));
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await limited.sendGeneric(b, buyerMessage('x', 'hi', Date.now()))).status).toBe(200);
  });
});
