import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { ManualClock } from '../../src/shared/clock';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';
import { openEventStream } from '../support/sse';

type Agent = { id: string; token: string; name: string };

let h: Harness;
let fast: Harness;
const clock = new ManualClock(Date.now());
beforeAll(async () => {
  [h, fast] = await Promise.all([
    startHarness({ clock }),
    // Agents go offline one second after their last stream closes.
    startHarness({ env: { AGENT_OFFLINE_AFTER_SECONDS: '1', SSE_HEARTBEAT_SECONDS: '1' } }),
  ]);
});
afterAll(() => Promise.all([h.close(), fast.close()]));

async function shopWith(harness: Harness, names: string[], input: Record<string, unknown> = {}) {
  const shop = await harness.createGenericShop(input);
  const agents: Agent[] = [];
  for (const name of names)
    agents.push((await harness.api('/v1/agents', { body: { name, shopIds: [shop.id] } })).body);
  return { shop, agents };
}

const ownerOf = (harness: Harness, shopId: string, buyer: string) =>
  harness.container.assignment.ownerOf(conversationId(shopId, buyer));

describe('presence', () => {
  it('is stated with PUT /v1/agent/presence and shown by /v1/agent/me; a new agent is offline', async () => {
    const { agents } = await shopWith(h, ['Amy']);
    const me = () => h.api('/v1/agent/me', { token: agents[0]!.token });
    expect((await me()).body.status).toBe('offline');
    for (const status of ['online', 'away', 'offline', 'online'] as const) {
      const res = await h.api('/v1/agent/presence', {
        method: 'PUT',
        token: agents[0]!.token,
        body: { status },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: agents[0]!.id, status });
      expect((await me()).body.status).toBe(status);
    }
    const bad = await h.api('/v1/agent/presence', {
      method: 'PUT',
      token: agents[0]!.token,
      body: { status: 'busy' },
    });
    expect(bad.status).toBe(400);
    // The operator is not an agent.
    expect(
      (await h.api('/v1/agent/presence', { method: 'PUT', body: { status: 'online' } })).status,
    ).toBe(403);
  });

  it('offers new buyers only to online agents, least loaded first', async () => {
    const { shop, agents } = await shopWith(h, ['Amy', 'Bo', 'Cy']);
    const [amy, bo, cy] = agents as [Agent, Agent, Agent];
    await h.setPresence(amy.token, 'online');
    await h.setPresence(bo.token, 'online');
    await h.setPresence(cy.token, 'away');
    for (const buyer of ['p1', 'p2', 'p3', 'p4'])
      await h.sendGeneric(shop, buyerMessage(buyer, '在吗', clock.now()));
    const owners = await eventually(async () => {
      const all = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((b) => ownerOf(h, shop.id, b)));
      return all.every(Boolean) ? all : null;
    });
    expect(owners.filter((o) => o === amy.id)).toHaveLength(2);
    expect(owners.filter((o) => o === bo.id)).toHaveLength(2);
    expect(owners).not.toContain(cy.id);
  });

  it('hands an away agent’s waiting buyers to an online colleague, telling both', async () => {
    const { shop, agents } = await shopWith(h, ['Amy', 'Bo']);
    const [amy, bo] = agents as [Agent, Agent];
    await h.setPresence(amy.token, 'online');
    await h.sendGeneric(shop, buyerMessage('w1', '这款有货吗', clock.now()));
    await eventually(async () => (await ownerOf(h, shop.id, 'w1')) === amy.id);
    await h.setPresence(bo.token, 'online');
    const amyStream = await openEventStream(`${h.url}/v1/agent/events`, amy.token);
    const boStream = await openEventStream(`${h.url}/v1/agent/events`, bo.token);

    await h.setPresence(amy.token, 'away');
    expect(await ownerOf(h, shop.id, 'w1')).toBe(bo.id);
    const handedOver = (e: { event: string; data: any }) =>
      e.event === 'conversation' && e.data.change === 'assigned' && e.data.agentId === bo.id;
    for (const stream of [amyStream, boStream]) {
      const event = await stream.waitFor(handedOver);
      expect(event.data).toMatchObject({
        shopId: shop.id,
        conversationId: conversationId(shop.id, 'w1'),
        fromAgentId: amy.id,
        reason: 'away',
      });
    }
    // Bo sees Amy's presence change for the shop they share.
    const presence = await boStream.waitFor(
      (e) => e.event === 'presence' && e.data.agentId === amy.id && e.data.status === 'away',
    );
    expect(presence.data).toEqual({
      shopIds: [shop.id],
      agentId: amy.id,
      name: 'Amy',
      status: 'away',
    });
    await Promise.all([amyStream.close(), boStream.close()]);
  });

  it('keeps an answered conversation with its agent when they go away', async () => {
    const { shop, agents } = await shopWith(h, ['Amy', 'Bo']);
    const [amy, bo] = agents as [Agent, Agent];
    await h.setPresence(amy.token, 'online');
    await h.setPresence(bo.token, 'online');
    const id = conversationId(shop.id, 'done');
    await h.container.conversations.append(shop.id, 'done', {
      id: 'd1',
      from: 'buyer',
      text: 'hi',
      at: clock.now() - 2000,
    });
    await h.container.conversations.append(shop.id, 'done', {
      id: 'd2',
      from: 'agent',
      text: 'hello',
      at: clock.now() - 1000,
    });
    await h.container.assignment.claim(id, amy.id);
    await h.setPresence(amy.token, 'away');
    expect(await h.container.assignment.ownerOf(id)).toBe(amy.id);
  });

  it('leaves buyers unassigned while nobody is online; the first agent to come online gets them', async () => {
    const { shop, agents } = await shopWith(h, ['Amy', 'Bo']);
    const [amy, bo] = agents as [Agent, Agent];
    await h.setPresence(amy.token, 'online');
    await h.sendGeneric(shop, buyerMessage('n1', '你好', clock.now()));
    await eventually(async () => (await ownerOf(h, shop.id, 'n1')) === amy.id);
    await h.setPresence(amy.token, 'offline');
    expect(await ownerOf(h, shop.id, 'n1')).toBeNull();
    await h.sendGeneric(shop, buyerMessage('n2', '有人吗', clock.now()));
    const listed = await eventually(async () => {
      const list = (await h.api('/v1/agent/conversations', { token: bo.token })).body.conversations;
      return list.length === 2 ? list : null;
    });
    expect(listed.every((c: { assignedTo: unknown }) => c.assignedTo === null)).toBe(true);

    await h.setPresence(bo.token, 'online');
    expect(await ownerOf(h, shop.id, 'n1')).toBe(bo.id);
    expect(await ownerOf(h, shop.id, 'n2')).toBe(bo.id);
  });

  it('takes an agent offline once their last stream has been closed for AGENT_OFFLINE_AFTER_SECONDS, handing buyers over', async () => {
    const { shop, agents } = await shopWith(fast, ['Amy', 'Bo']);
    const [amy, bo] = agents as [Agent, Agent];
    const amyStream = await openEventStream(`${fast.url}/v1/agent/events`, amy.token);
    expect((await fast.api('/v1/agent/me', { token: amy.token })).body.status).toBe('online');
    await fast.sendGeneric(shop, buyerMessage('s1', '这个怎么卖', Date.now()));
    await eventually(async () => (await ownerOf(fast, shop.id, 's1')) === amy.id);
    const boStream = await openEventStream(`${fast.url}/v1/agent/events`, bo.token);

    // A console that stays open keeps Amy online well past the offline delay.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await fast.api('/v1/agent/me', { token: amy.token })).body.status).toBe('online');
    expect(await ownerOf(fast, shop.id, 's1')).toBe(amy.id);

    await amyStream.close();
    const moved = await boStream.waitFor(
      (e) => e.event === 'conversation' && e.data.change === 'assigned' && e.data.agentId === bo.id,
      8000,
    );
    expect(moved.data).toMatchObject({ fromAgentId: amy.id, reason: 'offline' });
    expect(await ownerOf(fast, shop.id, 's1')).toBe(bo.id);
    expect((await fast.api('/v1/agent/me', { token: amy.token })).body.status).toBe('offline');
    await boStream.waitFor(
      (e) => e.event === 'presence' && e.data.agentId === amy.id && e.data.status === 'offline',
    );
    await boStream.close();
  });
});

describe('slow-reply takeover', () => {
  it('lets an online colleague take a buyer who waited past slowReplySeconds, not before', async () => {
    const { shop, agents } = await shopWith(h, ['Amy', 'Bo'], {
      settings: { slowReplySeconds: 30 },
    });
    const [amy, bo] = agents as [Agent, Agent];
    await h.setPresence(amy.token, 'online');
    await h.sendGeneric(shop, buyerMessage('slow', '怎么没人回', clock.now()));
    await eventually(async () => (await ownerOf(h, shop.id, 'slow')) === amy.id);
    await h.setPresence(bo.token, 'online');
    const id = conversationId(shop.id, 'slow');
    const claim = () =>
      h.api(`/v1/agent/conversations/${id}/claim`, { method: 'POST', token: bo.token });

    const early = await claim();
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('conversation_taken');

    clock.advance(31_000);
    await h.setPresence(amy.token, 'online');
    // An agent who is away may not take it either.
    await h.setPresence(bo.token, 'away');
    expect((await claim()).status).toBe(409);
    await h.setPresence(bo.token, 'online');
    const stream = await openEventStream(`${h.url}/v1/agent/events`, amy.token);
    expect((await claim()).status).toBe(200);
    expect(await ownerOf(h, shop.id, 'slow')).toBe(bo.id);
    const event = await stream.waitFor(
      (e) => e.event === 'conversation' && e.data.change === 'assigned',
    );
    expect(event.data).toMatchObject({ agentId: bo.id, fromAgentId: amy.id, reason: 'slow_reply' });
    await stream.close();
  });
});

describe('transfer', () => {
  it('lets only the holder transfer, only to an agent of the shop, and tells the receiver with the note', async () => {
    const { shop, agents } = await shopWith(h, ['Amy', 'Bo']);
    const [amy, bo] = agents as [Agent, Agent];
    const other = await shopWith(h, ['Zed']);
    await h.setPresence(amy.token, 'online');
    await h.sendGeneric(shop, buyerMessage('t1', '我要退货', clock.now()));
    await eventually(async () => (await ownerOf(h, shop.id, 't1')) === amy.id);
    const id = conversationId(shop.id, 't1');
    const transfer = (token: string, body: unknown) =>
      h.api(`/v1/agent/conversations/${id}/transfer`, { token, body });

    const notHolder = await transfer(bo.token, { toAgentId: bo.id });
    expect(notHolder.status).toBe(409);
    expect(notHolder.body.error.code).toBe('not_holder');
    expect((await transfer(amy.token, { toAgentId: other.agents[0]!.id })).status).toBe(404);
    expect((await transfer(amy.token, { toAgentId: 'agt_nobody' })).status).toBe(404);
    expect((await transfer(amy.token, { toAgentId: amy.id })).status).toBe(400);
    expect((await transfer(amy.token, { toAgentId: bo.id, note: 'x'.repeat(501) })).status).toBe(
      400,
    );
    // Another shop's agent cannot even see the conversation.
    expect((await transfer(other.agents[0]!.token, { toAgentId: bo.id })).status).toBe(404);

    const boStream = await openEventStream(`${h.url}/v1/agent/events`, bo.token);
    const done = await transfer(amy.token, { toAgentId: bo.id, note: '买家要换货，已核实订单' });
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ conversationId: id, agentId: bo.id, status: 'transferred' });
    expect(await ownerOf(h, shop.id, 't1')).toBe(bo.id);
    const event = await boStream.waitFor(
      (e) => e.event === 'conversation' && e.data.change === 'transferred',
    );
    expect(event.data).toEqual({
      shopId: shop.id,
      conversationId: id,
      change: 'transferred',
      agentId: bo.id,
      fromAgentId: amy.id,
      fromAgentName: 'Amy',
      note: '买家要换货，已核实订单',
    });
    expect(await h.container.assignment.heldBy(amy.id)).not.toContain(id);
    // Amy no longer holds it, so she cannot transfer it again.
    expect((await transfer(amy.token, { toAgentId: bo.id })).status).toBe(409);
    await boStream.close();
  });

  it('lists the colleagues of a shop with their presence, online first', async () => {
    const { shop, agents } = await shopWith(h, ['Amy', 'Bo', 'Cy']);
    const [amy, bo, cy] = agents as [Agent, Agent, Agent];
    const other = await shopWith(h, ['Zed']);
    await h.setPresence(cy.token, 'online');
    await h.setPresence(bo.token, 'away');
    const res = await h.api(`/v1/agent/colleagues?shopId=${shop.id}`, { token: amy.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      shopId: shop.id,
      colleagues: [
        { id: cy.id, name: 'Cy', status: 'online', openConversations: 0 },
        { id: bo.id, name: 'Bo', status: 'away', openConversations: 0 },
      ],
    });
    expect(
      (await h.api(`/v1/agent/colleagues?shopId=${other.shop.id}`, { token: amy.token })).status,
    ).toBe(404);
    expect((await h.api('/v1/agent/colleagues', { token: amy.token })).status).toBe(400);
  });
});
