import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';
import { openEventStream } from '../support/sse';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { CONVERSATION_IDLE_SECONDS: '1' } });
});
afterAll(() => h.close());
afterEach(() => nock.cleanAll());

describe('idle close', () => {
  it('does not close a conversation the buyer wrote to after the reply, even when the close comes right after', async () => {
    const shop = await h.createGenericShop();
    const answeredAt = Date.now() - 5000;
    await h.container.conversations.append(shop.id, 'racer', {
      id: 'r1',
      from: 'agent',
      text: 'hi',
      at: answeredAt,
    });
    await h.container.conversations.append(shop.id, 'racer', {
      id: 'b2',
      from: 'buyer',
      text: 'wait!',
      at: answeredAt + 1000,
    });
    expect(
      await h.container.conversations.closeIfQuietSince(shop.id, 'racer', answeredAt, Date.now()),
    ).toBe(false);
    expect(await h.container.conversations.activeBuyers(shop.id)).toContain('racer');
  });

  it('closes an answered conversation that stays quiet, freeing its agent, and reopens it when the buyer writes', async () => {
    const shop = await h.createGenericShop({
      credentials: { replyUrl: 'http://bridge.test/replies' },
    });
    const agent = (await h.api('/v1/agents', { body: { name: 'Kai', shopIds: [shop.id] } })).body;
    await h.setPresence(agent.token, 'online');
    const id = conversationId(shop.id, 'quiet');
    nock('http://bridge.test').post('/replies').reply(200, {});
    await h.sendGeneric(shop, buyerMessage('quiet', 'hi', Date.now()));
    await eventually(async () => (await h.container.assignment.ownerOf(id)) === agent.id);
    expect(await h.container.assignment.openCount(agent.id)).toBe(1);
    const stream = await openEventStream(`${h.url}/v1/agent/events`, agent.token);

    const sent = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: agent.token,
      body: { text: '您好' },
    });
    expect(sent.status).toBe(202);
    const closed = await stream.waitFor(
      (e) => e.event === 'conversation' && e.data.change === 'closed',
      8000,
    );
    expect(closed.data).toMatchObject({ conversationId: id, reason: 'idle' });
    expect(await h.container.assignment.openCount(agent.id)).toBe(0);
    expect(
      (await h.api('/v1/agent/conversations', { token: agent.token })).body.conversations,
    ).toEqual([]);

    await h.sendGeneric(shop, buyerMessage('quiet', 'one more question', Date.now()));
    await eventually(
      async () =>
        (await h.api('/v1/agent/conversations', { token: agent.token })).body.conversations
          .length === 1,
    );
    await stream.close();
  });

  it('keeps a conversation open while the buyer is waiting', async () => {
    const shop = await h.createGenericShop({
      credentials: { replyUrl: 'http://bridge.test/replies' },
    });
    const agent = (await h.api('/v1/agents', { body: { name: 'Lee', shopIds: [shop.id] } })).body;
    await h.setPresence(agent.token, 'online');
    const id = conversationId(shop.id, 'chatty');
    nock('http://bridge.test').post('/replies').reply(200, {});
    await h.sendGeneric(shop, buyerMessage('chatty', 'hi', Date.now()));
    await eventually(async () => (await h.container.assignment.ownerOf(id)) === agent.id);
    const stream = await openEventStream(`${h.url}/v1/agent/events`, agent.token);
    const sent = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: agent.token,
      body: { text: '您好' },
    });
    await eventually(
      async () =>
        (
          await h.api(`/v1/agent/conversations/${id}/replies/${sent.body.replyId}`, {
            token: agent.token,
          })
        ).body.status === 'sent',
    );
    // The buyer answers at once: the idle close armed by the reply must not fire.
    await h.sendGeneric(shop, buyerMessage('chatty', 'and the price?', Date.now()));
    await new Promise((r) => setTimeout(r, 1800));
    expect(
      stream.events.filter((e) => e.event === 'conversation' && e.data.change === 'closed'),
    ).toEqual([]);
    await stream.close();
    const list = (await h.api('/v1/agent/conversations', { token: agent.token })).body
      .conversations;
    expect(list.map((c: { conversationId: string }) => c.conversationId)).toEqual([id]);
    expect(await h.container.assignment.ownerOf(id)).toBe(agent.id);
  });
});
