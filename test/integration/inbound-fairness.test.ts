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

    h.container.startWorkers();
    const inbound = h.container.queues.inbound;
    await eventually(
      async () => ((await inbound.getJobCounts('completed')).completed ?? 0) >= 61,
      30_000,
    );
    const queue = inbound;
    const quietJob = await queue.getJob(jobIds.inbound('generic', quiet.id, 'quiet-1'));
    const floodJobs = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        queue.getJob(jobIds.inbound('generic', flooder.id, `flood-${i}`)),
      ),
    );
    const ahead = floodJobs.filter(
      (job) => (job?.processedOn ?? Number.POSITIVE_INFINITY) < quietJob!.processedOn!,
    ).length;
    // Only the flooder's fair share (5) was ahead of the quiet shop's message, not all 60.
    expect(ahead).toBeLessThanOrEqual(5);
    // A completed job no longer holds the buyer's words.
    await eventually(async () => {
      const job = await queue.getJob(jobIds.inbound('generic', quiet.id, 'quiet-1'));
      return job?.data.event.kind === 'message' && job.data.event.text === '';
    });
  }, 40_000);
});
