import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/shared/tokens';
import { type Harness, startHarness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: false });
});
afterAll(() => h.close());

describe('shops, owners and agents', () => {
  it('lets an owner read only their own shop; another shop looks missing (404)', async () => {
    const a = await h.createGenericShop({ name: 'A' });
    const b = await h.createGenericShop({ name: 'B' });
    expect((await h.api(`/v1/shops/${a.id}`, { token: a.ownerKey })).status).toBe(200);
    const other = await h.api(`/v1/shops/${b.id}`, { token: a.ownerKey });
    const missing = await h.api(`/v1/shops/shp_does_not_exist`, { token: a.ownerKey });
    expect(other.status).toBe(404);
    expect(other.body).toEqual(missing.body);
    expect((await h.api(`/v1/shops/${b.id}/usage`, { token: a.ownerKey })).status).toBe(404);
    expect((await h.api(`/v1/shops/${a.id}/usage`, { token: a.ownerKey })).status).toBe(200);
  });

  it('keeps owners out of admin endpoints', async () => {
    const a = await h.createGenericShop();
    expect((await h.api('/v1/shops', { token: a.ownerKey })).status).toBe(403);
    expect(
      (
        await h.api(`/v1/shops/${a.id}`, {
          token: a.ownerKey,
          method: 'PATCH',
          body: { name: 'x' },
        })
      ).status,
    ).toBe(403);
  });

  it('refuses requests without a token or with an unknown one', async () => {
    expect((await h.api('/v1/shops', { token: '' })).status).toBe(401);
    expect((await h.api('/v1/shops', { token: 'own_guess' })).status).toBe(401);
  });

  it('revokes an agent token at once', async () => {
    const a = await h.createGenericShop();
    const created = await h.api('/v1/agents', { body: { name: 'Lin', shopIds: [a.id] } });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^agt_/);
    expect((await h.api('/v1/agent/me', { token: created.body.token })).status).toBe(200);
    // Agents work conversations; the shop record (plan, prices) is for the operator and the owner.
    expect((await h.api(`/v1/shops/${a.id}`, { token: created.body.token })).status).toBe(404);
    expect((await h.api(`/v1/agents/${created.body.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.api('/v1/agent/me', { token: created.body.token })).status).toBe(401);
  });

  it('refuses an agent for a shop that does not exist, naming the field', async () => {
    const res = await h.api('/v1/agents', { body: { name: 'Lin', shopIds: ['shp_nope'] } });
    expect(res.status).toBe(400);
    expect(res.body.error.details.field).toBe('shopIds');
  });

  it('stores keys only as hashes and platform secrets only encrypted', async () => {
    const shop = await h.createGenericShop({
      credentials: { replyUrl: 'https://bridge.example/replies' },
    });
    const stored = await h.container.redis.hgetall(h.container.keys.shopRecord(shop.id));
    const everything = JSON.stringify(stored);
    expect(everything).not.toContain(shop.webhookSecret.slice(6));
    expect(everything).not.toContain('bridge.example');
    expect(everything).not.toContain(shop.ownerKey);
    expect(await h.container.redis.get(h.container.keys.token(hashToken(shop.ownerKey)))).toContain(
      shop.id,
    );
    expect(shop.ownerKey.length).toBeGreaterThanOrEqual(4 + 32);
    // A GET never shows secrets again.
    const read = await h.api(`/v1/shops/${shop.id}`);
    expect(read.text).not.toContain(shop.webhookSecret);
    expect(read.text).not.toContain(shop.ownerKey);
  });

  it('validates shop input with messages that name the field', async () => {
    const res = await h.api('/v1/shops', {
      body: { name: 'X', platform: 'generic', timezone: 'Mars/Olympus' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.field).toBe('timezone');
    const badPlan = await h.api('/v1/shops', {
      body: {
        name: 'X',
        platform: 'generic',
        plan: { model: 'tiered', tiers: [{ upToAverageDaily: 50, monthlyFen: 1.5 }] },
      },
    });
    expect(badPlan.status).toBe(400);
    expect(badPlan.body.error.details.field).toMatch(/^plan/);
    const badCredentials = await h.api('/v1/shops', {
      body: { name: 'X', platform: 'generic', credentials: { replyUrl: 'not-a-url' } },
    });
    expect(badCredentials.status).toBe(400);
    expect(badCredentials.body.error.details.field).toBe('credentials.replyUrl');
  });

  it('stores a time zone under its canonical IANA name, whatever the letter case it was given in', async () => {
    // Zone names are matched case-insensitively, but the code compares them as written
    // (Taipei and Hong Kong shops default to Traditional Chinese).
    const shop = await h.createGenericShop({ timezone: 'asia/taipei' });
    expect((await h.api(`/v1/shops/${shop.id}`)).body.timezone).toBe('Asia/Taipei');
    const patched = await h.api(`/v1/shops/${shop.id}`, {
      method: 'PATCH',
      body: { timezone: 'ASIA/HONG_KONG' },
    });
    expect(patched.body.timezone).toBe('Asia/Hong_Kong');
    // The name the shop gave stays: ICU answers other names for these links (its case is
    // mended only where ICU names the same zone).
    for (const [given, stored] of [
      ['Asia/Kolkata', 'Asia/Kolkata'],
      ['Europe/Kyiv', 'Europe/Kyiv'],
      ['PRC', 'PRC'],
      ['asia/ho_chi_minh', 'asia/ho_chi_minh'],
    ]) {
      const res = await h.api(`/v1/shops/${shop.id}`, {
        method: 'PATCH',
        body: { timezone: given },
      });
      expect(res.body.timezone, given).toBe(stored);
    }
  });

  it('pages the shop list by nextCursor, and refuses a cursor it could never have issued', async () => {
    for (const n of [1, 2, 3]) await h.createGenericShop({ name: `Paged ${n}` });
    const first = await h.api('/v1/shops?name=paged&limit=2');
    expect(first.body).toMatchObject({ total: 3, offset: 0, nextCursor: '2' });
    const second = await h.api(`/v1/shops?name=paged&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toMatchObject({ total: 3, offset: 2, nextCursor: null });
    expect(second.body.shops).toHaveLength(1);
    for (const cursor of ['9'.repeat(400), '99999999999999999999', '-1', '1.5', '']) {
      const res = await h.api(`/v1/shops?name=paged&cursor=${cursor}`);
      expect(res.status, cursor).toBe(400);
      expect(res.body.error.details.field).toBe('cursor');
    }
  });

  it('patches a shop and keeps its generated secret', async () => {
    const shop = await h.createGenericShop();
    const res = await h.api(`/v1/shops/${shop.id}`, {
      method: 'PATCH',
      body: { name: 'Renamed', timezone: 'Asia/Taipei', settings: { busyNudge: true } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'Renamed',
      timezone: 'Asia/Taipei',
      settings: { busyNudge: true, slowReplySeconds: 100 },
    });
    const loaded = await h.container.shops.getWithCredentials(shop.id);
    expect(loaded?.credentials.webhookSecret).toBe(shop.webhookSecret);
  });
});
