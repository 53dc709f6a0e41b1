import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

/** A reply URL on loopback that answers whatever the test says, and counts what it got. */
async function standIn(answer: (res: http.ServerResponse) => void) {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    req.resume();
    req.on('end', () => answer(res));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { OUTBOUND_ATTEMPTS: '1', OUTBOUND_BACKOFF_MS: '10' } });
});
afterAll(() => h.close());

async function replyThrough(replyUrl: string) {
  const shop = await h.createGenericShop({ timezone: 'UTC', credentials: { replyUrl } });
  const agent = (await h.api('/v1/agents', { body: { name: 'Jo', shopIds: [shop.id] } })).body;
  await h.sendGeneric(shop, buyerMessage('b-1', 'hello', Date.now()));
  await eventually(
    async () => (await h.container.conversations.state(shop.id, 'b-1')).waitingSince,
  );
  const id = conversationId(shop.id, 'b-1');
  const sent = await h.api(`/v1/agent/conversations/${id}/replies`, {
    token: agent.token,
    body: { text: 'Thanks, checking now.' },
  });
  expect(sent.status).toBe(202);
  const final = await eventually(async () => {
    const res = await h.api(`/v1/agent/conversations/${id}/replies/${sent.body.replyId}`, {
      token: agent.token,
    });
    return res.body.status !== 'queued' ? res.body : null;
  });
  const usage = await h.api(
    `/v1/shops/${shop.id}/usage?month=${new Date().toISOString().slice(0, 7)}`,
  );
  return { reply: final, receptions: usage.body.receptions as number, shop };
}

describe('outbound URLs (SSRF)', () => {
  it.each([
    'file:///etc/passwd',
    'data:application/json,{}',
    'gopher://127.0.0.1:6379/_FLUSHALL',
    'http://shop.example.com/replies',
    'https://169.254.169.254/latest/meta-data/',
    'https://0x7f.2/replies', // 127.0.0.2: 127.0.0.1 itself is a dev host in tests
    'https://[::ffff:127.0.0.1]/replies',
  ])('refuses replyUrl %s when the shop is saved, with a clear 400', async (replyUrl) => {
    const created = await h.api('/v1/shops', {
      body: { name: 'S', platform: 'generic', timezone: 'UTC', credentials: { replyUrl } },
    });
    expect(created.status).toBe(400);
    expect(created.body.error.code).toBe('invalid_credentials');
    expect(created.body.error.message).toMatch(/^credentials\.replyUrl: /);
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const patched = await h.api(`/v1/shops/${shop.id}`, {
      method: 'PATCH',
      body: { credentials: { replyUrl } },
    });
    expect(patched.status).toBe(400);
  });

  it('refuses at send time a name that resolves to loopback, and counts no reception', async () => {
    const { reply, receptions } = await replyThrough('https://localhost:9/replies');
    expect(reply.status).toBe('failed');
    expect(reply.error).toBe('reply URL: destination refused (address_not_allowed)');
    expect(receptions).toBe(0);
  });

  it('does not follow a redirect, and a redirect is not a delivery', async () => {
    const target = await standIn((res) => res.writeHead(200).end('{}'));
    const bouncer = await standIn((res) =>
      res.writeHead(302, { location: `${target.url}/internal` }).end(),
    );
    try {
      const { reply, receptions } = await replyThrough(`${bouncer.url}/replies`);
      expect(reply.status).toBe('failed');
      expect(reply.error).toBe('reply URL answered HTTP 302');
      expect(bouncer.hits()).toBe(1);
      expect(target.hits()).toBe(0);
      expect(receptions).toBe(0);
    } finally {
      await Promise.all([target.close(), bouncer.close()]);
    }
  });

  it("never shows the agent what the reply URL's server answered", async () => {
    const leaky = await standIn((res) =>
      res.writeHead(400, { 'content-type': 'text/plain' }).end('db password = hunter2'),
    );
    try {
      const { reply } = await replyThrough(`${leaky.url}/replies`);
      expect(reply.status).toBe('failed');
      expect(reply.error).toBe('reply URL answered HTTP 400');
      expect(JSON.stringify(reply)).not.toContain('hunter2');
    } finally {
      await leaky.close();
    }
  });
});
