import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { REPLY_ORDER_MAX_HOLD_MS } from '../../src/pipeline/outbound-processor';
import { ManualClock } from '../../src/shared/clock';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

let h: Harness;
const clock = new ManualClock(Date.now());
beforeAll(async () => {
  // A refused send is tried again 400 ms later (long enough for a later reply to overtake it),
  // three times in all.
  h = await startHarness({ clock, env: { OUTBOUND_BACKOFF_MS: '400', OUTBOUND_ATTEMPTS: '3' } });
});
afterAll(() => h.close());

/**
 * A reply URL that refuses its first `refuseFirst` sends and every send of the texts in
 * `refuse` (503), never answers the texts in `hang`, and records the texts it accepted.
 */
async function bridge(rules: { refuseFirst?: number; refuse?: string[]; hang?: string[] }) {
  const accepted: string[] = [];
  const hanging = new Set<http.ServerResponse>();
  let seen = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen += 1;
      const { text } = (
        JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { text: string } }
      ).data;
      if (rules.hang?.includes(text)) return void hanging.add(res);
      if (seen <= (rules.refuseFirst ?? 0) || rules.refuse?.includes(text))
        return res.writeHead(503).end();
      accepted.push(text);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/replies`,
    accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const res of hanging) res.destroy();
        server.close(() => r());
      }),
  };
}

async function conversationWith(url: string, buyer: string) {
  const shop = await h.createGenericShop({ timezone: 'UTC', credentials: { replyUrl: url } });
  const agent = (await h.api('/v1/agents', { body: { name: 'Oda', shopIds: [shop.id] } })).body;
  await h.sendGeneric(shop, buyerMessage(buyer, 'is it waterproof?', clock.now()));
  await eventually(() => h.container.conversations.exists(shop.id, buyer));
  const id = conversationId(shop.id, buyer);
  const send = async (text: string) => {
    const sent = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: agent.token,
      body: { text },
    });
    expect(sent.status).toBe(202);
  };
  const replies = () => h.container.replies.recent(shop.id, id);
  // The platform's yes comes a moment before the reply is marked: wait until none is queued.
  const settled = () =>
    eventually(async () => {
      const now = await replies();
      return now.every((r) => r.status !== 'queued') ? now : null;
    });
  return { send, replies, settled };
}

describe('reply order', () => {
  it('delivers replies in the order the agent wrote them when the first send is refused for a moment', async () => {
    const platform = await bridge({ refuseFirst: 1 });
    const chat = await conversationWith(platform.url, 'orderly');
    const words = [
      'Yes, it is waterproof.',
      'It comes with a two-year warranty.',
      'Anything else?',
    ];
    for (const text of words) await chat.send(text);
    await eventually(async () => platform.accepted.length === words.length, 15_000);
    expect(platform.accepted).toEqual(words);
    const replies = await chat.settled();
    expect(replies.map((r) => r.text)).toEqual(words);
    expect(replies.map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    // The refused one used an attempt; the ones that waited behind it did not.
    expect(replies.map((r) => r.attempts)).toEqual([2, 1, 1]);
    await platform.close();
  });

  it('lets the next reply go once the one before it has failed for good', async () => {
    const platform = await bridge({ refuse: ['doomed'] });
    const chat = await conversationWith(platform.url, 'doomed-first');
    await chat.send('doomed');
    await chat.send('after');
    await eventually(async () => platform.accepted.length === 1, 15_000);
    expect(platform.accepted).toEqual(['after']);
    const settled = await chat.settled();
    expect(settled.map((r) => [r.text, r.status])).toEqual([
      ['doomed', 'failed'],
      ['after', 'sent'],
    ]);
    await platform.close();
  });

  it('holds a reply at most REPLY_ORDER_MAX_HOLD_MS behind one whose send hangs', async () => {
    const platform = await bridge({ hang: ['stuck'] });
    const chat = await conversationWith(platform.url, 'held');
    await chat.send('stuck');
    await chat.send('waiting');
    // The send of 'stuck' is under way (its platform does not answer): 'waiting' waits.
    await new Promise((r) => setTimeout(r, 1500));
    expect(platform.accepted).toEqual([]);
    // Past the longest hold, the agent's words reach the buyer while 'stuck' is still tried.
    clock.advance(REPLY_ORDER_MAX_HOLD_MS);
    await eventually(async () => platform.accepted.length === 1, 10_000);
    expect(platform.accepted).toEqual(['waiting']);
    expect((await chat.replies()).find((r) => r.text === 'stuck')?.status).toBe('queued');
    await platform.close();
  });
});
