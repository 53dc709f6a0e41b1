import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineTextEvent, signedLineDelivery } from '../fixtures/platforms/line';
import { buyerMessage, type Harness, startHarness } from '../support/harness';

// No workers: every accepted event stays queued, the state the counts were wrong in.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: false, env: { WEBHOOK_RATE_PER_MINUTE: '1000' } });
});
afterAll(() => h.close());

async function metric(platform: string, outcome: string): Promise<number> {
  const text = (await h.api('/metrics', { token: '' })).text;
  const line = text
    .split('\n')
    .find((l) =>
      l.startsWith(`seatmate_webhook_events_total{platform="${platform}",outcome="${outcome}"}`),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function waitingJobs(): Promise<number> {
  const counts = await h.container.queues.inbound.getJobCounts('waiting', 'active', 'delayed');
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

describe('webhook answers and metrics say what was queued and what was absorbed', () => {
  it('answers a redelivery of a still-queued event as a duplicate', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const message = buyerMessage('buyer-q', 'hello', Date.now());
    const before = await metric('generic', 'duplicate');
    const first = await h.sendGeneric(shop, message, { id: 'evt-queued' });
    expect(await first.json()).toEqual({ ok: true, queued: 1, duplicates: 0 });
    const again = await h.sendGeneric(shop, message, { id: 'evt-queued' });
    expect(await again.json()).toEqual({ ok: true, queued: 0, duplicates: 1 });
    expect((await metric('generic', 'duplicate')) - before).toBe(1);
  });

  it('across concurrent copies of one event, exactly one says queued', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const message = buyerMessage('buyer-c', 'anyone?', Date.now());
    const id = `evt-${randomUUID()}`;
    const jobsBefore = await waitingJobs();
    const queuedBefore = await metric('generic', 'queued');
    const answers = await Promise.all(
      Array.from({ length: 40 }, async () => (await h.sendGeneric(shop, message, { id })).json()),
    );
    const queued = answers.reduce((sum, a) => sum + a.queued, 0);
    const duplicates = answers.reduce((sum, a) => sum + a.duplicates, 0);
    expect({ queued, duplicates }).toEqual({ queued: 1, duplicates: 39 });
    expect((await waitingJobs()) - jobsBefore).toBe(1);
    expect((await metric('generic', 'queued')) - queuedBefore).toBe(1);
  });

  it('counts events of one LINE delivery that share a webhookEventId once', async () => {
    const res = await h.api('/v1/shops', {
      body: {
        name: 'line shop',
        platform: 'line',
        timezone: 'UTC',
        credentials: { channelSecret: 'line-secret', channelAccessToken: 't' },
      },
    });
    const events = Array.from({ length: 19 }, (_, i) =>
      lineTextEvent({ webhookEventId: '01HSHARED', messageId: `m${i}`, text: `part ${i}` }),
    );
    const jobsBefore = await waitingJobs();
    const queuedBefore = await metric('line', 'queued');
    const request = signedLineDelivery({ secret: 'line-secret', events });
    const answer = await fetch(`${h.url}/webhooks/line/${res.body.id}`, {
      method: 'POST',
      headers: request.headers,
      body: new Uint8Array(request.rawBody),
    });
    expect(await answer.json()).toEqual({ ok: true, queued: 1, duplicates: 18 });
    expect((await waitingJobs()) - jobsBefore).toBe(1);
    expect((await metric('line', 'queued')) - queuedBefore).toBe(1);
  });
});
