import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIds } from '../../src/pipeline/queues';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    workers: false,
    env: {
      WEBHOOK_RATE_PER_MINUTE: '10000',
      WEBHOOK_FAIR_SHARE_PER_MINUTE: '5',
      WORKER_CONCURRENCY: '1',
    },
  });
});
afterAll(() => h.close());

describe('inbound fairness between shops', () => {
  it("serves a quiet shop's message before a flooding shop's events past its share", async () => {
    const flooder = await h.createGenericShop({ timezone: 'UTC' });
    const quiet = await h.createGenericShop({ timezone: 'UTC' });
    for (let i = 0; i < 60; i++) {
      const res = await h.sendGeneric(flooder, buyerMessage(`f-${i}`, 'spam', Date.now()), {
        id: `flood-${i}`,
      });
      expect(res.status).toBe(200);
    }
    const res = await h.sendGeneric(quiet, buyerMessage('b-1', 'hello?', Date.now()), {
      id: 'quiet-1',
    });
    expect(res.status).toBe(200);

    // Completed inbound jobs are removed at once: the order is taken as the worker finishes them.
    const finished: string[] = [];
    for (const worker of h.container
      .startWorkers()
      .filter((each) => each.name.startsWith('inbound')))
      worker.on('completed', (job) => finished.push(job.id!));
    await eventually(async () => finished.length >= 61, 30_000);
    const quietAt = finished.indexOf(jobIds.inbound('generic', quiet.id, 'quiet-1'));
    const floodIds = new Set(
      Array.from({ length: 60 }, (_, i) => jobIds.inbound('generic', flooder.id, `flood-${i}`)),
    );
    const ahead = finished.slice(0, quietAt).filter((id) => floodIds.has(id)).length;
    expect(quietAt).toBeGreaterThanOrEqual(0);
    // Only the flooder's fair share (5) was ahead of the quiet shop's message, not all 60.
    expect(ahead).toBeLessThanOrEqual(5);
    // A completed job is gone, and with it the buyer's words.
    expect(
      await h.container.queues.inbound.getJob(jobIds.inbound('generic', quiet.id, 'quiet-1')),
    ).toBeUndefined();
  }, 40_000);
});
