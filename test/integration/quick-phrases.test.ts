import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: false });
});
afterAll(() => h.close());

async function setup() {
  const shop = await h.createGenericShop({ name: '云杉家居' });
  const other = await h.createGenericShop({ name: 'Other' });
  const agent = (await h.api('/v1/agents', { body: { name: '林晓', shopIds: [shop.id] } })).body;
  const stranger = (await h.api('/v1/agents', { body: { name: 'Zed', shopIds: [other.id] } })).body;
  return { shop, other, agent, stranger };
}

describe('quick phrases', () => {
  it('lets the operator manage a shop’s phrases, unique by shortcut, and its agents read them', async () => {
    const { shop, agent, stranger } = await setup();
    const base = `/v1/shops/${shop.id}/quick-phrases`;
    const created = await h.api(base, {
      body: { shortcut: 'hi', text: '{buyerName}您好，欢迎光临云杉家居！' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^qp_/),
      shortcut: 'hi',
      text: '{buyerName}您好，欢迎光临云杉家居！',
    });
    // Shortcuts are unique per shop, whatever the case or width.
    const dup = await h.api(base, { body: { shortcut: 'ＨＩ', text: 'again' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('shortcut_taken');
    const second = await h.api(base, { body: { shortcut: '发货', text: '48小时内发货' } });
    expect(second.status).toBe(201);

    const renamed = await h.api(`${base}/${second.body.id}`, {
      method: 'PATCH',
      body: { text: '付款后48小时内发货，顺丰包邮' },
    });
    expect(renamed.body).toEqual({ ...second.body, text: '付款后48小时内发货，顺丰包邮' });
    expect(
      (await h.api(`${base}/${second.body.id}`, { method: 'PATCH', body: { shortcut: 'HI' } }))
        .status,
    ).toBe(409);

    const read = await h.api(base, { token: agent.token });
    expect(read.status).toBe(200);
    expect(read.body.quickPhrases.map((p: { shortcut: string }) => p.shortcut).sort()).toEqual(
      ['hi', '发货'].sort(),
    );
    // Another shop's agent cannot see them; an agent cannot change them.
    expect((await h.api(base, { token: stranger.token })).status).toBe(404);
    expect(
      (await h.api(base, { token: agent.token, body: { shortcut: 'x', text: 'y' } })).status,
    ).toBe(403);
    expect((await h.api(`/v1/shops/shp_missing/quick-phrases`)).status).toBe(404);

    expect((await h.api(`${base}/${second.body.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.api(`${base}/${second.body.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await h.api(base)).body.quickPhrases).toHaveLength(1);
  });

  it('keeps personal phrases per agent and lists them with the shops’ phrases, scope marked', async () => {
    const { shop, agent, stranger } = await setup();
    await h.api(`/v1/shops/${shop.id}/quick-phrases`, { body: { shortcut: 'hi', text: '您好' } });
    const mine = await h.api('/v1/agent/quick-phrases', {
      token: agent.token,
      body: { shortcut: 'hi', text: '亲，在的～' },
    });
    // The same shortcut as a shop phrase is fine: scopes are apart.
    expect(mine.status).toBe(201);
    expect(
      (
        await h.api('/v1/agent/quick-phrases', {
          token: agent.token,
          body: { shortcut: 'Hi', text: 'dup' },
        })
      ).status,
    ).toBe(409);

    const list = await h.api('/v1/agent/quick-phrases', { token: agent.token });
    expect(list.body.quickPhrases).toEqual([
      { id: mine.body.id, shortcut: 'hi', text: '亲，在的～', scope: 'personal' },
      { id: expect.any(String), shortcut: 'hi', text: '您好', scope: 'shop', shopId: shop.id },
    ]);
    // Another agent neither sees nor changes them.
    expect(
      (await h.api('/v1/agent/quick-phrases', { token: stranger.token })).body.quickPhrases,
    ).toEqual([]);
    expect(
      (
        await h.api(`/v1/agent/quick-phrases/${mine.body.id}`, {
          token: stranger.token,
          method: 'PATCH',
          body: { text: 'hijack' },
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await h.api(`/v1/agent/quick-phrases/${mine.body.id}`, {
          token: stranger.token,
          method: 'DELETE',
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await h.api(`/v1/agent/quick-phrases/${mine.body.id}`, {
          token: agent.token,
          method: 'DELETE',
        })
      ).status,
    ).toBe(204);
  });

  it('refuses bad phrases with the field named', async () => {
    const { agent } = await setup();
    const post = (body: unknown) => h.api('/v1/agent/quick-phrases', { token: agent.token, body });
    for (const body of [
      { shortcut: '', text: 'x' },
      { shortcut: 'two words', text: 'x' },
      { shortcut: 'a/b', text: 'x' },
      { shortcut: 'x'.repeat(33), text: 'x' },
      { shortcut: 'ok', text: '   ' },
      { shortcut: 'ok', text: 'x'.repeat(2001) },
      { shortcut: 'ok', text: 'x', extra: 1 },
    ]) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const res = await h.api('/v1/agent/quick-phrases/qp_nope', {
      token: agent.token,
      method: 'PATCH',
      body: {},
    });
    expect(res.status).toBe(400);
  });

  it('refuses text that is not Unicode, and a phrase stored with it does not break its shop', async () => {
    const { shop } = await setup();
    const base = `/v1/shops/${shop.id}/quick-phrases`;
    // An unpaired surrogate escape: valid JSON, but no UTF-8 text can hold it.
    const lone = await h.api(base, { body: '{"shortcut":"a\\udfff","text":"hello"}' });
    expect(lone.status).toBe(400);
    expect(lone.body.error).toMatchObject({
      code: 'invalid_request',
      details: { field: 'shortcut' },
    });
    // One stored before the API refused them: Lua's JSON decoder cannot read it.
    await h.container.redis.hset(
      h.container.keys.shopQuickPhrases(shop.id),
      'qp_old',
      '{"id":"qp_old","shortcut":"a\\udfff","text":"x","match":"a\\udfff","createdAt":1}',
    );
    const next = await h.api(base, { body: { shortcut: 'ship', text: 'Ships in 48 hours' } });
    expect(next.status).toBe(201);
    expect((await h.api(base, { body: { shortcut: 'SHIP', text: 'again' } })).status).toBe(409);
    expect(
      (await h.api(base)).body.quickPhrases.map((p: { shortcut: string }) => p.shortcut),
    ).toContain('ship');
  });
});
