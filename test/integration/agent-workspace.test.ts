import { createHash } from 'node:crypto';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { shopsOfEvent } from '../../src/agents/live-events';
import { conversationId } from '../../src/conversations/conversation-store';
import { ManualClock } from '../../src/shared/clock';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';
import { openEventStream } from '../support/sse';

/** The buyer's message is stored (so the conversation exists) without the worker offering it to anyone. */
async function buyerWrote(shopId: string, buyerId: string): Promise<void> {
  await h.container.conversations.append(shopId, buyerId, {
    id: `m-${buyerId}-${Date.now()}`,
    from: 'buyer',
    text: 'hello?',
    at: Date.now(),
  });
}

let h: Harness;
const clock = new ManualClock(Date.now());
beforeAll(async () => {
  h = await startHarness({
    clock,
    env: {
      AGENT_MAX_OPEN_CONVERSATIONS: '2',
      OUTBOUND_ATTEMPTS: '3',
      OUTBOUND_BACKOFF_MS: '20',
      SSE_HEARTBEAT_SECONDS: '1',
    },
  });
});
afterAll(() => h.close());
afterEach(() => nock.cleanAll());

const BRIDGE = 'http://bridge.test';

async function shopWithAgents(names: string[], input: Record<string, unknown> = {}) {
  const shop = await h.createGenericShop({
    credentials: { replyUrl: `${BRIDGE}/replies` },
    ...input,
  });
  const agents = [];
  for (const name of names) {
    const res = await h.api('/v1/agents', { body: { name, shopIds: [shop.id] } });
    await h.setPresence(res.body.token, 'online');
    agents.push(res.body as { id: string; token: string });
  }
  return { shop, agents };
}

async function conversationsOf(token: string) {
  const res = await h.api('/v1/agent/conversations', { token });
  expect(res.status).toBe(200);
  return res.body.conversations as Array<{
    conversationId: string;
    assignedTo: { agentId: string } | null;
    suggestions: Array<{ id: string; text: string; tactic: string }>;
    waiting: boolean;
    shop: { name: string };
    secondsWaiting: number;
  }>;
}

describe('assignment', () => {
  it('offers each new conversation to the agent with the fewest open ones, up to the cap', async () => {
    const { shop, agents } = await shopWithAgents(['Amy', 'Bo']);
    for (const buyer of ['b1', 'b2', 'b3', 'b4', 'b5']) {
      await h.sendGeneric(shop, buyerMessage(buyer, '您好', clock.now()));
    }
    const list = await eventually(async () => {
      const all = await conversationsOf(agents[0]!.token);
      return all.length === 5 && all.filter((c) => c.assignedTo).length === 4 ? all : null;
    });
    const counts = new Map<string, number>();
    for (const c of list)
      if (c.assignedTo)
        counts.set(c.assignedTo.agentId, (counts.get(c.assignedTo.agentId) ?? 0) + 1);
    // Cap 2 each: four assigned evenly, the fifth waits for a free agent.
    expect([...counts.values()]).toEqual([2, 2]);
    expect(list.filter((c) => !c.assignedTo)).toHaveLength(1);
  });

  it('lets exactly one of many agents claim a conversation at once', async () => {
    const { shop, agents } = await shopWithAgents(['A1', 'A2', 'A3', 'A4', 'A5', 'A6']);
    // A conversation nobody holds yet: six agents click "claim" at the same moment.
    await buyerWrote(shop.id, 'contested');
    const id = conversationId(shop.id, 'contested');
    const results = await Promise.all(
      agents.map((a) =>
        h.api(`/v1/agent/conversations/${id}/claim`, { token: a.token, method: 'POST' }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
    const taken = results.find((r) => r.status === 409)!;
    expect(taken.body.error.code).toBe('conversation_taken');
  });

  it('hides other shops from an agent: 404 on their conversations', async () => {
    const mine = await shopWithAgents(['Mine']);
    const theirs = await shopWithAgents(['Theirs']);
    const id = conversationId(theirs.shop.id, 'b1');
    const res = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: mine.agents[0]!.token,
      body: { text: 'hi' },
    });
    expect(res.status).toBe(404);
    expect(
      (await h.api(`/v1/agent/conversations/not-an-id`, { token: mine.agents[0]!.token })).status,
    ).toBe(404);
  });
});

describe('live events', () => {
  it('streams only the agent’s own shops and resumes from Last-Event-ID', async () => {
    const a = await shopWithAgents(['Ann']);
    const b = await shopWithAgents(['Ben']);
    const url = `${h.url}/v1/agent/events`;
    const stream = await openEventStream(url, a.agents[0]!.token);
    expect(stream.status).toBe(200);

    await h.sendGeneric(b.shop, buyerMessage('other-buyer', 'not for Ann', clock.now()));
    await h.sendGeneric(a.shop, buyerMessage('ann-buyer', '这款有灰色吗？', clock.now()));
    const message = await stream.waitFor((e) => e.event === 'message');
    expect(message.data.shopId).toBe(a.shop.id);
    const suggestion = await stream.waitFor((e) => e.event === 'suggestion');
    expect(suggestion.data.suggestions.length).toBeGreaterThan(0);
    await stream.waitFor(() => stream.comments.some((c) => c.startsWith('heartbeat')), 5000);
    await stream.close();
    expect(stream.events.every((e) => shopsOfEvent(e.data).join() === a.shop.id)).toBe(true);

    // Missed while disconnected: delivered on reconnect, in order, nothing before the cursor.
    const lastSeen = stream.events.at(-1)!.id!;
    await h.sendGeneric(a.shop, buyerMessage('ann-buyer-2', 'hello', clock.now()));
    await h.sendGeneric(a.shop, buyerMessage('ann-buyer-3', 'hello again', clock.now()));
    await eventually(
      async () =>
        (await h.container.events.since(a.agents[0]!.id, lastSeen)).filter(
          (e) => e.type === 'message',
        ).length >= 2,
    );
    const resumed = await openEventStream(url, a.agents[0]!.token, lastSeen);
    const buyers = await eventually(async () => {
      const seen = resumed.events.filter((e) => e.event === 'message').map((e) => e.data.buyerId);
      return seen.length >= 2 ? seen : null;
    });
    // Two buyers' messages are processed concurrently, so either may come first; the ids still only grow.
    expect([...buyers.slice(0, 2)].sort()).toEqual(['ann-buyer-2', 'ann-buyer-3']);
    const ids = resumed.events.map((e) => e.id!);
    expect(ids).toEqual(
      [...ids].sort(
        (x, y) =>
          Number(x.split('-')[0]) - Number(y.split('-')[0]) ||
          Number(x.split('-')[1]) - Number(y.split('-')[1]),
      ),
    );
    expect(resumed.events.map((e) => e.id)).not.toContain(lastSeen);
    await resumed.close();
    // Offline longer than the stream keeps events: the client is told to reload.
    await h.container.redis.xtrim(h.container.events.streamKey(a.agents[0]!.id), 'MAXLEN', 1);
    const stale = await openEventStream(url, a.agents[0]!.token, lastSeen);
    await stale.waitFor((e) => e.event === 'reset');
    await stale.close();
    // Ben's stream never held Ann's shop.
    const bens = await h.container.events.since(b.agents[0]!.id, '0-0');
    expect(bens.every((e) => shopsOfEvent(e.data).join() === b.shop.id)).toBe(true);
  });
});

describe('replies', () => {
  it('delivers a suggestion sent as is to the platform, records it and the response clock', async () => {
    const start = Date.parse('2026-11-27T02:00:00Z');
    clock.set(start);
    const { shop, agents } = await shopWithAgents(['Cai'], { timezone: 'Asia/Shanghai' });
    const agent = agents[0]!;
    await h.sendGeneric(shop, buyerMessage('buyer-x', '你好，请问这款有现货吗？', start));
    const conversation = await eventually(async () =>
      (await conversationsOf(agent.token)).find((c) => c.suggestions.length > 0),
    );
    const suggestion = conversation.suggestions[0]!;

    const delivered = nock(BRIDGE)
      .post(
        '/replies',
        (body) =>
          body.type === 'reply' &&
          body.data.text === suggestion.text &&
          body.data.buyerId === 'buyer-x',
      )
      .matchHeader('webhook-signature', /^v1,/)
      .reply(200, { ok: true });
    clock.set(start + 100_000); // answered after 100 s
    const sent = await h.api(`/v1/agent/conversations/${conversation.conversationId}/replies`, {
      token: agent.token,
      body: { text: suggestion.text, suggestionId: suggestion.id },
    });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ status: 'queued', origin: 'suggestion_as_is' });
    const status = await eventually(async () => {
      const r = await h.api(
        `/v1/agent/conversations/${conversation.conversationId}/replies/${sent.body.replyId}`,
        { token: agent.token },
      );
      return r.body.status === 'sent' ? r.body : null;
    });
    expect(status.error).toBeNull();
    expect(delivered.isDone()).toBe(true);

    // The reply is marked sent before its bookkeeping (history, meter, response clock) runs.
    const stats = await eventually(async () => {
      const r = await h.api('/v1/agent/stats?date=2026-11-27', { token: agent.token });
      return r.body.consultationsAnswered > 0 ? r.body : null;
    });
    expect(stats.consultationsAnswered).toBe(1);
    expect(stats.averageFirstResponseSeconds).toBe(100);
    expect(stats.within3MinRate).toBe(1);
    expect(stats.replies.suggestionAsIs).toBe(1);
    expect(stats.typingSecondsSaved).toBe(Math.round([...suggestion.text].length * 1.2));

    // The conversation now shows answered; usage counts the reception.
    const after = (await conversationsOf(agent.token)).find(
      (c) => c.conversationId === conversation.conversationId,
    )!;
    expect(after.waiting).toBe(false);
    const usage = await h.api(`/v1/shops/${shop.id}/usage?month=2026-11`);
    expect(usage.body.receptions).toBe(1);
  });

  it('counts a slow first response outside the 3-minute rate, and an edited suggestion as edited', async () => {
    const start = Date.parse('2026-11-27T03:00:00Z');
    clock.set(start);
    const { shop, agents } = await shopWithAgents(['Dee'], { timezone: 'Asia/Shanghai' });
    const agent = agents[0]!;
    await h.sendGeneric(shop, buyerMessage('slow-buyer', 'hello, is this in stock?', start));
    const conversation = await eventually(async () =>
      (await conversationsOf(agent.token)).find((c) => c.suggestions.length > 0),
    );
    nock(BRIDGE).post('/replies').reply(200, {});
    clock.set(start + 200_000);
    const sent = await h.api(`/v1/agent/conversations/${conversation.conversationId}/replies`, {
      token: agent.token,
      body: {
        text: `${conversation.suggestions[0]!.text} :)`,
        suggestionId: conversation.suggestions[0]!.id,
      },
    });
    expect(sent.body.origin).toBe('suggestion_edited');
    await eventually(
      async () =>
        (
          await h.api(
            `/v1/agent/conversations/${conversation.conversationId}/replies/${sent.body.replyId}`,
            { token: agent.token },
          )
        ).body.status === 'sent',
    );
    const stats = (await h.api('/v1/agent/stats?date=2026-11-27', { token: agent.token })).body;
    expect(stats).toMatchObject({
      consultationsAnswered: 1,
      averageFirstResponseSeconds: 200,
      within3MinRate: 0,
      typingSecondsSaved: 0,
    });
  });

  it('ends a reply the platform refuses (4xx) as failed with its error, without retrying', async () => {
    const { shop, agents } = await shopWithAgents(['Eve']);
    await h.sendGeneric(shop, buyerMessage('b-refused', 'hi', clock.now()));
    const id = conversationId(shop.id, 'b-refused');
    await eventually(async () =>
      (await conversationsOf(agents[0]!.token)).some((c) => c.conversationId === id),
    );
    const refused = nock(BRIDGE).post('/replies').once().reply(400, 'buyer blocked the shop');
    const sent = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: agents[0]!.token,
      body: { text: '您好' },
    });
    const status = await eventually(async () => {
      const r = await h.api(`/v1/agent/conversations/${id}/replies/${sent.body.replyId}`, {
        token: agents[0]!.token,
      });
      return r.body.status === 'failed' ? r.body : null;
    });
    expect(status.error).toBe('reply URL answered HTTP 400');
    // What the receiver said is never shown: it could be any internal service's answer.
    expect(JSON.stringify(status)).not.toContain('buyer blocked the shop');
    expect(status.attempts).toBe(1);
    expect(refused.isDone()).toBe(true);
  });

  it('retries a platform 5xx with backoff and ends failed when retries run out', async () => {
    const { shop, agents } = await shopWithAgents(['Fay']);
    await h.sendGeneric(shop, buyerMessage('b-5xx', 'hi', clock.now()));
    const id = conversationId(shop.id, 'b-5xx');
    await eventually(async () =>
      (await conversationsOf(agents[0]!.token)).some((c) => c.conversationId === id),
    );
    const down = nock(BRIDGE).post('/replies').times(3).reply(503, 'maintenance');
    const sent = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: agents[0]!.token,
      body: { text: '您好' },
    });
    const status = await eventually(async () => {
      const r = await h.api(`/v1/agent/conversations/${id}/replies/${sent.body.replyId}`, {
        token: agents[0]!.token,
      });
      return r.body.status === 'failed' ? r.body : null;
    });
    expect(down.isDone()).toBe(true);
    expect(status.error).toContain('503');
  });

  it('delivers to a changed reply URL at once after the shop is patched', async () => {
    const { shop, agents } = await shopWithAgents(['Ned']);
    await h.sendGeneric(shop, buyerMessage('b-moved', 'hi', clock.now()));
    const id = conversationId(shop.id, 'b-moved');
    await eventually(async () =>
      (await conversationsOf(agents[0]!.token)).some((c) => c.conversationId === id),
    );
    const status = async (replyId: string) =>
      (await h.api(`/v1/agent/conversations/${id}/replies/${replyId}`, { token: agents[0]!.token }))
        .body.status;
    const old = nock(BRIDGE).post('/replies').reply(200, {});
    const first = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: agents[0]!.token,
      body: { text: 'one' },
    });
    await eventually(async () => (await status(first.body.replyId)) === 'sent');
    expect(old.isDone()).toBe(true);
    expect(
      (
        await h.api(`/v1/shops/${shop.id}`, {
          method: 'PATCH',
          body: { credentials: { replyUrl: `${BRIDGE}/moved` } },
        })
      ).status,
    ).toBe(200);
    const moved = nock(BRIDGE).post('/moved').reply(200, {});
    const second = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: agents[0]!.token,
      body: { text: 'two' },
    });
    await eventually(async () => (await status(second.body.replyId)) === 'sent');
    expect(moved.isDone()).toBe(true);
  });

  it('refuses an empty reply and a suggestion id from another conversation with 400', async () => {
    const { shop, agents } = await shopWithAgents(['Gil']);
    await buyerWrote(shop.id, 'b-any');
    const id = conversationId(shop.id, 'b-any');
    const empty = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: agents[0]!.token,
      body: { text: '  ' },
    });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details.field).toBe('text');
    const foreign = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: agents[0]!.token,
      body: { text: 'x', suggestionId: 'nope' },
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.code).toBe('unknown_suggestion');
  });
});

describe('claiming', () => {
  it('announces a change of hands once, not again on every reply', async () => {
    const { shop, agents } = await shopWithAgents(['Ida']);
    await buyerWrote(shop.id, 'b-claim');
    const id = conversationId(shop.id, 'b-claim');
    nock(BRIDGE).post('/replies').times(2).reply(200, {});
    expect(
      (
        await h.api(`/v1/agent/conversations/${id}/claim`, {
          token: agents[0]!.token,
          method: 'POST',
        })
      ).status,
    ).toBe(200);
    const stream = await openEventStream(`${h.url}/v1/agent/events`, agents[0]!.token);
    await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: agents[0]!.token,
      body: { text: 'first' },
    });
    await h.api(`/v1/agent/conversations/${id}/replies`, {
      token: agents[0]!.token,
      body: { text: 'second' },
    });
    await eventually(
      async () =>
        stream.events.filter((e) => e.event === 'reply' && e.data.status === 'queued').length === 2,
    );
    expect(
      stream.events.filter((e) => e.event === 'conversation' && e.data.change === 'assigned'),
    ).toHaveLength(0);
    await stream.close();
  });

  it('refuses to claim a closed conversation, and sends a follow-up to it without taking a slot', async () => {
    const { shop, agents } = await shopWithAgents(['Cleo']);
    const token = agents[0]!.token;
    await buyerWrote(shop.id, 'b-closed');
    const id = conversationId(shop.id, 'b-closed');
    const close = () => h.api(`/v1/agent/conversations/${id}/close`, { token, method: 'POST' });
    expect((await close()).status).toBe(200);
    const claim = await h.api(`/v1/agent/conversations/${id}/claim`, { token, method: 'POST' });
    expect(claim.status).toBe(409);
    expect(claim.body.error.code).toBe('conversation_closed');
    // A follow-up (a reminder to pay, say) still goes to the buyer, but takes nothing.
    const reply = await h.api(`/v1/agent/conversations/${id}/replies`, {
      token,
      body: { text: 'are you still there?' },
    });
    expect(reply.status).toBe(202);
    expect(reply.body.status).toBe('queued');
    // A retried close is answered as done and takes nothing.
    expect((await close()).status).toBe(200);
    expect(await h.container.assignment.heldBy(agents[0]!.id)).toEqual([]);
    expect(await h.container.assignment.ownerOf(id)).toBeNull();
    // The buyer writing again opens it for claiming.
    await buyerWrote(shop.id, 'b-closed');
    expect(
      (await h.api(`/v1/agent/conversations/${id}/claim`, { token, method: 'POST' })).status,
    ).toBe(200);
  });

  it('answers a retried send with the same Idempotency-Key with the first reply, sending the buyer one message', async () => {
    const { shop, agents } = await shopWithAgents(['Ida', 'Jo']);
    const [ida, jo] = agents as [(typeof agents)[0], (typeof agents)[0]];
    await buyerWrote(shop.id, 'b-retry');
    const id = conversationId(shop.id, 'b-retry');
    let delivered = 0;
    nock(BRIDGE)
      .post('/replies', (body) => body.data?.buyerId === 'b-retry')
      .times(5)
      .reply(() => {
        delivered += 1;
        return [200, {}];
      });
    const send = (token: string, text: string, key: string) =>
      h.api(`/v1/agent/conversations/${id}/replies`, {
        token,
        body: { text },
        headers: { 'idempotency-key': key },
      });
    const first = await send(ida.token, '您好，在的', 'key-1');
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // The answer was lost: the client sends the same thing again.
    const again = await send(ida.token, '您好，在的', 'key-1');
    expect(again.status).toBe(202);
    expect(again.body.replyId).toBe(first.body.replyId);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    // One key is one reply: other words under it are a client's mistake, said as such.
    const other = await send(ida.token, '还有别的问题吗？', 'key-1');
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    // Keys are the agent's own: a colleague's equal key is not Ida's reply (and Jo may not
    // answer Ida's buyer, which frees the key for Jo to use again).
    const colleague = await send(jo.token, '您好，在的', 'key-1');
    expect(colleague.status).toBe(409);
    expect(colleague.body.error.code).toBe('conversation_taken');
    expect(await h.container.replies.takeKey(shop.id, jo.id, 'key-1')).toBeNull();
    // Not a key: refused before anything is sent.
    for (const bad of ['has space', 'x'.repeat(256)]) {
      const refused = await send(ida.token, '您好', bad);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('invalid_idempotency_key');
    }
    await eventually(async () => delivered >= 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(delivered).toBe(1);
  });

  it('keeps a conversation open when the buyer wrote after the last message the closing agent saw', async () => {
    const { shop, agents } = await shopWithAgents(['Lea']);
    const token = agents[0]!.token;
    await buyerWrote(shop.id, 'b-race');
    const id = conversationId(shop.id, 'b-race');
    const seen = (await h.api(`/v1/agent/conversations/${id}`, { token })).body.lastMessages.at(-1)
      .at as string;
    // The buyer writes again as the agent clicks "close".
    await h.container.conversations.append(shop.id, 'b-race', {
      id: 'm-b-race-again',
      from: 'buyer',
      text: 'wait, one more question',
      at: Date.parse(seen) + 1500,
    });
    const close = (body?: unknown) =>
      h.api(`/v1/agent/conversations/${id}/close`, { token, method: 'POST', body });
    const refused = await close({ seenBuyerAt: seen });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('buyer_wrote_again');
    const open = (await h.api(`/v1/agent/conversations/${id}`, { token })).body;
    expect(open.waiting).toBe(true);
    // Still on the agents' list, waiting: not taken off it unseen.
    expect((await conversationsOf(token)).find((c) => c.conversationId === id)?.waiting).toBe(true);
    expect((await close({ seenBuyerAt: 'yesterday' })).status).toBe(400);
    // A client that sent other fields before the close read a body is still refused only by them.
    expect((await close({ reason: 'done', seenBuyerAt: seen })).status).toBe(409);
    // Having seen the new message, the agent closes it.
    const newest = open.lastMessages.at(-1).at as string;
    expect((await close({ seenBuyerAt: newest })).status).toBe(200);
    expect((await h.api(`/v1/agent/conversations/${id}`, { token })).body.waiting).toBe(false);
  });

  it('keeps the Idempotency-Key on a reply that was queued even when the answer then failed', async () => {
    const { shop, agents } = await shopWithAgents(['Ola']);
    const token = agents[0]!.token;
    await buyerWrote(shop.id, 'b-blip');
    const id = conversationId(shop.id, 'b-blip');
    let delivered = 0;
    nock(BRIDGE)
      .post('/replies', (body) => body.data?.buyerId === 'b-blip')
      .times(5)
      .reply(() => {
        delivered += 1;
        return [200, {}];
      });
    // A Redis blip on the "reply queued" live event, after the reply's job was queued.
    const events = h.container.events;
    const publish = events.publish.bind(events);
    let failOnce = true;
    events.publish = (async (shopId, type, data) => {
      if (type === 'reply' && failOnce) {
        failOnce = false;
        throw new Error('Connection is closed.');
      }
      return publish(shopId, type, data);
    }) as typeof events.publish;
    try {
      const send = () =>
        h.api(`/v1/agent/conversations/${id}/replies`, {
          token,
          body: { text: '您好，在的' },
          headers: { 'idempotency-key': 'blip-1' },
        });
      const first = await send();
      expect(first.status).toBe(503);
      const again = await send();
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
    } finally {
      events.publish = publish;
    }
    await eventually(async () => delivered >= 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(delivered).toBe(1);
    // A key whose reply is still being made lives a minute, not a day: a process that died
    // in between does not leave it "in progress" for long.
    expect(await h.container.replies.takeKey(shop.id, agents[0]!.id, 'fresh-key')).toBeNull();
    const keyTtl = await h.container.redis.ttl(
      h.container.keys.replyByKey(
        shop.id,
        agents[0]!.id,
        createHash('sha256').update('fresh-key').digest('hex'),
      ),
    );
    expect(keyTtl).toBeGreaterThan(0);
    expect(keyTtl).toBeLessThanOrEqual(60);
  });

  it('sends an Idempotency-Key reply once even when its key was lost, and again when it never got queued', async () => {
    const { shop, agents } = await shopWithAgents(['Pia']);
    const { token, id: agentId } = agents[0]!;
    await buyerWrote(shop.id, 'b-lost-key');
    const id = conversationId(shop.id, 'b-lost-key');
    let delivered = 0;
    nock(BRIDGE)
      .post('/replies', (body) => body.data?.buyerId === 'b-lost-key')
      .times(5)
      .reply(() => {
        delivered += 1;
        return [200, {}];
      });
    const send = (key: string, text = '您好') =>
      h.api(`/v1/agent/conversations/${id}/replies`, {
        token,
        body: { text },
        headers: { 'idempotency-key': key },
      });
    const { replies } = h.container;
    const keyOf = (key: string) =>
      h.container.keys.replyByKey(shop.id, agentId, createHash('sha256').update(key).digest('hex'));
    // The key cannot be settled (a Redis blip) and then expires while still pending.
    const settleKey = replies.settleKey.bind(replies);
    replies.settleKey = async () => {
      throw new Error('Connection is closed.');
    };
    try {
      expect((await send('lost-1')).status).toBe(503);
    } finally {
      replies.settleKey = settleKey;
    }
    await h.container.redis.del(keyOf('lost-1'));
    const retry = await send('lost-1');
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    await eventually(async () => delivered >= 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(delivered).toBe(1);
    // A send that never reached the queue is queued by its retry with the same key.
    const outbound = h.container.queues.outbound;
    const add = outbound.add.bind(outbound);
    outbound.add = (async () => {
      throw new Error('Connection is closed.');
    }) as typeof outbound.add;
    try {
      expect((await send('never-queued', '还在吗')).status).toBe(503);
    } finally {
      outbound.add = add;
    }
    const again = await send('never-queued', '还在吗');
    expect(again.status).toBe(202);
    await eventually(async () => delivered >= 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(delivered).toBe(2);
  });

  it('frees a hold left on a closed conversation when it is closed again', async () => {
    const { shop, agents } = await shopWithAgents(['Kai']);
    const { token, id: agentId } = agents[0]!;
    await buyerWrote(shop.id, 'b-stuck');
    const id = conversationId(shop.id, 'b-stuck');
    const close = () => h.api(`/v1/agent/conversations/${id}/close`, { token, method: 'POST' });
    expect((await close()).status).toBe(200);
    // What an earlier version did on a claim (or reply) of a closed conversation.
    await h.container.assignment.claim(id, agentId);
    expect((await close()).status).toBe(200);
    expect(await h.container.assignment.ownerOf(id)).toBeNull();
    expect(await h.container.assignment.heldBy(agentId)).toEqual([]);
  });

  it('shows and hands out the longest wait on a busy shop, behind its latest 200 conversations', async () => {
    const { shop, agents } = await shopWithAgents(['Uma']);
    const { token, id: agentId } = agents[0]!;
    await h.setPresence(token, 'away');
    // The buyer waiting longest is the one whose conversation moved least recently...
    await buyerWrote(shop.id, 'b-oldest');
    const oldest = conversationId(shop.id, 'b-oldest');
    // ...behind 204 newer ones, answered (nobody waiting in them), as a sale day brings.
    const newer = Date.now() + 1000;
    const members = Array.from({ length: 204 }, (_, i) => [newer + i, `later-${i}`]).flat();
    await h.container.redis.zadd(
      h.container.keys.activeConversations(shop.id),
      ...(members as Array<string | number>),
    );
    const list = await conversationsOf(token);
    expect(list.find((c) => c.conversationId === oldest)?.waiting).toBe(true);
    // Each conversation once: the latest 200 and the waits behind them come from one read.
    expect(new Set(list.map((c) => c.conversationId)).size).toBe(list.length);
    expect(list).toHaveLength(201);
    // Coming online, the agent is given the longest wait.
    await h.setPresence(token, 'online');
    expect(await h.container.assignment.ownerOf(oldest)).toBe(agentId);
  });

  it("does not free a colleague's hold when a retried close meets the buyer writing again", async () => {
    const { shop, agents } = await shopWithAgents(['Ann', 'Ben']);
    const [ann, ben] = agents as [(typeof agents)[0], (typeof agents)[0]];
    await buyerWrote(shop.id, 'b-reopen');
    const id = conversationId(shop.id, 'b-reopen');
    const close = () =>
      h.api(`/v1/agent/conversations/${id}/close`, { token: ann.token, method: 'POST' });
    expect((await close()).status).toBe(200);
    // Ann's retried close reads the conversation closed; just then the buyer writes again
    // (which reopens it) and Ben takes it.
    const store = h.container.conversations;
    const state = store.state.bind(store);
    let reopen = true;
    store.state = async (shopId, buyerId) => {
      const seen = await state(shopId, buyerId);
      if (reopen && buyerId === 'b-reopen' && seen.closedAt !== undefined) {
        reopen = false;
        await buyerWrote(shop.id, 'b-reopen');
        await h.container.assignment.claim(id, ben.id);
      }
      return seen;
    };
    try {
      expect((await close()).status).toBe(200);
    } finally {
      store.state = state;
    }
    expect(await h.container.assignment.ownerOf(id)).toBe(ben.id);
    expect(await h.container.assignment.heldBy(ben.id)).toEqual([id]);
  });

  it('lets exactly one of two agents take a buyer whose holder was revoked', async () => {
    const { shop, agents } = await shopWithAgents(['Gone', 'Ava', 'Bo']);
    const [gone, ava, bo] = agents as [(typeof agents)[0], (typeof agents)[0], (typeof agents)[0]];
    await buyerWrote(shop.id, 'b-orphan');
    const id = conversationId(shop.id, 'b-orphan');
    const claim = (token: string) =>
      h.api(`/v1/agent/conversations/${id}/claim`, { token, method: 'POST' });
    expect((await claim(gone.token)).status).toBe(200);
    expect((await h.api(`/v1/agents/${gone.id}`, { method: 'DELETE' })).status).toBe(204);
    // Both claimers find the departed holder before either takes the buyer over.
    const registry = h.container.agents;
    const get = registry.get.bind(registry);
    let arrived = 0;
    let bothArrived = () => {};
    const gate = new Promise<void>((resolve) => {
      bothArrived = resolve;
    });
    registry.get = async (agentId) => {
      if (agentId !== gone.id) return get(agentId);
      arrived += 1;
      if (arrived === 2) bothArrived();
      await gate;
      return get(agentId);
    };
    try {
      const results = await Promise.all([claim(ava.token), claim(bo.token)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      const loser = results.find((r) => r.status === 409)!;
      expect(loser.body.error.code).toBe('conversation_taken');
      const owner = await h.container.assignment.ownerOf(id);
      expect([ava.id, bo.id]).toContain(owner);
      // The buyer counts toward the winner's load only.
      const held = [
        await h.container.assignment.heldBy(ava.id),
        await h.container.assignment.heldBy(bo.id),
      ];
      expect(held.flat()).toEqual([id]);
    } finally {
      registry.get = get;
    }
  });
});

describe('slow-reply alert', () => {
  it('raises an alert once a buyer waits past the shop threshold', async () => {
    const { shop, agents } = await shopWithAgents(['Hal'], { settings: { slowReplySeconds: 1 } });
    const stream = await openEventStream(`${h.url}/v1/agent/events`, agents[0]!.token);
    clock.set(Date.now());
    await h.sendGeneric(shop, buyerMessage('impatient', 'hello?', clock.now()));
    await stream.waitFor((e) => e.event === 'message');
    clock.advance(1500);
    const alert = await stream.waitFor((e) => e.event === 'alert', 8000);
    expect(alert.data).toMatchObject({ buyerId: 'impatient', thresholdSeconds: 1 });
    expect(alert.data.waitingSeconds).toBeGreaterThanOrEqual(1);
    await stream.close();
  });
});
