import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskBuyerId } from '../../src/metering/consultation-audit';
import { ManualClock } from '../../src/shared/clock';
import { drained, type TestShop, traffic } from '../support/billing-traffic';
import { type Harness, startHarness } from '../support/harness';

let h: Harness;
const clock = new ManualClock(Date.parse('2026-03-20T12:00:00+08:00'));
let mine: TestShop;
let theirs: TestShop;
const PLAN = { model: 'dedicated_seat', seats: 2, monthlyFenPerSeat: 600_000 };

beforeAll(async () => {
  h = await startHarness({ clock });
  mine = await h.createGenericShop({ plan: PLAN });
  theirs = await h.createGenericShop({ plan: PLAN });
  const t = traffic(h, mine);
  await t.buyer('buyer-0042', '2026-03-12T09:00:00+08:00');
  await t.agent('buyer-0042', '2026-03-12T09:00:45+08:00');
  await t.order('buyer-0042', 9900, '2026-03-13T09:00:00+08:00');
  await t.buyer('=HYPERLINK("http://x")', '2026-03-12T10:00:00+08:00');
  await t.buyer('<img src=x onerror=alert(1)>', '2026-03-12T11:00:00+08:00');
  await drained(h);
});
afterAll(() => h.close());

describe('who sees invoices', () => {
  it("gives an owner another shop's invoices, usage and audit as 404, like a missing shop", async () => {
    for (const path of [
      `/v1/shops/${theirs.id}/invoices`,
      `/v1/shops/${theirs.id}/invoices/2026-03`,
      `/v1/shops/${theirs.id}/usage`,
      `/v1/shops/${theirs.id}/consultations?date=2026-03-12`,
    ]) {
      const res = await h.api(path, { token: mine.ownerKey });
      expect(res.status, path).toBe(404);
      expect(res.body).toEqual(
        (await h.api('/v1/shops/shp_missing/invoices', { token: mine.ownerKey })).body,
      );
    }
    expect(
      (await h.api(`/v1/shops/${mine.id}/invoices/2026-03`, { token: mine.ownerKey })).body
        .totalFen,
    ).toBe(1_200_000);
    expect((await h.api(`/v1/shops/${theirs.id}/invoices/2026-03`)).status).toBe(200);
  });

  it('keeps overtime and month close to the operator', async () => {
    expect(
      (
        await h.api(`/v1/shops/${mine.id}/overtime`, {
          token: mine.ownerKey,
          body: { date: '2026-03-02', hours: 1 },
        })
      ).status,
    ).toBe(403);
    expect(
      (await h.api('/v1/billing/close', { token: mine.ownerKey, body: { month: '2026-02' } }))
        .status,
    ).toBe(403);
    expect(
      (await h.api(`/v1/shops/${mine.id}/overtime`, { body: { date: '2026-03-02', hours: 1.234 } }))
        .status,
    ).toBe(400);
  });

  it('refuses plan amounts an invoice could not hold exactly, instead of failing every read of the shop', async () => {
    const shop = await h.createGenericShop({ plan: PLAN });
    const huge = [
      { model: 'dedicated_seat', seats: 2, monthlyFenPerSeat: Number.MAX_SAFE_INTEGER },
      { model: 'dedicated_seat', seats: 1_000_000, monthlyFenPerSeat: 600_000 },
      {
        model: 'tiered',
        tiers: [{ upToAverageDaily: null, monthlyFen: 100 }],
        overtime: { hourlyBaseFen: Number.MAX_SAFE_INTEGER, ratePercent: 500 },
      },
    ];
    for (const plan of huge) {
      const patched = await h.api(`/v1/shops/${shop.id}`, { method: 'PATCH', body: { plan } });
      expect(patched.status, JSON.stringify(plan)).toBe(400);
      expect(patched.body.error.details.field).toMatch(/^plan\./);
      const preview = await h.api(`/v1/shops/${shop.id}/plan-preview`, { body: { plan } });
      expect(preview.status).toBe(400);
    }
    // The largest amounts allowed still price without overflow.
    const largest = await h.createGenericShop({
      plan: { model: 'dedicated_seat', seats: 10_000, monthlyFenPerSeat: 1_000_000_000 },
    });
    const usage = await h.api(`/v1/shops/${largest.id}/usage`, { token: largest.ownerKey });
    expect(usage.status).toBe(200);
    expect(usage.body.estimate.totalFen).toBe(10_000_000_000_000);
    expect((await h.api('/v1/reports/month')).status).toBe(200);
  });

  it('still reads and prices a plan stored before the caps, past them', async () => {
    const shop = await h.createGenericShop({ plan: PLAN });
    // What the previous version accepted and stored: 12,000 seats.
    const before = { model: 'dedicated_seat', seats: 12_000, monthlyFenPerSeat: 100 };
    await h.container.redis.hset(
      h.container.keys.shopRecord(shop.id),
      'plan',
      JSON.stringify(before),
    );
    const read = await h.api(`/v1/shops/${shop.id}`);
    expect(read.status).toBe(200);
    expect(read.body.plan).toEqual(before);
    const usage = await h.api(`/v1/shops/${shop.id}/usage`, { token: shop.ownerKey });
    expect(usage.status).toBe(200);
    expect(usage.body.estimate.totalFen).toBe(1_200_000);
  });

  it('serves an invoice as CSV on Accept: text/csv', async () => {
    const res = await h.api(`/v1/shops/${mine.id}/invoices/2026-03`, {
      token: mine.ownerKey,
      headers: { accept: 'text/csv' },
    });
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.text.replace(/^\uFEFF/, '').split('\r\n')).toEqual([
      'kind,description,quantity,unitFen,amountFen',
      expect.stringMatching(/^seats,.*,2,600000,1200000$/),
      'total,Total (CNY),,,1200000',
      '',
    ]);
  });

  it('lists invoices as CSV too', async () => {
    const res = await h.api(`/v1/shops/${mine.id}/invoices`, {
      token: mine.ownerKey,
      headers: { accept: 'text/csv' },
    });
    expect(res.text.replace(/^\uFEFF/, '').split('\r\n')).toEqual([
      'month,status,currency,totalFen,finalizedAt',
      '2026-03,draft,CNY,1200000,',
      '',
    ]);
  });

  it('rejects a month that has not started', async () => {
    const res = await h.api(`/v1/shops/${mine.id}/invoices/2026-05`, { token: mine.ownerKey });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('month_not_started');
  });
});

describe('consultations audit', () => {
  it('lists the day with masked buyers, local first-message times, first response and conversion', async () => {
    const res = await h.api(`/v1/shops/${mine.id}/consultations?date=2026-03-12`, {
      token: mine.ownerKey,
    });
    expect(res.status).toBe(200);
    expect(res.body.consultations).toEqual([
      {
        buyer: 'bu***42',
        firstMessageAt: '2026-03-12T09:00:00+08:00',
        firstResponseSeconds: 45,
        converted: true,
      },
      {
        buyer: maskBuyerId('=HYPERLINK("http://x")'),
        firstMessageAt: '2026-03-12T10:00:00+08:00',
        firstResponseSeconds: null,
        converted: false,
      },
      {
        buyer: '<i***)>',
        firstMessageAt: '2026-03-12T11:00:00+08:00',
        firstResponseSeconds: null,
        converted: false,
      },
    ]);
  });

  it('gives the same rows as CSV, with formula-looking cells defused', async () => {
    const res = await h.api(`/v1/shops/${mine.id}/consultations?date=2026-03-12`, {
      token: mine.ownerKey,
      headers: { accept: 'text/csv' },
    });
    expect(res.headers.get('content-disposition')).toContain('attachment');
    expect(res.text.replace(/^\uFEFF/, '').split('\r\n')).toEqual([
      'buyer,firstMessageAt,firstResponseSeconds,converted',
      'bu***42,2026-03-12T09:00:00+08:00,45,true',
      `"'=H***"")",2026-03-12T10:00:00+08:00,,false`,
      '<i***)>,2026-03-12T11:00:00+08:00,,false',
      '',
    ]);
  });

  it('masks short ids too', () => {
    expect([maskBuyerId('ab'), maskBuyerId('abcd'), maskBuyerId('客人甲乙丙')]).toEqual([
      'a***',
      'a***d',
      '客人***乙丙',
    ]);
  });
});
