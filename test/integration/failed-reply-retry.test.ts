import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';
import { openEventStream } from '../support/sse';

// A bridge that was down: the reply ran out of attempts and ended failed. The
// operator's Retry (GET /v1/ops/failed-jobs, then POST …/retry) must send it.
let h: Harness;
let bridge: http.Server;
let bridgeUp = false;
const received: string[] = [];

beforeAll(async () => {
  bridge = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (!bridgeUp) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"error":{"code":"bridge_down"}}');
        return;
      }
      received.push(JSON.parse(body).data.text);
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => bridge.listen(0, '127.0.0.1', resolve));
  h = await startHarness({ env: { OUTBOUND_ATTEMPTS: '2', OUTBOUND_BACKOFF_MS: '10' } });
});
afterAll(async () => {
  await h.close();
  await new Promise((resolve) => bridge.close(resolve));
});

describe("an operator's retry of a reply that failed for good", () => {
  it('sends the reply, which its agent sees queued again, then sent', async () => {
    const port = (bridge.address() as AddressInfo).port;
    const shop = await h.createGenericShop({
      credentials: { replyUrl: `http://127.0.0.1:${port}/replies` },
    });
    const agent = (await h.api('/v1/agents', { body: { name: 'Amy', shopIds: [shop.id] } })).body;
    await h.setPresence(agent.token, 'online');
    await h.sendGeneric(shop, buyerMessage('b1', '在吗？', Date.now()));
    const conversationId = await eventually(async () => {
      const list = await h.api('/v1/agent/conversations', { token: agent.token });
      return list.body.conversations[0]?.conversationId as string | undefined;
    });
    const sent = await h.api(`/v1/agent/conversations/${conversationId}/replies`, {
      token: agent.token,
      body: { text: '在的，亲' },
    });
    const replyPath = `/v1/agent/conversations/${conversationId}/replies/${sent.body.replyId}`;
    const failed = await eventually(async () => {
      const jobs = (await h.api('/v1/ops/failed-jobs')).body.jobs as Array<{ id: string }>;
      return jobs.find((job) => job.id === sent.body.replyId);
    });
    expect((await h.api(replyPath, { token: agent.token })).body).toMatchObject({
      status: 'failed',
      error: 'reply URL answered HTTP 503 (bridge_down)',
    });

    const stream = await openEventStream(`${h.url}/v1/agent/events`, agent.token);
    try {
      bridgeUp = true;
      const retry = await h.api(`/v1/ops/failed-jobs/outbound/${failed.id}/retry`, {
        method: 'POST',
      });
      expect(retry.status).toBe(202);
      const done = await eventually(async () => {
        const reply = (await h.api(replyPath, { token: agent.token })).body;
        return reply.status === 'sent' ? reply : null;
      });
      expect(done).toMatchObject({ error: null, failedAt: null });
      expect(received).toEqual(['在的，亲']);
      expect((await h.api('/v1/ops/failed-jobs')).body.jobs).toEqual([]);
      // The agent's console saw it go back to sending, then delivered.
      const statuses = await eventually(async () => {
        const seen = stream.events
          .filter((e) => e.event === 'reply' && e.data.replyId === sent.body.replyId)
          .map((e) => e.data.status);
        return seen.includes('sent') ? seen : null;
      });
      expect(statuses.slice(statuses.lastIndexOf('queued'))).toEqual(['queued', 'sent']);
    } finally {
      stream.close();
    }
  });
});
