import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';
import { openEventStream } from '../support/sse';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { AGENT_MAX_STREAMS: '5', SSE_HEARTBEAT_SECONDS: '1' } });
});
afterAll(() => h.close());

const eventsUrl = () => `${h.url}/v1/agent/events`;

async function agentFor(shopIds: string[], name = 'Ann') {
  return (await h.api('/v1/agents', { body: { name, shopIds } })).body as {
    id: string;
    token: string;
  };
}

/** Redis clients this harness opened, by the name it gives them. */
async function hubConnections(): Promise<number> {
  const list = (await h.container.redis.call('CLIENT', 'LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(`name=${h.container.config.REDIS_PREFIX}:event-hub`)).length;
}

async function clientCount(): Promise<number> {
  const list = (await h.container.redis.call('CLIENT', 'LIST')) as string;
  return list.split('\n').filter(Boolean).length;
}

describe('event streams', () => {
  it('refuses the N+1-th stream of one agent with 429 too_many_streams', async () => {
    const shop = await h.createGenericShop();
    const agent = await agentFor([shop.id]);
    const open = [];
    for (let i = 0; i < 5; i += 1) {
      const stream = await openEventStream(eventsUrl(), agent.token);
      expect(stream.status).toBe(200);
      open.push(stream);
    }
    const sixth = await fetch(eventsUrl(), { headers: { authorization: `Bearer ${agent.token}` } });
    expect(sixth.status).toBe(429);
    expect((await sixth.json()).error.code).toBe('too_many_streams');
    expect(sixth.headers.get('retry-after')).toBe('5');
    // Closing one frees a place.
    await open.pop()!.close();
    await new Promise((r) => setTimeout(r, 100));
    const again = await openEventStream(eventsUrl(), agent.token);
    expect(again.status).toBe(200);
    await Promise.all([...open, again].map((s) => s.close()));
  });

  it('refuses streams past the process cap with 503 stream_capacity, whoever asks', async () => {
    const small = await startHarness({ env: { SSE_MAX_STREAMS_PER_PROCESS: '3' } });
    try {
      const shop = await small.createGenericShop();
      const agents = await Promise.all(
        ['P', 'Q', 'R', 'S'].map(
          async (name) =>
            (await small.api('/v1/agents', { body: { name, shopIds: [shop.id] } })).body as {
              token: string;
            },
        ),
      );
      const url = `${small.url}/v1/agent/events`;
      const open = [];
      for (const agent of agents.slice(0, 3)) {
        const stream = await openEventStream(url, agent.token);
        expect(stream.status).toBe(200);
        open.push(stream);
      }
      // A fourth agent, well within their own cap, finds the process full.
      const fourth = await fetch(url, { headers: { authorization: `Bearer ${agents[3]!.token}` } });
      expect(fourth.status).toBe(503);
      expect((await fourth.json()).error.code).toBe('stream_capacity');
      expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(0);
      await open.pop()!.close();
      await new Promise((r) => setTimeout(r, 100));
      const again = await openEventStream(url, agents[3]!.token);
      expect(again.status).toBe(200);
      await Promise.all([...open, again].map((stream) => stream.close()));
    } finally {
      await small.close();
    }
  });

  it('serves 50 streams of 10 agents through one Redis connection, each seeing its own events', async () => {
    const shop = await h.createGenericShop();
    const agents = await Promise.all(
      Array.from({ length: 10 }, (_, i) => agentFor([shop.id], `A${i}`)),
    );
    const before = await clientCount();
    const streams = [];
    for (const agent of agents)
      for (let i = 0; i < 5; i += 1) streams.push(await openEventStream(eventsUrl(), agent.token));
    expect(streams.every((s) => s.status === 200)).toBe(true);
    expect(await hubConnections()).toBe(1);
    // Other test files share this Redis and open and close their own connections meanwhile:
    // allow for them, but never one per stream (that would be 50 more).
    expect((await clientCount()) - before).toBeLessThan(25);

    await h.sendGeneric(shop, buyerMessage('fan-out', '大家好', Date.now()));
    for (const stream of streams)
      await stream.waitFor((e) => e.event === 'message' && e.data.buyerId === 'fan-out');
    await Promise.all(streams.map((s) => s.close()));
  });

  it('shows an agent removed from a shop nothing of it, on replay from 0-0 or live', async () => {
    const kept = await h.createGenericShop({ name: 'Kept' });
    const left = await h.createGenericShop({ name: 'Left' });
    const agent = await agentFor([kept.id, left.id]);
    await h.setPresence(agent.token, 'online');
    await h.sendGeneric(left, buyerMessage('secret-buyer', '我的地址是…', Date.now()));
    await h.sendGeneric(kept, buyerMessage('kept-buyer', '你好', Date.now()));
    const first = await openEventStream(eventsUrl(), agent.token, '0-0');
    await first.waitFor((e) => e.event === 'message' && e.data.buyerId === 'secret-buyer');
    await first.close();

    expect(
      (await h.api(`/v1/agents/${agent.id}`, { method: 'PATCH', body: { shopIds: [kept.id] } }))
        .status,
    ).toBe(200);
    const replay = await openEventStream(eventsUrl(), agent.token, '0-0');
    await replay.waitFor((e) => e.event === 'message' && e.data.buyerId === 'kept-buyer');
    await h.sendGeneric(left, buyerMessage('secret-buyer', '还有电话', Date.now()));
    await h.sendGeneric(kept, buyerMessage('kept-buyer', '在吗', Date.now()));
    await replay.waitFor((e) => e.event === 'message' && e.data.message.text === '在吗');
    const seen = JSON.stringify(replay.events);
    expect(seen).not.toContain(left.id);
    expect(seen).not.toContain('secret-buyer');
    await replay.close();
    // The kept events of that shop were deleted from the agent's stream.
    const stored = await h.container.events.since(agent.id, '0-0');
    expect(JSON.stringify(stored)).not.toContain(left.id);
  });

  it('resets a resume from an id never written (future, out of range, malformed) and then streams live', async () => {
    const shop = await h.createGenericShop();
    const agent = await agentFor([shop.id]);
    await h.setPresence(agent.token, 'online');
    const resumes = [
      `${Date.now() + 3_600_000}-0`, // forged or from another Redis: ahead of every kept event
      '99999999999999999999-0', // beyond Redis's 64-bit ids
      '1-99999999999999999999',
      'not-an-id',
    ];
    const streams = [];
    for (const id of resumes) {
      const stream = await openEventStream(eventsUrl(), agent.token, id);
      expect(stream.status, id).toBe(200);
      streams.push(stream);
    }
    await h.sendGeneric(shop, buyerMessage('resumer', '你好', Date.now()));
    for (const stream of streams) {
      await stream.waitFor((e) => e.event === 'message' && e.data.buyerId === 'resumer');
      expect(stream.events[0]!.event).toBe('reset');
    }
    await Promise.all(streams.map((s) => s.close()));
  });

  it('gives a fresh stream the events written while it was being opened', async () => {
    const shop = await h.createGenericShop();
    const agent = await agentFor([shop.id]);
    const hub = h.container.hub;
    const subscribe = hub.subscribe.bind(hub);
    // Hold the subscription until an event lands after the stream took its starting point.
    hub.subscribe = async (agentId, listener) => {
      await h.container.events.publish(shop.id, 'alert', {
        conversationId: 'cnv_between',
        buyerId: 'between',
        waitingSeconds: 1,
        thresholdSeconds: 1,
      });
      return subscribe(agentId, listener);
    };
    try {
      const stream = await openEventStream(eventsUrl(), agent.token);
      await stream.waitFor((e) => e.event === 'alert' && e.data.buyerId === 'between', 3000);
      await stream.close();
    } finally {
      hub.subscribe = subscribe;
    }
  });

  it('ends a stream opened with a token that was since reissued, within a heartbeat', async () => {
    const shop = await h.createGenericShop();
    const agent = await agentFor([shop.id]);
    const old = await openEventStream(eventsUrl(), agent.token);
    const reissued = await h.api(`/v1/agents/${agent.id}/token`, { method: 'POST' });
    expect(reissued.status).toBe(200);
    const fresh = await openEventStream(eventsUrl(), reissued.body.token);
    expect(fresh.status).toBe(200);
    // The old token is refused from the next request on; its open stream must end too.
    await eventually(async () => h.container.streams.openCount === 1, 5000);
    await h.sendGeneric(shop, buyerMessage('after-reissue', '你好', Date.now()));
    await fresh.waitFor((e) => e.event === 'message' && e.data.buyerId === 'after-reissue');
    expect(JSON.stringify(old.events)).not.toContain('after-reissue');
    await Promise.all([old.close(), fresh.close()]);
  });

  it('ends the stream of a client that stops reading instead of buffering without bound', async () => {
    const shop = await h.createGenericShop();
    const agent = await agentFor([shop.id]);
    // A client that sends its request, then reads nothing more.
    const { port } = new URL(h.url);
    // The server's side of this connection, to see what the server does with it.
    let serverSide: net.Socket | undefined;
    const seen = (connection: net.Socket) => {
      if (connection.remotePort === socket.localPort) serverSide = connection;
    };
    h.server.on('connection', seen);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `GET /v1/agent/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${agent.token}\r\n\r\n`,
    );
    socket.pause();
    socket.on('error', () => undefined);
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await eventually(async () => h.container.streams.openCount === 1);
    const text = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 400 && h.container.streams.openCount > 0; i += 1) {
      await h.container.events.publish(shop.id, 'message', {
        conversationId: 'cnv_flood',
        buyerId: 'flood',
        message: { id: `m${i}`, from: 'buyer', text, at: Date.now() },
      });
      await new Promise((r) => setTimeout(r, 5));
    }
    // Ended (it reconnects and resumes from Redis), never holding 13 MB in the server's memory:
    // the server drops the connection itself, unsent bytes and all, not only the stream.
    await eventually(async () => h.container.streams.openCount === 0, 5000);
    h.server.off('connection', seen);
    expect(serverSide?.destroyed).toBe(true);
    socket.destroy();
    await ended;
  });

  it('ends open streams and refuses new ones with 503 shutting_down while stopping', async () => {
    const stopping = await startHarness({ workers: false });
    const shop = await stopping.createGenericShop();
    const agent = (
      await stopping.api('/v1/agents', { body: { name: 'Night', shopIds: [shop.id] } })
    ).body;
    const stream = await openEventStream(`${stopping.url}/v1/agent/events`, agent.token);
    expect(stream.status).toBe(200);
    stopping.container.stopStreams();
    await stream.close();
    const refused = await fetch(`${stopping.url}/v1/agent/events`, {
      headers: { authorization: `Bearer ${agent.token}` },
    });
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.code).toBe('shutting_down');
    expect(refused.headers.get('retry-after')).toBe('2');
    await stopping.close();
  });
});
