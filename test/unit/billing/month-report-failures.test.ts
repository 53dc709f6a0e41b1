import { describe, expect, it } from 'vitest';
import type { InvoiceBook } from '../../../src/billing/invoice-book';
import { buildMonthReport } from '../../../src/billing/month-report';
import type { Shop, ShopRegistry } from '../../../src/shops/shop-registry';

// Only a shop's own unbillable plan becomes a problem row (the integration test in
// desk-report.test.ts covers that); any other failure is a bug or the store, and must fail the
// report rather than be shown as the shop's plan.
const shop = {
  id: 'shp_a',
  name: 'A',
  platform: 'generic',
  timezone: 'Asia/Shanghai',
  createdAt: '2026-01-01T00:00:00.000Z',
} as Shop;
const shops = {
  listIds: async () => [shop.id],
  get: async () => shop,
  planFor: () => undefined,
} as unknown as ShopRegistry;
const failing = (error: Error) =>
  ({
    withCounters: async () => {
      throw error;
    },
  }) as unknown as InvoiceBook;

describe('the month report and failures that are not a plan problem', () => {
  it('fails on a RangeError that is not an amount out of range', async () => {
    const bug = new RangeError('Invalid time value');
    await expect(buildMonthReport({ shops, invoices: failing(bug) }, '2026-03')).rejects.toBe(bug);
  });

  it('fails when the store fails', async () => {
    const down = new Error('Connection is closed.');
    await expect(buildMonthReport({ shops, invoices: failing(down) }, '2026-03')).rejects.toBe(
      down,
    );
  });
});
