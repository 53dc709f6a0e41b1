import { afterEach, beforeEach, expect, it } from 'vitest';
import { startHarness } from '../support/harness';

// A process stopped right after it started (a deploy rolled back, a crash
// loop, a test) must stop cleanly: in `main` an unhandled rejection is a
// crash. BullMQ's queues check Redis as they start; closing one before that
// check ended left it to fail with nobody listening (seen on the Cluster,
// where the check waits 100 ms for a node's connection that is not yet up).
const unhandled: unknown[] = [];
const collect = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', collect);
});
afterEach(() => {
  process.off('unhandledRejection', collect);
});

it('stops right after it starts, again and again, leaving no error behind', async () => {
  for (let round = 0; round < 15; round++) {
    const h = await startHarness({ workers: round % 3 === 0 });
    await h.close();
  }
  // Past the Cluster's 100 ms retry of a check that met a connection not yet up.
  await new Promise((resolve) => setTimeout(resolve, 400));
  expect(unhandled.map((reason) => String(reason))).toEqual([]);
}, 60_000);
