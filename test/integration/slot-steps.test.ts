import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanKeys } from '../../src/shared/redis';
import { type Harness, startHarness } from '../support/harness';

// Writes that span hash slots run as ordered single-slot steps (`inSteps`):
// stopped halfway (here: a step meets a key of the wrong type), nothing
// points at a record that is not there, and repeating the call finishes.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: false });
});
afterAll(() => h.close());

/** Owner and agent tokens whose shop or agent record is missing. */
async function danglingTokens(): Promise<string[]> {
  const { redis, keys } = h.container;
  const dangling: string[] = [];
  for (const key of await scanKeys(redis, `${keys.token('')}*`)) {
    const record = JSON.parse((await redis.get(key)) ?? '{}') as {
      kind?: string;
      shopId?: string;
      agentId?: string;
    };
    const target =
      record.kind === 'owner'
        ? keys.shopRecord(record.shopId!)
        : record.kind === 'agent'
          ? keys.agent(record.agentId!)
          : null;
    if (target && (await redis.exists(target)) === 0) dangling.push(key);
  }
  return dangling;
}

describe('writes over several slots, in ordered steps', () => {
  it('leaves no token of a missing shop when creation stops halfway, and creates it on a new call', async () => {
    const { redis, keys } = h.container;
    // The shop index cannot take the new id: creation stops at its last step.
    await redis.set(keys.allShops(), 'not a set');
    const stopped = await h.api('/v1/shops', { body: { name: 'Half', platform: 'generic' } });
    expect(stopped.status).toBe(500);
    expect(await danglingTokens()).toEqual([]);

    await redis.del(keys.allShops());
    const shop = await h.createGenericShop({ name: 'Whole' });
    expect(await h.container.shops.listIds()).toEqual([shop.id]);
    expect((await h.api(`/v1/shops/${shop.id}`, { token: shop.ownerKey })).status).toBe(200);
  });

  it('ends an agent’s access at the first step of a removal that stops halfway, and a repeat finishes it', async () => {
    const { redis, keys } = h.container;
    const shop = await h.createGenericShop();
    const agent = (await h.api('/v1/agents', { body: { name: 'Jo', shopIds: [shop.id] } })).body;
    expect((await h.api('/v1/agent/me', { token: agent.token })).status).toBe(200);

    // The shop's agent set is unusable: the removal stops after revoking the token.
    await redis.set(keys.shopAgents(shop.id), 'not a set');
    expect((await h.api(`/v1/agents/${agent.id}`, { method: 'DELETE' })).status).toBe(500);
    expect((await h.api('/v1/agent/me', { token: agent.token })).status).toBe(401);
    expect((await h.api(`/v1/agents/${agent.id}`)).status).toBe(200);

    await redis.del(keys.shopAgents(shop.id));
    expect((await h.api(`/v1/agents/${agent.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.api(`/v1/agents/${agent.id}`)).status).toBe(404);
    expect(await redis.sismember(keys.allAgents(), agent.id)).toBe(0);
    expect(await danglingTokens()).toEqual([]);
  });
});
