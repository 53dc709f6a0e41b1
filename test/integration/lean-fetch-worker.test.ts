import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LeanFetchWorker } from '../../src/pipeline/workers';
import { eventually } from '../support/harness';

// Counts the fetches (RPOPLPUSH from the wait list, also inside BullMQ's scripts) on one queue.
// A raw socket reads MONITOR: ioredis's monitor mode misreads a line that arrives in the same
// chunk as MONITOR's OK ("Command queue state error"), which the other suites' traffic causes.
let monitor: net.Socket;
const fetches = new Map<string, number>();
beforeAll(async () => {
  const { hostname, port } = new URL(inject('redisUrl'));
  monitor = net.connect(Number(port), hostname);
  let pending = '';
  let monitoring: () => void;
  const started = new Promise<void>((resolve) => {
    monitoring = resolve;
  });
  monitor.setEncoding('latin1');
  monitor.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\r\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (line === '+OK') monitoring();
      // +1700000000.123456 [0 127.0.0.1:5555] "rpoplpush" "prefix:q:wait" "prefix:q:active"
      const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
      if (args[0]?.toLowerCase() !== 'rpoplpush') continue;
      fetches.set(args[1]!, (fetches.get(args[1]!) ?? 0) + 1);
    }
  });
  monitor.write('MONITOR\r\n');
  await started;
});
afterAll(() => monitor.destroy());

async function run(
  WorkerClass: typeof Worker,
  jobs: number,
  sequential: boolean,
): Promise<{ fetches: number; done: number }> {
  const prefix = `lean-${randomUUID()}`;
  const connection = { url: inject('redisUrl'), maxRetriesPerRequest: null };
  const queue = new Queue('q', { connection, prefix });
  let done = 0;
  const worker = new WorkerClass(
    'q',
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      done++;
    },
    { connection, prefix, concurrency: 4 },
  );
  await worker.waitUntilReady();
  try {
    if (sequential) {
      for (let i = 0; i < jobs; i++) {
        await queue.add('m', { i }, { removeOnComplete: true });
        await eventually(async () => done === i + 1, 5_000);
        // Let the worker settle into its wait, as between a desk's messages.
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    } else {
      await queue.addBulk(
        Array.from({ length: jobs }, (_, i) => ({
          name: 'm',
          data: { i },
          opts: { removeOnComplete: true },
        })),
      );
      await eventually(async () => done === jobs, 15_000);
    }
    // MONITOR lines arrive after the replies they describe.
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { fetches: fetches.get(`${prefix}:q:wait`) ?? 0, done };
  } finally {
    await worker.close();
    await queue.close();
  }
}

describe('the lean-fetch worker', () => {
  it('makes fewer fetches than BullMQ’s worker when the queue is empty between jobs', async () => {
    const stock = await run(Worker, 20, true);
    const lean = await run(LeanFetchWorker as typeof Worker, 20, true);
    expect(lean.done).toBe(20);
    // BullMQ's finish fetches once more per job (finding nothing): the lean worker does not.
    expect(lean.fetches).toBeLessThanOrEqual(stock.fetches - 15);
  }, 30_000);

  it('still takes the next job while finishing one when there is a backlog', async () => {
    // The main loop's own fetches (moveToActive); the rest happen inside the finishes.
    let ownFetches = 0;
    class Counting extends LeanFetchWorker {
      protected override moveToActive(...args: Parameters<LeanFetchWorker['moveToActive']>) {
        ownFetches++;
        return super.moveToActive(...args);
      }
    }
    const lean = await run(Counting as typeof Worker, 300, false);
    expect(lean.done).toBe(300);
    // One fetch per job, plus a few when the queue runs dry...
    expect(lean.fetches).toBeLessThan(300 * 1.1);
    // ...nearly all of them chained in the finishes: a worker that never fetched on finishing
    // would make the main loop fetch each of the 300.
    expect(ownFetches).toBeLessThan(30);
  }, 30_000);
});
