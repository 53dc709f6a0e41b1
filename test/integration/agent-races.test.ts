import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';
import { openEventStream } from '../support/sse';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { SSE_HEARTBEAT_SECONDS: '1' } });
});
afterAll(() => h.close());

const eventsUrl = () => `${h.url}/v1/agent/events`;

async function agentFor(shopIds: string[], name = 'Ann') {
  return (await h.api('/v1/agents', { body: { name, shopIds } })).body as {
    id: string;
    token: string;
  };
}

/** The buyer's message is stored (so the conversation exists) without the worker offering it to anyone. */
async function buyerWrote(shopId: string, buyerId: string): Promise<void> {
  await h.container.conversations.append(shopId, buyerId, {
    id: `m-${buyerId}-${Date.now()}`,
    from: 'buyer',
    text: 'hello?',
    at: Date.now(),
  });
}

describe('probes', () => {
  it('probe: claim race when the holder left the shop', async () => {
    const shop = await h.createGenericShop();
    const [x, a, b] = [await agentFor([shop.id], 'X'), await agentFor([shop.id], 'A'), await agentFor([shop.id], 'B')];
    await buyerWrote(shop.id, 'race-buyer');
    const id = conversationId(shop.id, 'race-buyer');
    expect((await h.api(`/v1/agent/conversations/${id}/claim`, { method: 'POST', token: x.token })).status).toBe(200);
    await h.setPresence(a.token, 'online');
    await h.setPresence(b.token, 'online');
    console.log('delete', (await h.api(`/v1/agents/${x.id}`, { method: 'DELETE' })).status);
    const results = await Promise.all(
      [a, b].map((agent) => h.api(`/v1/agent/conversations/${id}/claim`, { method: 'POST', token: agent.token })),
    );
    console.log('claim race', results.map((r) => r.status), await h.container.assignment.ownerOf(id),
      await h.container.assignment.heldBy(a.id), await h.container.assignment.heldBy(b.id));
  });

  it('probe: future and huge Last-Event-ID', async () => {
    const shop = await h.createGenericShop();
    const agent = await agentFor([shop.id]);
    await h.setPresence(agent.token, 'online');
    const future = await openEventStream(eventsUrl(), agent.token, `${Date.now() + 3_600_000}-0`);
    console.log('future status', future.status);
    const huge = await fetch(eventsUrl(), { headers: { authorization: `Bearer ${agent.token}`, 'last-event-id': '99999999999999999999-0' } });
    console.log('huge status', huge.status, huge.status === 200 ? '' : await huge.text());
    await h.sendGeneric(shop, buyerMessage('fut-buyer', '你好', Date.now()));
    const got = await future.waitFor((e) => e.event === 'message', 3000).catch((e) => String(e));
    console.log('future got', got);
    await future.close();
  });

  it('probe: reissued token keeps its open stream', async () => {
    const shop = await h.createGenericShop();
    const agent = await agentFor([shop.id]);
    const stream = await openEventStream(eventsUrl(), agent.token);
    expect((await h.api(`/v1/agents/${agent.id}/token`, { method: 'POST' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2500));
    await h.sendGeneric(shop, buyerMessage('after-reissue', '你好', Date.now()));
    const got = await stream.waitFor((e) => e.event === 'message', 3000).then(() => 'got event', (e) => String(e));
    console.log('reissue', got);
    await stream.close();
  });

  it('probe: claim a closed conversation', async () => {
    const shop = await h.createGenericShop();
    const agent = await agentFor([shop.id]);
    await buyerWrote(shop.id, 'closed-buyer');
    const id = conversationId(shop.id, 'closed-buyer');
    console.log('close', (await h.api(`/v1/agent/conversations/${id}/close`, { method: 'POST', token: agent.token })).status);
    console.log('held after close', await h.container.assignment.heldBy(agent.id));
    const claim = await h.api(`/v1/agent/conversations/${id}/claim`, { method: 'POST', token: agent.token });
    console.log('claim closed', claim.status, claim.text, await h.container.assignment.heldBy(agent.id));
  });

  it('probe: odd inputs', async () => {
    const shop = await h.createGenericShop();
    const agent = await agentFor([shop.id]);
    for (const [path, init] of [
      ['/v1/agent/conversations/abc', {}],
      ['/v1/agent/conversations/%E0%A4%A', {}],
      ['/v1/agent/conversations/cnv_abc/replies', { body: '{bad' }],
      ['/v1/agent/conversations/cnv_abc/replies', { body: '"str"' }],
      ['/v1/agent/conversations/cnv_abc/replies', { body: 'null' }],
      ['/v1/agent/conversations/cnv_abc/transfer', { body: '[]' }],
      ['/v1/agent/presence', { method: 'PUT', body: '{"status":"busy"}' }],
      ['/v1/agent/stats?date=2026-13-45', {}],
      ['/v1/agent/colleagues', {}],
      ['/v1/agent/colleagues?shopId=a&shopId=b', {}],
      ['/v1/agent/stats?date=a&date=b', {}],
      ['/v1/agent/events?lastEventId=1-1&lastEventId=2-2', {}],
    ] as const) {
      const res = await h.api(path, { token: agent.token, ...init } as never);
      console.log('odd', path, res.status, res.text.slice(0, 150));
    }
  });
});
