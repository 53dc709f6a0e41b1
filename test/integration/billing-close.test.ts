import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MONTH_CLOSE_CRON, MONTH_CLOSE_SCHEDULER } from '../../src/billing/billing-module';
import { ManualClock } from '../../src/shared/clock';
import { drained, type TestShop, traffic } from '../support/billing-traffic';
import { eventually, type Harness, startHarness } from '../support/harness';

/**
 * Month close end to end: refused before the month ends, idempotent, resumable
 * after a crash, and late events carried to the next invoice. One harness per
 * file, so every shop here is closed by the same runs.
 */
let h: Harness;
const clock = new ManualClock(Date.parse('2026-03-20T12:00:00+08:00'));
const PLAN = { model: 'per_reception', dailyBaseFen: 5000, perReceptionFen: 300 };
let shanghai: TestShop;
let tokyo: TestShop;
let honolulu: TestShop;

beforeAll(async () => {
  h = await startHarness({ clock, env: { BILLING_TIMEZONE: 'Asia/Shanghai' } });
  shanghai = await h.createGenericShop({ plan: PLAN });
  tokyo = await h.createGenericShop({ timezone: 'Asia/Tokyo', plan: PLAN });
  honolulu = await h.createGenericShop({ timezone: 'Pacific/Honolulu', plan: PLAN });
  for (const shop of [shanghai, tokyo, honolulu]) {
    const t = traffic(h, shop);
    // 10 receptions on one day: 50.00 + 10 × 3.00 = 80.00 CNY.
    for (let i = 0; i < 10; i++) {
      await t.buyer(`b${i}`, '2026-03-10T10:00:00+08:00');
      await t.agent(`b${i}`, '2026-03-10T10:01:00+08:00');
    }
  }
  await drained(h);
});
afterAll(() => h.close());

const close = (month: string) => h.api('/v1/billing/close', { body: { month } });
const invoice = async (shop: TestShop, month: string, token?: string) =>
  (await h.api(`/v1/shops/${shop.id}/invoices/${month}`, { token })).body;

describe('month close', () => {
  it('refuses a month that has not ended for the operator', async () => {
    const res = await close('2026-03');
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('month_not_ended');
  });

  it('skips a shop whose month has not ended in its own zone, and a rerun after it has closes it', async () => {
    // 00:30 on 1 April in Shanghai is still 31 March 06:30 in Honolulu.
    clock.set(Date.parse('2026-04-01T00:30:00+08:00'));
    const tokyoDraft = await invoice(tokyo, '2026-03');
    const first = await close('2026-03');
    expect(first.status).toBe(200);
    expect(first.body.closed).toBe(2);
    expect(first.body.skipped).toEqual([
      expect.objectContaining({ shopId: honolulu.id, reason: 'month_not_ended_in_shop_zone' }),
    ]);
    expect((await invoice(honolulu, '2026-03')).status).toBe('draft');
    expect(await invoice(shanghai, '2026-03')).toMatchObject({
      status: 'final',
      totalFen: 8000,
      plan: PLAN,
    });
    // Preview and final come from one pricing path: same lines, total and inputs.
    const { status: draftStatus, ...draft } = tokyoDraft;
    const { status: finalStatus, finalizedAt, ...final } = await invoice(tokyo, '2026-03');
    expect([draftStatus, finalStatus, typeof finalizedAt]).toEqual(['draft', 'final', 'string']);
    expect(final).toEqual(draft);

    clock.set(Date.parse('2026-04-02T00:30:00+08:00'));
    const second = await close('2026-03');
    expect(second.body).toMatchObject({ closed: 1, alreadyClosed: 2, skipped: [] });
  });

  it('changes nothing when run again', async () => {
    const before = await Promise.all([shanghai, tokyo, honolulu].map((s) => invoice(s, '2026-03')));
    const again = await close('2026-03');
    expect(again.body).toMatchObject({ closed: 0, alreadyClosed: 3 });
    expect(
      await Promise.all([shanghai, tokyo, honolulu].map((s) => invoice(s, '2026-03'))),
    ).toEqual(before);
  });

  it('a late event for a final month leaves that invoice alone and adjusts the next one, once', async () => {
    const marchFinal = await invoice(shanghai, '2026-03');
    const t = traffic(h, shanghai);
    // A reception on 31 March arrives after close: March becomes 2 days and 11 receptions = 133.00, so +53.00.
    await t.buyer('late-buyer', '2026-03-31T22:00:00+08:00');
    await t.agent('late-buyer', '2026-03-31T22:05:00+08:00');
    await drained(h);
    expect(await invoice(shanghai, '2026-03')).toEqual(marchFinal);
    const aprilDraft = await invoice(shanghai, '2026-04');
    expect(aprilDraft.status).toBe('draft');
    expect(aprilDraft.lines).toEqual([
      expect.objectContaining({ kind: 'reception_days', amountFen: 0 }),
      expect.objectContaining({ kind: 'receptions', amountFen: 0 }),
      expect.objectContaining({
        kind: 'adjustment',
        amountFen: 5300,
        description: expect.stringContaining('Late adjustment for 2026-03'),
      }),
    ]);
    // The usage estimate is the same draft.
    expect(
      (await h.api(`/v1/shops/${shanghai.id}/usage?month=2026-04`)).body.estimate.totalFen,
    ).toBe(5300);

    clock.set(Date.parse('2026-05-02T00:30:00+08:00'));
    expect((await close('2026-04')).body.closed).toBe(3);
    const aprilFinal = await invoice(shanghai, '2026-04');
    expect(aprilFinal).toMatchObject({ status: 'final', totalFen: 5300 });
    // Carried once: May's draft has no adjustment left, and March is still 80.00.
    const mayDraft = await invoice(shanghai, '2026-05');
    expect(mayDraft.lines.filter((l: { kind: string }) => l.kind === 'adjustment')).toEqual([]);
    expect((await invoice(shanghai, '2026-03')).totalFen).toBe(8000);
  });

  it('resumes a close that crashed after writing some invoices, without a second invoice', async () => {
    clock.set(Date.parse('2026-06-02T00:30:00+08:00'));
    // The crash: Tokyo's May invoice was written, but the run died before recording progress or closing the others.
    const tokyoShop = await h.container.shops.require(tokyo.id);
    const written = await h.container.billing.invoices.finalize(tokyoShop, '2026-05');
    expect(written.written).toBe(true);
    const rerun = await close('2026-05');
    expect(rerun.body).toMatchObject({ closed: 2, alreadyClosed: 1, skipped: [] });
    expect(await invoice(tokyo, '2026-05')).toEqual(written.invoice);
    const list = (await h.api(`/v1/shops/${tokyo.id}/invoices`)).body.invoices as Array<{
      month: string;
      status: string;
    }>;
    expect(list.map((i) => `${i.month} ${i.status}`)).toEqual([
      '2026-06 draft',
      '2026-05 final',
      '2026-04 final',
      '2026-03 final',
    ]);
  });

  it('registers the monthly job scheduler in BILLING_TIMEZONE, and a scheduled run closes the previous month', async () => {
    const schedulers = await h.container.billing.queue.getJobSchedulers();
    expect(schedulers).toEqual([
      expect.objectContaining({
        key: MONTH_CLOSE_SCHEDULER,
        pattern: MONTH_CLOSE_CRON,
        tz: 'Asia/Shanghai',
      }),
    ]);
    clock.set(Date.parse('2026-07-02T00:30:00+08:00'));
    const report = await h.container.billing.processClose({ data: {} });
    expect(report).toMatchObject({ month: '2026-06', closed: 3 });
  });

  it('closes the other shops when one fails, and a rerun retries the failed one', async () => {
    const broken = await h.createGenericShop({ plan: PLAN });
    const shopKey = h.container.keys.shopRecord(broken.id);
    const good = await h.container.redis.hget(shopKey, 'planHistory');
    await h.container.redis.hset(
      shopKey,
      'planHistory',
      JSON.stringify([
        {
          fromMonth: '0000-01',
          plan: { model: 'per_reception', dailyBaseFen: -1, perReceptionFen: 300 },
        },
      ]),
    );
    clock.set(Date.parse('2026-08-02T00:30:00+08:00'));
    const first = await close('2026-07');
    expect(first.body).toMatchObject({
      closed: 3,
      failed: [expect.objectContaining({ shopId: broken.id })],
    });
    await expect(h.container.billing.processClose({ data: { month: '2026-07' } })).rejects.toThrow(
      /1 shop\(s\) failed/,
    );
    // Through the worker: a close that fails for good is queued again for the same month.
    await h.container.queues.billing.add('close', { month: '2026-07' }, { attempts: 1 });
    await eventually(async () => {
      const delayed = await h.container.queues.billing.getDelayed();
      return delayed.some((job) => job.data.month === '2026-07' && job.data.rerun === 1);
    });
    await h.container.redis.hset(shopKey, 'planHistory', good!);
    expect((await close('2026-07')).body).toMatchObject({
      closed: 1,
      alreadyClosed: 3,
      failed: [],
    });
  });
});
