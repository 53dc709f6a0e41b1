// A yardstick for the machine: bare BullMQ (Queue.add of a webhook-sized job, and a worker
// that does nothing with it) at a fixed rate, open loop, on the Redis the benchmark uses.
// What Redis spends on one such job depends on the machine more than on anything Seatmate
// does, so a step's Redis figures read against it compare across machines
// (docs/architecture.md, "Round fifteen").
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { RedisConnection } from '../../src/shared/redis';

export interface BaselineResult {
  jobs: number;
  /** add → completed event seen by the worker's process, ms. */
  p50: number;
  p99: number;
  /** CPU of the process that adds and works the jobs (this one), µs per job. */
  processUs: number;
}

/**
 * Adds `rate` jobs a second for `seconds`, each one `data` in size, and waits (at most
 * `drainSeconds`) until the worker has completed them all. `connect` gives a new
 * connection (BullMQ's worker blocks one of its own).
 */
export async function runBullmqBaseline(options: {
  connect: () => RedisConnection;
  rate: number;
  seconds: number;
  drainSeconds: number;
  concurrency: number;
  data: () => Record<string, unknown>;
}): Promise<BaselineResult> {
  // Its own hash tag, so it also runs on a Cluster (one slot, as one BullMQ queue is).
  const prefix = `{bench-baseline-${randomUUID().slice(0, 8)}}`;
  const connection = options.connect();
  const queue = new Queue('baseline', {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: 1000 },
  });
  const addedAt = new Map<string, number>();
  const latencies: number[] = [];
  const workerConnection = options.connect();
  const worker = new Worker('baseline', async () => undefined, {
    connection: workerConnection,
    prefix,
    concurrency: options.concurrency,
  });
  worker.on('completed', (job) => {
    const t0 = addedAt.get(job.id!);
    if (t0 !== undefined) latencies.push(performance.now() - t0);
  });
  await worker.waitUntilReady();
  const cpuBefore = process.cpuUsage();
  const total = Math.round(options.rate * options.seconds);
  const start = performance.now();
  const adds: Promise<unknown>[] = [];
  let issued = 0;
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * options.rate));
    for (; issued < due; issued++) {
      const id = `j${issued}`;
      addedAt.set(id, performance.now());
      adds.push(queue.add('message', options.data(), { jobId: id }));
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all(adds);
  const deadline = performance.now() + options.drainSeconds * 1000;
  while (latencies.length < total && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  const cpu = process.cpuUsage(cpuBefore);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  workerConnection.disconnect();
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? NaN;
  return {
    jobs: latencies.length,
    p50: at(50),
    p99: at(99),
    processUs: (cpu.user + cpu.system) / total,
  };
}
