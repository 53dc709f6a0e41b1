import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/metering/consultation-meter';
import { readMonthCounters } from '../../src/metering/month-counters';
import { dayOf } from '../../src/shared/shop-calendar';
import { type Harness, startHarness } from '../support/harness';

/**
 * Metering must give the same figures whatever order events are processed
 * in and however often each is replayed. A fixed event list, applied as a
 * random permutation with duplicates, is compared with a plain reference model.
 */
const TZ = 'Asia/Shanghai';
const WINDOW_DAYS = 7;
const t = (iso: string) => Date.parse(iso);

type Event =
  | { kind: 'buyer'; buyer: string; at: number }
  | { kind: 'reply'; buyer: string; agent: string; at: number }
  | { kind: 'order'; buyer: string; orderId: string; amountFen: number; at: number }
  | { kind: 'rating'; id: string; score: number; at: number };

const EVENTS: Event[] = [
  // b1: a reply before the day's first message must not count as its first response.
  { kind: 'reply', buyer: 'b1', agent: 'lin', at: t('2026-03-10T09:00:00+08:00') },
  { kind: 'buyer', buyer: 'b1', at: t('2026-03-10T10:00:00+08:00') },
  { kind: 'buyer', buyer: 'b1', at: t('2026-03-10T09:30:00+08:00') },
  { kind: 'reply', buyer: 'b1', agent: 'lin', at: t('2026-03-10T09:32:00+08:00') },
  { kind: 'reply', buyer: 'b1', agent: 'wu', at: t('2026-03-10T10:05:00+08:00') },
  // b2: answered after 3 minutes; an order exactly at the end of the 7-day window does not convert.
  { kind: 'buyer', buyer: 'b2', at: t('2026-03-10T23:59:00+08:00') },
  { kind: 'reply', buyer: 'b2', agent: 'wu', at: t('2026-03-11T00:03:00+08:00') },
  {
    kind: 'order',
    buyer: 'b2',
    orderId: 'o-edge',
    amountFen: 5000,
    at: t('2026-03-10T23:59:00+08:00') + WINDOW_DAYS * DAY_MS,
  },
  // b2 again the next day (00:01): a new consultation, answered by the 00:03 reply; the order converts it.
  { kind: 'buyer', buyer: 'b2', at: t('2026-03-11T00:01:00+08:00') },
  // b3: an order one day after a consultation converts it, and an order before any consultation does not.
  {
    kind: 'order',
    buyer: 'b3',
    orderId: 'o-before',
    amountFen: 700,
    at: t('2026-03-20T08:00:00+08:00'),
  },
  { kind: 'buyer', buyer: 'b3', at: t('2026-03-20T09:00:00+08:00') },
  {
    kind: 'order',
    buyer: 'b3',
    orderId: 'o-after',
    amountFen: 12345,
    at: t('2026-03-21T09:00:00+08:00'),
  },
  { kind: 'reply', buyer: 'b3', agent: 'lin', at: t('2026-03-20T09:01:00+08:00') },
  { kind: 'rating', id: 'r1', score: 5, at: t('2026-03-20T10:00:00+08:00') },
  { kind: 'rating', id: 'r2', score: 3, at: t('2026-03-21T10:00:00+08:00') },
];

/** The reference: the definitions in docs/billing.md applied to the event set, no Redis. */
function expected(events: Event[]) {
  const unique = [...new Map(events.map((e) => [JSON.stringify(e), e])).values()];
  const first = new Map<string, number>();
  for (const e of unique)
    if (e.kind === 'buyer') {
      const key = `${dayOf(e.at, TZ)}|${e.buyer}`;
      first.set(key, Math.min(first.get(key) ?? Infinity, e.at));
    }
  const window = WINDOW_DAYS * DAY_MS;
  let answered = 0,
    totalResponseMs = 0,
    within3Min = 0,
    converted = 0;
  for (const [key, f] of first) {
    const [day, buyer] = key.split('|');
    const replies = unique
      .filter(
        (e) => e.kind === 'reply' && e.buyer === buyer && dayOf(e.at, TZ) === day && e.at >= f,
      )
      .map((e) => e.at);
    if (replies.length) {
      const ms = Math.min(...replies) - f;
      answered += 1;
      totalResponseMs += ms;
      if (ms <= 180_000) within3Min += 1;
    }
    if (
      unique.some((e) => e.kind === 'order' && e.buyer === buyer && e.at >= f && e.at < f + window)
    )
      converted += 1;
  }
  const attributedSalesFen = unique
    .filter((e): e is Extract<Event, { kind: 'order' }> => e.kind === 'order')
    .filter((o) =>
      [...first].some(([key, f]) => key.endsWith(`|${o.buyer}`) && o.at >= f && o.at < f + window),
    )
    .reduce((s, o) => s + o.amountFen, 0);
  return { answered, totalResponseMs, within3Min, converted, attributedSalesFen };
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: false });
});
afterAll(() => h.close());

async function apply(shopId: string, events: Event[]) {
  const { meter, commerce } = h.container;
  for (const e of events) {
    if (e.kind === 'buyer')
      await meter.recordBuyerMessage(shopId, TZ, e.buyer, e.at, { attributionDays: WINDOW_DAYS });
    if (e.kind === 'reply') await meter.recordAgentReply(shopId, TZ, e.buyer, e.agent, e.at);
    if (e.kind === 'order')
      await commerce.recordOrder(shopId, TZ, {
        kind: 'order',
        eventId: e.orderId,
        orderId: e.orderId,
        buyerId: e.buyer,
        amountFen: e.amountFen,
        paidAt: new Date(e.at).toISOString(),
      });
    if (e.kind === 'rating')
      await commerce.recordRating(shopId, TZ, {
        kind: 'rating',
        eventId: e.id,
        buyerId: 'b3',
        score: e.score,
        ratedAt: new Date(e.at).toISOString(),
      });
  }
}

async function figures(shopId: string) {
  const c = await readMonthCounters(
    h.container.redis,
    h.container.keys,
    { id: shopId, timezone: TZ },
    '2026-03',
  );
  const audit = await h.container.meter.consultationsOn(shopId, '2026-03-10');
  return { ...c, audit };
}

describe('metering is independent of event order and replays', () => {
  it('matches the hand-worked figures in list order', async () => {
    const shopId = `shp_${randomBytes(6).toString('hex')}`;
    await apply(shopId, EVENTS);
    const f = await figures(shopId);
    // b1 (10th): 09:30 → 09:32 = 120 s. b2 (10th): 23:59 → no reply that day. b2 (11th): 00:01 → 00:03 = 120 s. b3: 60 s.
    expect(f.firstResponse).toEqual({ answered: 3, totalResponseMs: 300_000, within3Min: 3 });
    expect(f.days).toEqual([
      { date: '2026-03-10', consultations: 2, receptions: 1, seatDays: 2 },
      { date: '2026-03-11', consultations: 1, receptions: 1, seatDays: 1 },
      { date: '2026-03-20', consultations: 1, receptions: 1, seatDays: 1 },
    ]);
    // b2 on the 11th (00:01 + 7 days covers o-edge at 23:59 on the 17th) and b3 convert; b2 on the 10th does not (exactly 7 days).
    expect(f.conversion).toEqual({ converted: 2 });
    expect(f.attributedSalesFen).toBe(5000 + 12345);
    expect(f.satisfaction).toEqual({ ratings: 2, ratingSum: 8 });
    expect(f.audit.map((r) => [r.buyerId, r.firstResponseMs, r.converted])).toEqual([
      ['b1', 120_000, false],
      ['b2', null, false],
    ]);
    const ref = expected(EVENTS);
    expect({
      ...f.firstResponse,
      converted: f.conversion.converted,
      attributedSalesFen: f.attributedSalesFen,
    }).toEqual(ref);
  });

  it('gives the same figures for any permutation with duplicates', async () => {
    const reference = expected(EVENTS);
    const withDuplicates = fc.array(fc.nat(EVENTS.length - 1), { maxLength: 10 }).chain((extra) =>
      fc.shuffledSubarray([...EVENTS.map((_, i) => i), ...extra], {
        minLength: EVENTS.length + extra.length,
      }),
    );
    let baseline: Awaited<ReturnType<typeof figures>> | undefined;
    await fc.assert(
      fc.asyncProperty(withDuplicates, async (order) => {
        const shopId = `shp_${randomBytes(6).toString('hex')}`;
        await apply(
          shopId,
          order.map((i) => EVENTS[i]!),
        );
        const f = await figures(shopId);
        baseline ??= f;
        expect({ ...f, shopId: baseline.shopId }).toEqual(baseline);
        expect({
          ...f.firstResponse,
          converted: f.conversion.converted,
          attributedSalesFen: f.attributedSalesFen,
        }).toEqual(reference);
      }),
      { numRuns: 40 },
    );
  });
});
