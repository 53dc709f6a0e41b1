import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { WIDGET_LIMITS } from '../../src/widget/widget-service';
import { eventually, type Harness, startHarness } from '../support/harness';
import { openEventStream } from '../support/sse';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const STORE = 'https://shop.example';

async function webShop(origins = [STORE], settings: Record<string, unknown> = {}) {
  const res = await h.api('/v1/shops', {
    body: {
      name: 'Tea House',
      platform: 'web',
      timezone: 'Asia/Shanghai',
      credentials: { allowedOrigins: origins },
      settings,
    },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; widgetKey: string; snippet: string; ownerKey: string };
}

/** A browser on `origin` talking to the widget API (what widget.js does). */
function buyer(widgetKey: string, origin = STORE, ip = '203.0.113.9') {
  let token = '';
  const call = (path: string, init: { method?: string; body?: unknown } = {}) =>
    h.api(`/v1/widget/${widgetKey}${path}`, {
      method: init.method,
      body: init.body,
      token: token || null!,
      headers: { origin, 'x-forwarded-for': ip },
    });
  return {
    call,
    get token() {
      return token;
    },
    async start(previous?: string) {
      const res = await call('/session', {
        method: 'POST',
        body: previous ? { token: previous } : {},
      });
      if (res.status === 201) token = res.body.token;
      return res;
    },
    send: (text: string, clientMessageId?: string) =>
      call('/messages', { body: { text, ...(clientMessageId ? { clientMessageId } : {}) } }),
  };
}

describe('web platform shops', () => {
  it('answers with a public widget key and the exact snippet to paste', async () => {
    const shop = await webShop();
    expect(shop.widgetKey).toMatch(/^wgt_[A-Za-z0-9_-]{20,}$/);
    expect((shop as unknown as { webhookUrl: unknown }).webhookUrl).toBeNull();
    expect(shop.snippet).toBe(
      `<script src="${h.container.services.publicBaseUrl}/widget.js" data-seatmate-key="${shop.widgetKey}" async></script>`,
    );
    expect(shop.snippet).toMatch(
      /^<script src="https?:\/\/[^"]+\/widget\.js" data-seatmate-key="wgt_/,
    );
    const owner = await h.api(`/v1/shops/${shop.id}`, { token: shop.ownerKey });
    expect(owner.body.snippet).toBe(shop.snippet);
  });

  it('refuses origins that are not bare http(s) origins', async () => {
    for (const bad of [
      'shop.example',
      'https://shop.example/',
      'javascript:alert(1)',
      'ftp://x.y',
    ]) {
      const res = await h.api('/v1/shops', {
        body: { name: 'X', platform: 'web', credentials: { allowedOrigins: [bad] } },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_credentials');
    }
  });

  it('serves widget.js small, cacheable and revalidatable', async () => {
    const res = await fetch(`${h.url}/widget.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const body = Buffer.from(await res.arrayBuffer());
    const { gzipSync } = await import('node:zlib');
    expect(gzipSync(body).length).toBeLessThan(40 * 1024);
    const again = await fetch(`${h.url}/widget.js`, {
      headers: { 'if-none-match': res.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
  });
});

describe('widget sessions and messages', () => {
  it('takes a buyer message through the pipeline: queued, counted, shown to the shop agent', async () => {
    const shop = await webShop();
    const agent = (await h.api('/v1/agents', { body: { name: 'Lin', shopIds: [shop.id] } })).body;
    const b = buyer(shop.widgetKey);
    const nobody = await b.start();
    expect(nobody.status).toBe(201);
    expect(nobody.headers.get('access-control-allow-origin')).toBe(STORE);
    // The shop's agent is signed out: the widget says so and still takes messages.
    expect(nobody.body).toMatchObject({ shop: { name: 'Tea House' }, agentsAvailable: false });
    const online = await h.api('/v1/agent/presence', {
      method: 'PUT',
      token: agent.token,
      body: { status: 'online' },
    });
    expect(online.status).toBe(200);
    const session = await b.start(nobody.body.token);
    expect(session.body).toMatchObject({ buyerId: nobody.body.buyerId, agentsAvailable: true });

    const sent = await b.send('您好，这款茶有小包装吗？');
    expect(sent.status).toBe(202);
    const conversation = conversationId(shop.id, session.body.buyerId);
    const seen = await eventually(async () => {
      const list = (await h.api('/v1/agent/conversations', { token: agent.token })).body
        .conversations as Array<{ conversationId: string; shop: { platform: string } }>;
      return list.find((c) => c.conversationId === conversation) ?? null;
    });
    expect(seen.shop.platform).toBe('web');
    const usage = await h.api(`/v1/shops/${shop.id}/usage`);
    expect(usage.body.consultations).toBe(1);
  });

  /** A buyer who wrote (seen by the shop's new agent) and has the widget's live stream open. */
  async function buyerWithLiveStream(
    shop: Awaited<ReturnType<typeof webShop>>,
    agentName: string,
    text: string,
  ) {
    const agent = (await h.api('/v1/agents', { body: { name: agentName, shopIds: [shop.id] } }))
      .body;
    const b = buyer(shop.widgetKey);
    const session = await b.start();
    await b.send(text);
    const conversation = conversationId(shop.id, session.body.buyerId);
    await eventually(async () => {
      const res = await h.api(`/v1/agent/conversations/${conversation}`, { token: agent.token });
      return res.status === 200 && res.body.lastMessages?.length ? res : null;
    });
    const live = await openEventStream(
      `${h.url}/v1/widget/${shop.widgetKey}/events`,
      b.token,
      undefined,
      { origin: STORE },
    );
    return { agent, b, buyerId: session.body.buyerId as string, conversation, live };
  }

  it("delivers an agent's reply live to the buyer's open widget, marks it sent, keeps it in history", async () => {
    const shop = await webShop();
    const { agent, b, conversation, live } = await buyerWithLiveStream(shop, 'Mei', '有货吗？');
    expect(live.status).toBe(200);
    const reply = await h.api(`/v1/agent/conversations/${conversation}/replies`, {
      token: agent.token,
      body: { text: '您好，有货的 <b>现货</b>' },
    });
    expect(reply.status).toBe(202);
    const pushed = await live.waitFor((e) => e.event === 'message');
    expect(pushed.data).toMatchObject({ id: reply.body.replyId, text: '您好，有货的 <b>现货</b>' });
    await live.close();
    const status = await eventually(async () => {
      const res = await h.api(
        `/v1/agent/conversations/${conversation}/replies/${reply.body.replyId}`,
        { token: agent.token },
      );
      return res.body.status === 'sent' ? res : null;
    });
    expect(status.body.status).toBe('sent');
    const history = await eventually(async () => {
      const res = await b.call('/messages');
      return res.body.messages?.length === 2 ? res.body.messages : null;
    });
    expect(history.map((m: { from: string }) => m.from)).toEqual(['buyer', 'agent']);
    expect(history[1]).not.toHaveProperty('agentName');
  });

  it('ends a live stream once the shop removes its origin: no reply reaches a removed origin', async () => {
    const shop = await webShop([STORE, 'https://b.example']);
    const { agent, buyerId, conversation, live } = await buyerWithLiveStream(shop, 'Wu', '在吗？');
    expect(live.status).toBe(200);
    const removed = await h.api(`/v1/shops/${shop.id}`, {
      method: 'PATCH',
      body: { credentials: { allowedOrigins: ['https://b.example'] } },
    });
    expect(removed.status).toBe(200);
    const reply = await h.api(`/v1/agent/conversations/${conversation}/replies`, {
      token: agent.token,
      body: { text: '在的' },
    });
    expect(reply.status).toBe(202);
    // The reply is still kept in the conversation (nothing lost); only the live push stops.
    await eventually(async () => {
      const res = await h.api(
        `/v1/agent/conversations/${conversation}/replies/${reply.body.replyId}`,
        { token: agent.token },
      );
      return res.body.status === 'sent' ? res : null;
    });
    const mailbox = h.container.services.widgetMailbox;
    await eventually(async () => mailbox.openCount(shop.id, buyerId).buyer === 0);
    expect(live.events.filter((e) => e.event === 'message')).toEqual([]);
    await live.close();
  });

  it('frees the live-stream slot of a widget that left while its stream was being opened', async () => {
    const shop = await webShop();
    const b = buyer(shop.widgetKey);
    const session = await b.start();
    // A page navigated away at once: the request arrives, the connection is already gone.
    for (let i = 0; i < WIDGET_LIMITS.streamsPerBuyer; i += 1)
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(Number(new URL(h.url).port), '127.0.0.1', () => {
          socket.write(
            `GET /v1/widget/${shop.widgetKey}/events HTTP/1.1\r\nHost: x\r\nOrigin: ${STORE}\r\nAuthorization: Bearer ${b.token}\r\n\r\n`,
          );
          socket.destroy();
          resolve();
        });
        socket.on('error', reject);
      });
    const mailbox = h.container.services.widgetMailbox;
    await new Promise((r) => setTimeout(r, 500));
    expect(mailbox.openCount(shop.id, session.body.buyerId).buyer).toBe(0);
    const live = await openEventStream(
      `${h.url}/v1/widget/${shop.widgetKey}/events`,
      b.token,
      undefined,
      { origin: STORE },
    );
    expect(live.status).toBe(200);
    await live.close();
  });

  it('keeps the same buyer when the browser comes back with its previous token', async () => {
    const shop = await webShop();
    const first = buyer(shop.widgetKey);
    const s1 = await first.start();
    const again = buyer(shop.widgetKey);
    const s2 = await again.start(s1.body.token);
    expect(s2.body.buyerId).toBe(s1.body.buyerId);
    const stranger = buyer(shop.widgetKey);
    const s3 = await stranger.start();
    expect(s3.body.buyerId).not.toBe(s1.body.buyerId);
  });

  it("refuses origins not on the shop's list, with no CORS grant", async () => {
    const shop = await webShop();
    const evil = buyer(shop.widgetKey, 'https://evil.example');
    const res = await evil.start();
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('origin_not_allowed');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${h.url}/v1/widget/${shop.widgetKey}/messages`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    const good = await fetch(`${h.url}/v1/widget/${shop.widgetKey}/messages`, {
      method: 'OPTIONS',
      headers: { origin: STORE, 'access-control-request-method': 'POST' },
    });
    expect(good.status).toBe(204);
    expect(good.headers.get('access-control-allow-origin')).toBe(STORE);
    expect(good.headers.get('access-control-allow-headers')).toMatch(/authorization/);
  });

  it("never lets one buyer's token read another shop's or another origin's conversation", async () => {
    const a = await webShop([STORE, 'https://b.example']);
    const other = await webShop();
    const b = buyer(a.widgetKey);
    await b.start();
    const wrongShop = await h.api(`/v1/widget/${other.widgetKey}/messages`, {
      token: b.token,
      headers: { origin: STORE },
    });
    expect(wrongShop.status).toBe(401);
    const wrongOrigin = await h.api(`/v1/widget/${a.widgetKey}/messages`, {
      token: b.token,
      headers: { origin: 'https://b.example' },
    });
    expect(wrongOrigin.status).toBe(401);
    const forged = await h.api(`/v1/widget/${a.widgetKey}/messages`, {
      token: `${b.token.slice(0, -4)}AAAA`,
      headers: { origin: STORE },
    });
    expect(forged.status).toBe(401);
    const unknownKey = await h.api('/v1/widget/wgt_nope_nope_nope/session', {
      body: {},
      token: null!,
      headers: { origin: STORE },
    });
    expect(unknownKey.status).toBe(404);
  });

  it('limits a flooding buyer with 429 and Retry-After, and other buyers still get through', async () => {
    const shop = await webShop();
    const flood = buyer(shop.widgetKey, STORE, '198.51.100.1');
    await flood.start();
    const statuses: number[] = [];
    for (let i = 0; i < WIDGET_LIMITS.messagesPerBuyer + 5; i += 1)
      statuses.push((await flood.send(`spam ${i}`)).status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(WIDGET_LIMITS.messagesPerBuyer);
    const refused = await flood.send('one more');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const calm = buyer(shop.widgetKey, STORE, '198.51.100.2');
    await calm.start();
    expect((await calm.send('hello')).status).toBe(202);
  });

  it('refuses empty and over-long messages and oversized bodies with clear errors', async () => {
    const shop = await webShop();
    const b = buyer(shop.widgetKey);
    await b.start();
    const empty = await b.send('   ');
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/text/);
    const long = await b.send('好'.repeat(2001));
    expect(long.status).toBe(400);
    const huge = await b.call('/messages', { body: { text: 'x'.repeat(40_000) } });
    expect(huge.status).toBe(413);
  });

  it('stores the page context the shop sets, for the agent', async () => {
    const shop = await webShop();
    const b = buyer(shop.widgetKey);
    const session = await b.start();
    const res = await b.call('/context', {
      body: { productId: 'tea-1', productName: '龙井', url: 'https://shop.example/p/tea-1' },
    });
    expect(res.status).toBe(204);
    const meta = await h.container.conversations.meta(shop.id, session.body.buyerId);
    expect(JSON.parse(meta.pageContext!)).toMatchObject({
      productId: 'tea-1',
      productName: '龙井',
    });
    const bad = await b.call('/context', { body: { url: 'javascript:alert(1)' } });
    expect(bad.status).toBe(400);
  });
});
