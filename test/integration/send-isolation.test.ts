import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { WORKER_CONCURRENCY: '3', OUTBOUND_SENDS_PER_SHOP: '1' } });
});
afterAll(() => h.close());

/** A reply URL that accepts the connection and never answers (until closed). */
async function hangingReplyUrl() {
  const open = new Set<http.ServerResponse>();
  let received = 0;
  const server = http.createServer((req, res) => {
    received += 1;
    req.resume();
    open.add(res);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/replies`,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.close(() => resolve());
      }),
  };
}

async function okReplyUrl() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end('{}'));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/replies`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function shopWithBuyers(replyUrl: string, buyers: string[]) {
  const shop = await h.createGenericShop({ timezone: 'UTC', credentials: { replyUrl } });
  const agent = (await h.api('/v1/agents', { body: { name: 'Jo', shopIds: [shop.id] } })).body;
  for (const buyer of buyers) await h.sendGeneric(shop, buyerMessage(buyer, 'hi', Date.now()));
  await eventually(async () => {
    for (const buyer of buyers)
      if (!(await h.container.conversations.exists(shop.id, buyer))) return false;
    return true;
  });
  return { shop, agent };
}

describe('outbound send slots per shop', () => {
  it("keeps a shop whose reply URL hangs from holding up another shop's reply", async () => {
    const slow = await hangingReplyUrl();
    const fast = await okReplyUrl();
    try {
      const buyers = ['s-1', 's-2', 's-3', 's-4', 's-5'];
      const stuck = await shopWithBuyers(slow.url, buyers);
      const healthy = await shopWithBuyers(fast.url, ['f-1']);
      for (const buyer of buyers) {
        const res = await h.api(
          `/v1/agent/conversations/${conversationId(stuck.shop.id, buyer)}/replies`,
          { token: stuck.agent.token, body: { text: 'one moment' } },
        );
        expect(res.status).toBe(202);
      }
      await eventually(async () => slow.received() >= 1);
      const id = conversationId(healthy.shop.id, 'f-1');
      const sent = await h.api(`/v1/agent/conversations/${id}/replies`, {
        token: healthy.agent.token,
        body: { text: 'Hello!' },
      });
      // Five hanging replies on three workers: without a per-shop cap all three would be
      // stuck for the whole send timeout; with one slot per shop the healthy reply goes now.
      await eventually(async () => {
        const res = await h.api(`/v1/agent/conversations/${id}/replies/${sent.body.replyId}`, {
          token: healthy.agent.token,
        });
        return res.body.status === 'sent';
      }, 8000);
      expect(slow.received()).toBe(1);
    } finally {
      await Promise.all([slow.close(), fast.close()]);
    }
  }, 30_000);
});
