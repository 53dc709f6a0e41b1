import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askAboutHesitatingBuyer, cardiganCatalog } from '../fixtures/assist/hesitating-buyer';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

// The service with its assistant on a thread of its own (ASSIST_THREAD, on by default where
// there is a second core; the other harness tests answer in-process). The thread's own
// behaviour (same answers, catalogs, a dying thread) is in test/unit/threaded-assistant.test.ts.
describe('the service with ASSIST_THREAD on', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { ASSIST_THREAD: 'true' } });
  });
  afterAll(() => h.close());

  it("stores a buyer message's suggestions and answers /v1/assist/suggest from the thread", async () => {
    expect(h.container.config.ASSIST_THREAD).toBe(true);
    const shop = await h.createGenericShop({
      catalog: cardiganCatalog(),
    });
    await h.sendGeneric(shop, buyerMessage('buyer-t', '这款开衫有浅灰色吗？', Date.now()));
    const stored = await eventually(() =>
      h.container.conversations.suggestions(shop.id, 'buyer-t'),
    );
    expect(stored.suggestions.length).toBeGreaterThan(0);
    expect(stored.engine).toBe('rules');

    const { close } = await askAboutHesitatingBuyer(h, shop);
    expect(close.text).toMatch(/浅灰|银色/);
    // Both came from the thread: nothing was drafted on the main thread instead.
    const inProcess = await h.container.metrics.assistInProcess.get();
    expect(inProcess.values.reduce((sum, v) => sum + v.value, 0)).toBe(0);
    const latencies = await h.container.metrics.suggestionLatency.get();
    expect(latencies.values.some((v) => v.labels.engine === 'rules' && v.value >= 2)).toBe(true);
  });
});
