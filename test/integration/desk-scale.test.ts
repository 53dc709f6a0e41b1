import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock';
import { drained, traffic } from '../support/billing-traffic';
import { type Harness, startHarness } from '../support/harness';

const clock = new ManualClock(Date.parse('2026-03-10T10:10:00+08:00'));
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ clock });
});
afterAll(() => h.close());

describe('the desk of a busy shop', () => {
  it('counts every active conversation and finds the longest wait behind hundreds of newer ones', async () => {
    const shop = await h.createGenericShop({ name: 'Campaign day' });
    // The buyer waiting longest is the one whose conversation moved least recently.
    await traffic(h, shop).buyer('first', '2026-03-10T10:05:00+08:00');
    await drained(h);
    // 300 newer conversations, answered (nobody waiting in them), as a sale day brings.
    const { redis, keys } = h.container.services;
    const newer = Date.parse('2026-03-10T10:09:00+08:00');
    const members = Array.from({ length: 300 }, (_, i) => [newer + i, `later-${i}`]).flat();
    await redis.zadd(keys.activeConversations(shop.id), ...(members as Array<string | number>));

    const res = await h.api('/v1/desk');
    expect(res.status).toBe(200);
    const row = res.body.shops.find((s: { id: string }) => s.id === shop.id);
    expect(row).toMatchObject({
      activeConversations: 301,
      waiting: 1,
      longestWaitSeconds: 300,
      overdue: 1,
    });
  });
});
