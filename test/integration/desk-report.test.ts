import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/conversation-store';
import { ManualClock } from '../../src/shared/clock';
import { drained, type TestShop, traffic } from '../support/billing-traffic';
import { type Harness, startHarness } from '../support/harness';
import { openEventStream } from '../support/sse';

// 10:10 in Shanghai on 10 March: the desk's "today" and the report's month so far.
const clock = new ManualClock(Date.parse('2026-03-10T10:10:00+08:00'));
let h: Harness;
let monthly: TestShop;
let tiered: TestShop;
let agentId: string;
let agentToken: string;

const monthlyPlan = {
  model: 'monthly',
  monthlyFen: 800000,
  holdbackPercent: 15,
  targets: { maxAverageFirstResponseSeconds: 200, minWithin3MinRate: 0.5 },
};
const tieredPlan = {
  model: 'tiered',
  tiers: [
    { upToAverageDaily: 50, monthlyFen: 150000 },
    { upToAverageDaily: null, monthlyFen: 400000 },
  ],
};

beforeAll(async () => {
  h = await startHarness({ clock });
  monthly = await h.createGenericShop({ name: '包月店', plan: monthlyPlan });
  tiered = await h.createGenericShop({ name: 'Tiered shop', plan: tieredPlan });
  const lin = (await h.api('/v1/agents', { body: { name: 'Lin', shopIds: [monthly.id] } })).body;
  agentId = lin.id;
  agentToken = lin.token;
  const t = traffic(h, monthly);
  // b1 answered in 60 s, b2 in 240 s, b3 still waiting since 10:08 (120 s at 10:10).
  await t.buyer('b1', '2026-03-10T10:00:00+08:00');
  await t.agent('b1', '2026-03-10T10:01:00+08:00');
  await t.buyer('b2', '2026-03-10T10:02:00+08:00');
  await t.agent('b2', '2026-03-10T10:06:00+08:00');
  await t.buyer('b3', '2026-03-10T10:08:00+08:00');
  await t.rating('b1', 4, '2026-03-10T10:05:00+08:00');
  await t.rating('b2', 5, '2026-03-10T10:07:00+08:00');
  await t.order('b1', 19900, '2026-03-10T10:09:00+08:00');
  await drained(h);
});
afterAll(() => h.close());

describe('the desk', () => {
  it("shows each shop's waiting buyers, longest wait and today's first response, against hand-computed figures", async () => {
    const res = await h.api('/v1/desk');
    expect(res.status).toBe(200);
    const row = res.body.shops.find((s: { id: string }) => s.id === monthly.id);
    expect(row).toMatchObject({
      name: '包月店',
      date: '2026-03-10',
      activeConversations: 3,
      waiting: 1,
      longestWaitSeconds: 120,
      overdue: 1, // past the default slowReplySeconds of 100
      today: {
        consultations: 3,
        answered: 2,
        // (60 + 240) / 2
        averageFirstResponseSeconds: 150,
        // 1 of 3 consultations within 180 s
        within3MinRate: 0.3333,
      },
    });
    // Lin never signed in to the console: offline, so nobody is online at this shop.
    expect(row.agents).toEqual([
      { id: agentId, name: 'Lin', presence: 'offline', open: expect.any(Number) },
    ]);
    expect(row.agentsOnline).toBe(0);
    const quiet = res.body.shops.find((s: { id: string }) => s.id === tiered.id);
    expect(quiet).toMatchObject({
      waiting: 0,
      longestWaitSeconds: 0,
      today: { consultations: 0, averageFirstResponseSeconds: null, within3MinRate: null },
    });
    const agent = res.body.agents.find((a: { id: string }) => a.id === agentId);
    expect(agent.shopIds).toEqual([monthly.id]);
    expect(agent.today.date).toBe('2026-03-10');
    expect(agent.openConversations).toBe(row.agents[0].open);

    clock.advance(30_000);
    const online = await h.api('/v1/agent/presence', {
      method: 'PUT',
      token: agentToken,
      body: { status: 'online' },
    });
    expect(online.status).toBe(200);
    const later = (await h.api('/v1/desk')).body.shops.find(
      (s: { id: string }) => s.id === monthly.id,
    );
    expect(later.longestWaitSeconds).toBe(150);
    expect(later.agentsOnline).toBe(1);
    expect(later.agents[0].presence).toBe('online');
    clock.advance(-30_000);
  });

  it('lists agents with their shops, also those created before the agent index', async () => {
    // An agent from before the index: known only through its shop's agent set.
    await h.container.redis.srem(h.container.keys.allAgents(), agentId);
    const res = await h.api('/v1/agents');
    expect(res.body.agents).toEqual([
      expect.objectContaining({
        id: agentId,
        name: 'Lin',
        shops: [{ id: monthly.id, name: '包月店' }],
        presence: 'online',
      }),
    ]);
  });
});

describe('transfers from the desk', () => {
  it('lets a supervisor move a waiting buyer to another agent, with a note, on the record', async () => {
    const bo = (await h.api('/v1/agents', { body: { name: 'Bo', shopIds: [monthly.id] } })).body;
    const mei = (await h.api('/v1/operators', { body: { name: 'Mei', role: 'supervisor' } })).body;
    const stream = await openEventStream(`${h.url}/v1/agent/events`, bo.token);
    const id = conversationId(monthly.id, 'b3');
    const res = await h.api(`/v1/desk/conversations/${id}/transfer`, {
      token: mei.token,
      body: { toAgentId: bo.id, note: '林在忙，请接一下' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ conversationId: id, agentId: bo.id });
    const event = await stream.waitFor(
      (e) => e.event === 'conversation' && e.data.change === 'transferred',
    );
    expect(event.data).toMatchObject({
      agentId: bo.id,
      fromAgentName: 'Mei',
      note: '林在忙，请接一下',
    });
    await stream.close();
    const held = (await h.api(`/v1/agent/conversations/${id}`, { token: bo.token })).body;
    expect(held.assignedTo).toMatchObject({ agentId: bo.id });
    const audit = (await h.api(`/v1/audit-log?actor=${mei.id}`)).body.entries;
    expect(audit.map((e: { action: string }) => e.action)).toContain('conversation.transfer');
    const outsider = (await h.api('/v1/agents', { body: { name: 'Out', shopIds: [tiered.id] } }))
      .body;
    const refused = await h.api(`/v1/desk/conversations/${id}/transfer`, {
      token: mei.token,
      body: { toAgentId: outsider.id },
    });
    expect(refused.status).toBe(404);
  });
});

describe('the month report', () => {
  it('gives each shop its month against hand-computed figures, targets included', async () => {
    const res = await h.api('/v1/reports/month?month=2026-03');
    expect(res.status).toBe(200);
    const row = res.body.shops.find((s: { shopId: string }) => s.shopId === monthly.id);
    expect(row).toMatchObject({
      planModel: 'monthly',
      consultations: 3,
      // 3 / 31 days
      averageDaily: 0.1,
      receptions: 2,
      tier: null,
      status: 'estimate',
      // 800000 less the 15% holdback (120000): the 3-minute target is missed
      totalFen: 680000,
      within3MinRate: 0.3333,
      averageFirstResponseSeconds: 150,
      conversionRate: 0.3333,
      satisfaction: 4.5,
    });
    expect(row.targets.map((t: { name: string; met: boolean }) => [t.name, t.met])).toEqual([
      ['maxAverageFirstResponseSeconds', true],
      ['minWithin3MinRate', false],
    ]);
    const other = res.body.shops.find((s: { shopId: string }) => s.shopId === tiered.id);
    expect(other).toMatchObject({
      consultations: 0,
      tier: { number: 1, upToAverageDaily: 50 },
      totalFen: 150000,
      targets: null,
    });
    expect(res.body.totals).toEqual({
      consultations: 3,
      receptions: 2,
      totalFen: 830000,
      currency: 'CNY',
    });
  });

  it('answers CSV with a BOM, formula-guarded text', async () => {
    const evil = await h.createGenericShop({ name: '=HYPERLINK("x")', plan: tieredPlan });
    const res = await h.api('/v1/reports/month?month=2026-03', { headers: { accept: 'text/csv' } });
    expect(res.headers.get('content-type')).toContain('text/csv');
    const lines = res.text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe(
      'month,shopId,shop,platform,plan,consultations,averageDaily,tier,status,totalFen,currency,receptions,within3MinRate,conversionRate,satisfaction,targetsMet,problem',
    );
    expect(lines.find((l) => l.includes(monthly.id))).toBe(
      `2026-03,${monthly.id},包月店,generic,monthly,3,0.1,,estimate,680000,CNY,2,0.3333,0.3333,4.5,maxAverageFirstResponseSeconds:met; minWithin3MinRate:not met,`,
    );
    expect(lines.find((l) => l.includes(evil.id))).toContain(`"'=HYPERLINK(""x"")"`);
  });

  it("shows the month for every shop when one shop's stored plan cannot be priced", async () => {
    const broken = await h.createGenericShop({ name: 'Old plan', plan: tieredPlan });
    await traffic(h, broken).buyer('z1', '2026-03-10T09:00:00+08:00');
    await drained(h);
    // A plan stored before amounts were capped: 10,000 seats at the largest safe amount each
    // overflows the exact arithmetic, which refuses rather than round.
    const overflowing = {
      model: 'dedicated_seat',
      seats: 10_000,
      monthlyFenPerSeat: Number.MAX_SAFE_INTEGER,
    };
    const shopKey = h.container.keys.shopRecord(broken.id);
    await h.container.services.redis.hset(shopKey, {
      plan: JSON.stringify(overflowing),
      planHistory: JSON.stringify([{ fromMonth: '2026-01', plan: overflowing }]),
    });
    clock.advance(6_000); // past the registry's short cache

    const res = await h.api('/v1/reports/month?month=2026-03');
    expect(res.status).toBe(200);
    const row = res.body.shops.find((s: { shopId: string }) => s.shopId === broken.id);
    expect(row).toMatchObject({
      planModel: 'dedicated_seat',
      consultations: 1,
      status: null,
      totalFen: null,
      problem: { code: 'invalid_plan' },
    });
    // Every other shop is priced as before, and the totals leave the unpriced shop out.
    const other = res.body.shops.find((s: { shopId: string }) => s.shopId === monthly.id);
    expect(other).toMatchObject({ status: 'estimate', totalFen: 680000, problem: null });
    expect(res.body.totals.totalFen).toBe(
      res.body.shops.reduce(
        (sum: number, s: { totalFen: number | null }) => sum + (s.totalFen ?? 0),
        0,
      ),
    );
    const csv = await h.api('/v1/reports/month?month=2026-03', { headers: { accept: 'text/csv' } });
    expect(csv.text.split('\r\n').find((l) => l.includes(broken.id))).toMatch(
      /,invalid_plan: The shop plan gives amounts too large to bill\.$/,
    );
    // Its own invoice still refuses to bill from it: the report hides nothing.
    expect((await h.api(`/v1/shops/${broken.id}/usage?month=2026-03`)).status).toBe(500);
  });

  it('previews what another plan would bill this month, changing nothing', async () => {
    const res = await h.api(`/v1/shops/${monthly.id}/plan-preview`, {
      body: { plan: { model: 'per_reception', dailyBaseFen: 5000, perReceptionFen: 300 } },
    });
    expect(res.status).toBe(200);
    // one day with receptions (5000) + 2 receptions × 300
    expect(res.body.proposed.totalFen).toBe(5600);
    expect(res.body.current.totalFen).toBe(680000);
    expect((await h.api(`/v1/shops/${monthly.id}`)).body.plan.model).toBe('monthly');
  });
});
