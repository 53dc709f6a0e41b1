import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock';
import { drained, traffic } from '../support/billing-traffic';
import { type Harness, startHarness } from '../support/harness';

/**
 * Edge cases a real desk meets: DST change days, odd offsets, late events.
 * Each test sets the clock a few days after its traffic (events older than
 * 35 days are metered at their arrival, see sent-at.ts).
 */
let h: Harness;
const clock = new ManualClock(Date.parse('2026-12-01T12:00:00Z'));
beforeAll(async () => {
  h = await startHarness({ clock, env: { WEBHOOK_RATE_PER_MINUTE: '100000' } });
});
afterAll(() => h.close());

const PER_RECEPTION = { model: 'per_reception', dailyBaseFen: 5000, perReceptionFen: 300 };
const usage = async (shopId: string, month: string) =>
  (await h.api(`/v1/shops/${shopId}/usage?month=${month}`)).body;
const dayOf = (u: { days: Array<{ date: string }> }, date: string) =>
  u.days.find((d) => d.date === date);

describe('a consultation on a DST day longer than 24 hours', () => {
  it.each([
    // New York falls back on 2026-11-01: a 25 h day; the reply is 24 h 40 min after the message.
    ['America/New_York', '2026-11', '2026-11-01T00:10:00-04:00', '2026-11-01T23:50:00-05:00'],
    // Lord Howe falls back half an hour on 2026-04-05: a 24.5 h day; the reply is 24 h 10 min after.
    ['Australia/Lord_Howe', '2026-04', '2026-04-05T00:10:00+11:00', '2026-04-05T23:50:00+10:30'],
  ])(
    'counts a reply later the same day in %s as a reception',
    async (timezone, month, buyerAt, replyAt) => {
      clock.set(Date.parse(`${month}-10T12:00:00Z`));
      const shop = await h.createGenericShop({ timezone, plan: PER_RECEPTION });
      const t = traffic(h, shop);
      await t.buyer('b1', buyerAt);
      await t.agent('b1', replyAt);
      await drained(h);
      const u = await usage(shop.id, month);
      const date = buyerAt.slice(0, 10);
      expect(dayOf(u, date)).toEqual({ date, consultations: 1, receptions: 1 });
      expect(u.firstResponse.answered).toBe(1);
      // The next day's consultation is untouched.
      expect(u.receptions).toBe(1);
    },
  );
});
