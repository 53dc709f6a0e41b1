import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { agentAdminRoutes } from '../../src/http/routes/agent-admin-routes';
import { deskRoutes } from '../../src/http/routes/desk-routes';
import { operatorRoutes } from '../../src/http/routes/operator-routes';
import { opsAdminRoutes } from '../../src/http/routes/ops-routes';
import { shopRoutes } from '../../src/http/routes/shop-routes';
import { ManualClock } from '../../src/shared/clock';
import { buyerMessage, type Harness, startHarness } from '../support/harness';

const clock = new ManualClock(Date.parse('2026-03-10T10:00:00+08:00'));
let h: Harness;
let shop: { id: string; ownerKey: string; webhookSecret: string };
let agent: { id: string; token: string };
let supervisor: { id: string; token: string };

beforeAll(async () => {
  h = await startHarness({ clock, workers: false, env: { WEBHOOK_SECRET_GRACE_HOURS: '24' } });
  shop = await h.createGenericShop({ name: 'Roles shop' });
  agent = (await h.api('/v1/agents', { body: { name: 'Lin', shopIds: [shop.id] } })).body;
  supervisor = (await h.api('/v1/operators', { body: { name: 'Mei', role: 'supervisor' } })).body;
});
afterAll(() => h.close());

const plan = { model: 'per_reception', dailyBaseFen: 5000, perReceptionFen: 300 };

/**
 * Every operator route, by what a supervisor may do with it. `path` fills
 * the route's parameters; `body` is a valid request so only the role decides.
 */
type Case = { method: string; route: string; path: () => string; body?: () => unknown };
const adminOnly: Case[] = [
  {
    method: 'POST',
    route: '/v1/shops',
    path: () => '/v1/shops',
    body: () => ({ name: 'X', platform: 'generic' }),
  },
  {
    method: 'PATCH',
    route: '/v1/shops/:shopId',
    path: () => `/v1/shops/${shop.id}`,
    body: () => ({ plan }),
  },
  {
    method: 'POST',
    route: '/v1/shops/:shopId/owner-key',
    path: () => `/v1/shops/${shop.id}/owner-key`,
    body: () => ({}),
  },
  {
    method: 'POST',
    route: '/v1/shops/:shopId/webhook-secret',
    path: () => `/v1/shops/${shop.id}/webhook-secret`,
    body: () => ({}),
  },
  {
    method: 'POST',
    route: '/v1/shops/:shopId/overtime',
    path: () => `/v1/shops/${shop.id}/overtime`,
    body: () => ({ date: '2026-03-01', hours: 1 }),
  },
  {
    method: 'POST',
    route: '/v1/agents',
    path: () => '/v1/agents',
    body: () => ({ name: 'Y', shopIds: [shop.id] }),
  },
  { method: 'DELETE', route: '/v1/agents/:agentId', path: () => `/v1/agents/${agent.id}` },
  {
    method: 'POST',
    route: '/v1/agents/:agentId/token',
    path: () => `/v1/agents/${agent.id}/token`,
    body: () => ({}),
  },
  {
    method: 'POST',
    route: '/v1/operators',
    path: () => '/v1/operators',
    body: () => ({ name: 'Z', role: 'admin' }),
  },
  {
    method: 'PATCH',
    route: '/v1/operators/:operatorId',
    path: () => `/v1/operators/${supervisor.id}`,
    body: () => ({ role: 'admin' }),
  },
  {
    method: 'DELETE',
    route: '/v1/operators/:operatorId',
    path: () => `/v1/operators/${supervisor.id}`,
  },
  { method: 'GET', route: '/v1/audit-log', path: () => '/v1/audit-log' },
  {
    method: 'POST',
    route: '/v1/billing/close',
    path: () => '/v1/billing/close',
    body: () => ({ month: '2026-01' }),
  },
  {
    method: 'POST',
    route: '/v1/billing/close-jobs',
    path: () => '/v1/billing/close-jobs',
    body: () => ({ month: '2026-01' }),
  },
  {
    method: 'POST',
    route: '/v1/ops/failed-jobs/:queue/:jobId/retry',
    path: () => '/v1/ops/failed-jobs/inbound/nope/retry',
    body: () => ({}),
  },
];
const supervisorToo: Case[] = [
  { method: 'GET', route: '/v1/shops', path: () => '/v1/shops' },
  {
    method: 'POST',
    route: '/v1/desk/conversations/:conversationId/transfer',
    path: () => `/v1/desk/conversations/${conversationId(shop.id, 'nobody')}/transfer`,
    body: () => ({ toAgentId: agent.id }),
  },
  { method: 'GET', route: '/v1/shops/:shopId', path: () => `/v1/shops/${shop.id}` },
  { method: 'GET', route: '/v1/agents', path: () => '/v1/agents' },
  { method: 'GET', route: '/v1/agents/:agentId', path: () => `/v1/agents/${agent.id}` },
  {
    method: 'PATCH',
    route: '/v1/agents/:agentId',
    path: () => `/v1/agents/${agent.id}`,
    body: () => ({ shopIds: [shop.id] }),
  },
  { method: 'GET', route: '/v1/operators', path: () => '/v1/operators' },
  { method: 'GET', route: '/v1/desk', path: () => '/v1/desk' },
  { method: 'GET', route: '/v1/ops/failed-jobs', path: () => '/v1/ops/failed-jobs' },
  { method: 'GET', route: '/v1/reports/month', path: () => '/v1/reports/month?month=2026-03' },
  {
    method: 'GET',
    route: '/v1/billing/close-preview',
    path: () => '/v1/billing/close-preview?month=2026-02',
  },
  {
    method: 'GET',
    route: '/v1/billing/close-jobs/:jobId',
    path: () => '/v1/billing/close-jobs/nope',
  },
  {
    method: 'POST',
    route: '/v1/shops/:shopId/plan-preview',
    path: () => `/v1/shops/${shop.id}/plan-preview`,
    body: () => ({ plan }),
  },
  { method: 'GET', route: '/v1/shops/:shopId/usage', path: () => `/v1/shops/${shop.id}/usage` },
  {
    method: 'GET',
    route: '/v1/shops/:shopId/invoices',
    path: () => `/v1/shops/${shop.id}/invoices`,
  },
  { method: 'GET', route: '/v1/agents/:agentId/stats', path: () => `/v1/agents/${agent.id}/stats` },
];
const key = (c: { method: string; route: string }) => `${c.method} ${c.route}`;

describe('operator roles (the permission table, over the router)', () => {
  it('classifies every operator route, so a new one cannot skip the table', () => {
    const services = h.container.services;
    const routers = [
      shopRoutes(services),
      agentAdminRoutes(services),
      operatorRoutes(services),
      deskRoutes(services),
      opsAdminRoutes(services),
    ];
    const known = new Set([...adminOnly, ...supervisorToo].map(key));
    const routes = routers.flatMap((r) =>
      r.stack.flatMap((layer) =>
        layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${layer.path}`),
      ),
    );
    expect(routes.length).toBeGreaterThan(15);
    expect(routes.filter((r) => !known.has(r))).toEqual([]);
  });

  it('lists every operator route in /openapi.json', async () => {
    const services = h.container.services;
    const doc = (await h.api('/openapi.json', { token: '' })).body;
    const routers = [
      shopRoutes(services),
      agentAdminRoutes(services),
      operatorRoutes(services),
      deskRoutes(services),
      opsAdminRoutes(services),
      ...h.container.billing.routers().v1,
    ];
    const missing = routers.flatMap((r) =>
      r.stack.flatMap((layer) =>
        layer.methods
          .filter((m) => m !== 'HEAD')
          .map((m) => [m.toLowerCase(), String(layer.path).replace(/:(\w+)/g, '{$1}')] as const)
          .filter(([method, path]) => !doc.paths[path]?.[method])
          .map(([method, path]) => `${method} ${path}`),
      ),
    );
    expect(missing).toEqual([]);
  });

  it.each(adminOnly.map((c) => [key(c), c] as const))(
    'refuses %s to a supervisor (403 naming what), an owner and an agent',
    async (_name, c) => {
      const call = (token: string) =>
        h.api(c.path(), { method: c.method, token, body: c.body?.() });
      const asSupervisor = await call(supervisor.token);
      expect(asSupervisor.status).toBe(403);
      expect(asSupervisor.body.error.code).toBe('forbidden');
      expect(asSupervisor.body.error.message).toMatch(/^A supervisor may not .+; ask an admin\.$/);
      for (const token of [shop.ownerKey, agent.token]) {
        const res = await call(token);
        expect([403, 404]).toContain(res.status);
      }
    },
  );

  it.each(supervisorToo.map((c) => [key(c), c] as const))(
    'lets a supervisor %s, and keeps agents out',
    async (_name, c) => {
      const res = await h.api(c.path(), {
        method: c.method,
        token: supervisor.token,
        body: c.body?.(),
      });
      expect(res.status, res.text).not.toBe(403);
      expect(res.status, res.text).toBeLessThan(500);
      const asAgent = await h.api(c.path(), {
        method: c.method,
        token: agent.token,
        body: c.body?.(),
      });
      expect([403, 404]).toContain(asAgent.status);
    },
  );

  it('lets a supervisor move an agent but not rename one', async () => {
    const other = await h.createGenericShop({ name: 'Second' });
    const moved = await h.api(`/v1/agents/${agent.id}`, {
      method: 'PATCH',
      token: supervisor.token,
      body: { shopIds: [shop.id, other.id] },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.shopIds).toEqual([shop.id, other.id]);
    const renamed = await h.api(`/v1/agents/${agent.id}`, {
      method: 'PATCH',
      token: supervisor.token,
      body: { name: 'New name' },
    });
    expect(renamed.status).toBe(403);
    expect(renamed.body.error.message).toContain('rename');
  });
});

describe('operators', () => {
  it('creates an operator with a token shown once, lists them without it, applies a role change and a revocation at once', async () => {
    const created = await h.api('/v1/operators', { body: { name: 'Kai', role: 'supervisor' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Kai', role: 'supervisor' });
    expect(created.body.token).toMatch(/^opr_[\w-]{32}$/);
    const list = await h.api('/v1/operators');
    expect(list.body.operators.map((o: { id: string }) => o.id)).toContain(created.body.id);
    expect(list.text).not.toContain(created.body.token);

    const token = created.body.token as string;
    expect(
      (await h.api('/v1/operators', { token, body: { name: 'A', role: 'admin' } })).status,
    ).toBe(403);
    expect(
      (
        await h.api(`/v1/operators/${created.body.id}`, {
          method: 'PATCH',
          body: { role: 'admin' },
        })
      ).status,
    ).toBe(200);
    const asAdmin = await h.api('/v1/operators', {
      token,
      body: { name: 'Made by Kai', role: 'supervisor' },
    });
    expect(asAdmin.status).toBe(201);

    expect((await h.api(`/v1/operators/${created.body.id}`, { method: 'DELETE' })).status).toBe(
      204,
    );
    expect((await h.api('/v1/shops', { token })).status).toBe(401);
  });

  it('refuses a role that does not exist, naming the field', async () => {
    const res = await h.api('/v1/operators', { body: { name: 'Bad', role: 'owner' } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error)).toContain('role');
  });
});

describe('reissue and rotate', () => {
  it('reissues an owner key: the new one works, the old one is refused at once', async () => {
    const s = await h.createGenericShop({ name: 'Keys' });
    const res = await h.api(`/v1/shops/${s.id}/owner-key`, { body: {} });
    expect(res.status).toBe(200);
    expect(res.body.ownerKey).toMatch(/^own_/);
    expect((await h.api(`/v1/shops/${s.id}`, { token: s.ownerKey })).status).toBe(401);
    expect((await h.api(`/v1/shops/${s.id}`, { token: res.body.ownerKey })).status).toBe(200);
  });

  it("reissues an agent's token: the old one is refused at once", async () => {
    const a = (await h.api('/v1/agents', { body: { name: 'Reissued', shopIds: [shop.id] } })).body;
    const res = await h.api(`/v1/agents/${a.id}/token`, { body: {} });
    expect(res.status).toBe(200);
    expect((await h.api('/v1/agent/me', { token: a.token })).status).toBe(401);
    expect((await h.api('/v1/agent/me', { token: res.body.token })).status).toBe(200);
    expect((await h.api('/v1/agents/agt_nope/token', { body: {} })).status).toBe(404);
  });

  it('rotates a webhook secret: the previous one verifies until the grace period ends', async () => {
    const s = await h.createGenericShop({ name: 'Rotating' });
    const send = (secret: string) =>
      h.sendGeneric({ id: s.id, webhookSecret: secret }, buyerMessage('b1', 'hi', clock.now()));
    const res = await h.api(`/v1/shops/${s.id}/webhook-secret`, { body: {} });
    expect(res.status).toBe(200);
    expect(res.body.webhookSecret).toMatch(/^whsec_/);
    expect(res.body.webhookSecret).not.toBe(s.webhookSecret);
    expect(res.body.previousValidUntil).toBe(new Date(clock.now() + 24 * 3_600_000).toISOString());
    expect((await send(res.body.webhookSecret)).status).toBe(200);
    expect((await send(s.webhookSecret)).status).toBe(200);
    clock.advance(24 * 3_600_000 - 1000);
    expect((await send(s.webhookSecret)).status).toBe(200);
    clock.advance(2000);
    expect((await send(s.webhookSecret)).status).toBe(401);
    expect((await send(res.body.webhookSecret)).status).toBe(200);
  });

  it('with revokePrevious, refuses the previous secret at once', async () => {
    const s = await h.createGenericShop({ name: 'Revoked' });
    const res = await h.api(`/v1/shops/${s.id}/webhook-secret`, { body: { revokePrevious: true } });
    expect(res.body.previousValidUntil).toBeNull();
    const send = (secret: string) =>
      h.sendGeneric({ id: s.id, webhookSecret: secret }, buyerMessage('b2', 'hi', clock.now()));
    expect((await send(s.webhookSecret)).status).toBe(401);
    expect((await send(res.body.webhookSecret)).status).toBe(200);
  });

  it('refuses a webhook secret with fewer than 24 random bytes, and a rotation on a non-generic shop', async () => {
    const short = `whsec_${Buffer.alloc(16, 7).toString('base64')}`;
    const res = await h.api(`/v1/shops/${shop.id}`, {
      method: 'PATCH',
      body: { credentials: { webhookSecret: short } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.field).toBe('credentials.webhookSecret');
    const created = await h.api('/v1/shops', {
      body: { name: 'Short', platform: 'generic', credentials: { webhookSecret: short } },
    });
    expect(created.status).toBe(201);
    // A secret given at creation is replaced by a generated one of full length.
    expect(Buffer.from(created.body.webhookSecret.slice(6), 'base64').length).toBe(32);
    const line = await h.api('/v1/shops', {
      body: {
        name: 'Line',
        platform: 'line',
        credentials: { channelSecret: 'c'.repeat(32), channelAccessToken: 't'.repeat(40) },
      },
    });
    expect(line.status, line.text).toBe(201);
    const rotate = await h.api(`/v1/shops/${line.body.id}/webhook-secret`, { body: {} });
    expect(rotate.status).toBe(409);
    expect(rotate.body.error.code).toBe('not_generic');
  });
});

describe('the audit log', () => {
  it('records who did what to which shop, filters by shop and actor, and never holds a secret', async () => {
    const s = await h.createGenericShop({ name: 'Audited' });
    const admin = (await h.api('/v1/operators', { body: { name: 'Ada', role: 'admin' } })).body;
    const patched = await h.api(`/v1/shops/${s.id}`, {
      method: 'PATCH',
      token: admin.token,
      body: {
        plan,
        credentials: { webhookSecret: `whsec_${Buffer.alloc(32, 9).toString('base64')}` },
      },
    });
    expect(patched.status).toBe(200);
    const key = await h.api(`/v1/shops/${s.id}/owner-key`, { token: admin.token, body: {} });
    const secret = await h.api(`/v1/shops/${s.id}/webhook-secret`, {
      token: admin.token,
      body: {},
    });
    const a = await h.api('/v1/agents', {
      token: admin.token,
      body: { name: 'Wu', shopIds: [s.id] },
    });
    const token = await h.api(`/v1/agents/${a.body.id}/token`, { token: admin.token, body: {} });
    // A refused attempt changes nothing and is not an action.
    await h.api(`/v1/shops/${s.id}`, { method: 'PATCH', token: supervisor.token, body: { plan } });

    const log = await h.api(`/v1/audit-log?shopId=${s.id}`);
    expect(log.status).toBe(200);
    const actions = log.body.entries.map((e: { action: string }) => e.action);
    expect(actions).toEqual([
      'agent.token.reissue',
      'agent.create',
      'shop.webhook_secret.rotate',
      'shop.owner_key.reissue',
      'shop.update',
      'shop.create',
    ]);
    const update = log.body.entries.find((e: { action: string }) => e.action === 'shop.update');
    expect(update.actor).toEqual({ id: admin.id, name: 'Ada', role: 'admin' });
    expect(update.at).toBe(new Date(clock.now()).toISOString());
    expect(update.details).toMatchObject({ plan, credentialFields: ['webhookSecret'] });
    const create = log.body.entries.find((e: { action: string }) => e.action === 'shop.create');
    expect(create.actor.id).toBe('owner');

    const byActor = await h.api(`/v1/audit-log?actor=${admin.id}`);
    expect(byActor.body.entries.map((e: { action: string }) => e.action)).toContain(
      'agent.token.reissue',
    );
    expect(
      byActor.body.entries.every((e: { actor: { id: string } }) => e.actor.id === admin.id),
    ).toBe(true);

    const everything = (await h.api('/v1/audit-log?limit=5000')).text;
    const csv = (await h.api('/v1/audit-log', { headers: { accept: 'text/csv' } })).text;
    const secrets = [
      admin.token,
      key.body.ownerKey,
      secret.body.webhookSecret,
      a.body.token,
      token.body.token,
      s.ownerKey,
      s.webhookSecret,
      supervisor.token,
    ];
    for (const value of secrets) {
      expect(everything).not.toContain(value);
      expect(csv).not.toContain(value);
    }
    expect(everything).not.toContain(Buffer.alloc(32, 9).toString('base64'));
    expect(csv.replace(/^\uFEFF/, '').startsWith('at,actorId,actorName,role,action')).toBe(true);
  });

  it('refuses a from or to that is not a real instant: no offset (read in the server zone) or a day past the month end', async () => {
    for (const value of [
      '2026-02-30T00:00:00Z',
      '2026-01-01T10:00:00',
      '2026-01-01T10:00',
      '2026-13-01T00:00:00Z',
    ]) {
      const res = await h.api(`/v1/audit-log?from=${encodeURIComponent(value)}`);
      expect(res.status, value).toBe(400);
      expect(res.body.error.details.field).toBe('from');
    }
    for (const value of ['2026-01-01T10:00:00+08:00', '2026-01-01T02:00:00.000Z', '2026-01-01'])
      expect((await h.api(`/v1/audit-log?from=${encodeURIComponent(value)}`)).status, value).toBe(
        200,
      );
  });

  it('filters by time: from and to bound the entries', async () => {
    const before = new Date(clock.now()).toISOString();
    clock.advance(60_000);
    const created = await h.createGenericShop({ name: 'Later' });
    const after = new Date(clock.now() + 1).toISOString();
    const upToBefore = await h.api(
      `/v1/audit-log?to=${encodeURIComponent(before)}&shopId=${created.id}`,
    );
    expect(upToBefore.body.entries).toEqual([]);
    const window = await h.api(
      `/v1/audit-log?from=${encodeURIComponent(before)}&to=${encodeURIComponent(after)}&shopId=${created.id}`,
    );
    expect(window.body.entries.map((e: { action: string }) => e.action)).toEqual(['shop.create']);
  });
});
