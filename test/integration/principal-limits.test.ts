import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    env: {
      ASSIST_SUGGESTS_PER_MINUTE: '3',
      AGENT_REPLIES_PER_MINUTE: '2',
      OWNER_READS_PER_MINUTE: '4',
      AGENT_MEDIA_PER_MINUTE: '2',
    },
  });
});
afterAll(() => h.close());

const suggest = (token: string, shopId: string) =>
  h.api('/v1/assist/suggest', {
    token,
    body: { shopId, history: [{ from: 'buyer', text: 'Do you have this in grey?' }] },
  });

describe('per-token rate limits on authenticated endpoints', () => {
  it('limits suggestions per agent with Retry-After, and each agent on its own', async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const a = (await h.api('/v1/agents', { body: { name: 'A', shopIds: [shop.id] } })).body;
    const b = (await h.api('/v1/agents', { body: { name: 'B', shopIds: [shop.id] } })).body;
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await suggest(a.token, shop.id)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await suggest(a.token, shop.id);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await suggest(b.token, shop.id)).status).toBe(200);
    // The operator is not limited.
    for (let i = 0; i < 5; i++)
      expect((await suggest('adm_test_token_0123456789abcdef', shop.id)).status).toBe(200);
  });

  it("limits an agent's replies", async () => {
    const shop = await h.createGenericShop({
      timezone: 'UTC',
      credentials: { replyUrl: 'http://bridge.test/replies' },
    });
    const agent = (await h.api('/v1/agents', { body: { name: 'R', shopIds: [shop.id] } })).body;
    await h.sendGeneric(shop, buyerMessage('b-r', 'hi', Date.now()));
    await eventually(async () => h.container.conversations.exists(shop.id, 'b-r'));
    const id = conversationId(shop.id, 'b-r');
    const answers = [];
    for (let i = 0; i < 3; i++)
      answers.push(
        await h.api(`/v1/agent/conversations/${id}/replies`, {
          token: agent.token,
          body: { text: `reply ${i}` },
        }),
      );
    expect(answers.map((a) => a.status)).toEqual([202, 202, 429]);
    expect(answers[2]!.body.error.code).toBe('rate_limited');
    expect(Number(answers[2]!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it("limits an agent's media fetches (each is a platform download), apart from other reads", async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const agent = (await h.api('/v1/agents', { body: { name: 'M', shopIds: [shop.id] } })).body;
    const id = conversationId(shop.id, 'b-m');
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push(
        (await h.api(`/v1/agent/conversations/${id}/media/m-${i}`, { token: agent.token })).status,
      );
    expect(statuses).toEqual([404, 404, 429]);
    expect((await h.api(`/v1/agent/conversations/${id}`, { token: agent.token })).status).toBe(200);
  });

  it('counts every spelling the router serves: a trailing slash or other letter case spends the same budget', async () => {
    const shop = await h.createGenericShop({
      timezone: 'UTC',
      credentials: { replyUrl: 'http://bridge.test/replies' },
    });
    const agent = (await h.api('/v1/agents', { body: { name: 'S', shopIds: [shop.id] } })).body;
    await h.sendGeneric(shop, buyerMessage('b-s', 'hi', Date.now()));
    await eventually(async () => h.container.conversations.exists(shop.id, 'b-s'));
    const id = conversationId(shop.id, 'b-s');
    const replies = [
      `/v1/agent/conversations/${id}/replies`,
      `/v1/agent/conversations/${id}/replies/`,
      `/V1/Agent/Conversations/${id}/REPLIES`,
    ];
    const sent = [];
    for (const path of replies)
      sent.push((await h.api(path, { token: agent.token, body: { text: 'hello' } })).status);
    expect(sent).toEqual([202, 202, 429]);
    const suggests = [
      '/v1/assist/suggest/',
      '/V1/ASSIST/SUGGEST',
      '/v1/assist/suggest',
      '/v1/Assist/Suggest/',
    ];
    const suggested = [];
    for (const path of suggests)
      suggested.push(
        (
          await h.api(path, {
            token: agent.token,
            body: { shopId: shop.id, history: [{ from: 'buyer', text: 'Hello?' }] },
          })
        ).status,
      );
    expect(suggested).toEqual([200, 200, 200, 429]);
    const media = [];
    for (const path of [
      `/v1/agent/conversations/${id}/media/m-1/`,
      `/v1/agent/conversations/${id}/MEDIA/m-2`,
      `/v1/agent/conversations/${id}/media/m-3`,
    ])
      media.push((await h.api(path, { token: agent.token })).status);
    expect(media).toEqual([404, 404, 429]);
  });

  it("limits an owner's reads", async () => {
    const shop = await h.createGenericShop({ timezone: 'UTC' });
    const answers = [];
    for (let i = 0; i < 6; i++)
      answers.push(await h.api(`/v1/shops/${shop.id}/usage`, { token: shop.ownerKey }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 429, 429]);
    for (const limited of answers.slice(4)) {
      expect(limited.body.error.code).toBe('rate_limited');
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
  });
});
