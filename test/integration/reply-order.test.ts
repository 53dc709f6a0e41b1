import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { REPLY_ORDER_HOLD_MS } from '../../src/pipeline/outbound-processor';
import { ManualClock } from '../../src/shared/clock';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

let h: Harness;
const clock = new ManualClock(Date.now());
beforeAll(async () => {
  // A refused send is tried again 400 ms later: long enough for a later reply to overtake it.
  h = await startHarness({ clock, env: { OUTBOUND_BACKOFF_MS: '400' } });
});
afterAll(() => h.close());

/**
 * A reply URL that refuses its first `refusals` sends (503), and every send of the texts in
 * `refused`, and records the texts it accepted.
 */
async function flakyReplyUrl(refusals: number, refused: readonly string[] = []) {
  const accepted: string[] = [];
  let seen = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen += 1;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { text: string } };
      if (seen <= refusals || refused.includes(body.data.text)) return res.writeHead(503).end();
      accepted.push(body.data.text);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/replies`,
    accepted,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('reply order', () => {
  it('delivers replies in the order the agent wrote them when the first send is refused for a moment', async () => {
    const bridge = await flakyReplyUrl(1);
    const shop = await h.createGenericShop({
      timezone: 'UTC',
      credentials: { replyUrl: bridge.url },
    });
    const agent = (await h.api('/v1/agents', { body: { name: 'Oda', shopIds: [shop.id] } })).body;
    await h.sendGeneric(shop, buyerMessage('orderly', 'is it waterproof?', Date.now()));
    await eventually(() => h.container.conversations.exists(shop.id, 'orderly'));
    const id = conversationId(shop.id, 'orderly');
    const words = [
      'Yes, it is waterproof.',
      'It also comes with a two-year warranty.',
      'Anything else?',
    ];
    for (const text of words) {
      const sent = await h.api(`/v1/agent/conversations/${id}/replies`, {
        token: agent.token,
        body: { text },
      });
      expect(sent.status).toBe(202);
    }
    await eventually(async () => bridge.accepted.length === words.length, 15_000);
    expect(bridge.accepted).toEqual(words);
    const replies = await h.container.replies.recent(shop.id, id);
    expect(replies.map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    // The refused one used an attempt; the ones that waited behind it did not.
    expect(replies.map((r) => r.attempts)).toEqual([2, 1, 1]);
    await bridge.close();
  });

  it('stops holding later replies behind one refused for longer than the hold', async () => {
    const bridge = await flakyReplyUrl(0, ['stuck']);
    const shop = await h.createGenericShop({
      timezone: 'UTC',
      credentials: { replyUrl: bridge.url },
    });
    const agent = (await h.api('/v1/agents', { body: { name: 'Ivo', shopIds: [shop.id] } })).body;
    await h.sendGeneric(shop, buyerMessage('held', 'hello?', clock.now()));
    await eventually(() => h.container.conversations.exists(shop.id, 'held'));
    const id = conversationId(shop.id, 'held');
    const send = (text: string) =>
      h.api(`/v1/agent/conversations/${id}/replies`, { token: agent.token, body: { text } });
    expect((await send('stuck')).status).toBe(202);
    // Within the hold, the next reply waits behind the refused one.
    expect((await send('early')).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1500));
    expect(bridge.accepted).toEqual([]);
    // Past it, the agent's words reach the buyer while the refused one is still being retried.
    clock.advance(REPLY_ORDER_HOLD_MS);
    expect((await send('late')).status).toBe(202);
    await eventually(async () => bridge.accepted.length === 2, 10_000);
    expect(bridge.accepted.sort()).toEqual(['early', 'late']);
    const stuck = (await h.container.replies.recent(shop.id, id)).find((r) => r.text === 'stuck');
    expect(stuck?.status).toBe('queued');
    await bridge.close();
  });
});
