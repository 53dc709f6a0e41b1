import { type ConnectionOptions, type Job, type JobJsonRaw, Worker } from 'bullmq';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import {
  type InboundJobData,
  inboundEvents,
  type JobData,
  QUEUE_NAMES,
  type QueueName,
  queueName,
} from './queues';

/** What a queue's worker does: the processor, and what happens when a job fails for good. */
export interface JobHandler<T> {
  /** `token` is the job's lock token (for moving it to delayed from inside the processor). */
  process: (job: Job<T>, token?: string) => Promise<unknown>;
  /** Jobs processed at once by one worker process. */
  concurrency: number;
  /** Runs once when a job will not be retried again (retries exhausted, unrecoverable, stalled). */
  onFinalFailure?: (job: Job<T>, error: Error) => Promise<void>;
}

export type WorkerTable = { [Q in QueueName]: JobHandler<JobData[Q]> };

/** Whether BullMQ will not run this job again by itself. */
export function isFinalFailure(job: Job, error: Error): boolean {
  return (
    error.name === 'UnrecoverableError' ||
    /stalled more than allowable limit/i.test(error.message) ||
    job.attemptsMade >= (job.opts.attempts ?? 1)
  );
}

/**
 * A BullMQ worker that does not ask for the next job while finishing one when
 * its last fetch found the queue empty. BullMQ's finish tries a fetch whenever
 * a slot is free; when the worker keeps up (the queue is empty between
 * messages, which the suggestion latency needs) that fetch finds nothing and
 * costs 6 Redis commands per job, while the worker is already waiting on the
 * queue's marker, which every add sets. With a backlog the last fetch found a
 * job, so finishing still fetches the next one in the same call as before.
 * Measured: about 5 fewer Redis commands per job on bare BullMQ at 1,000 jobs/s
 * (docs/architecture.md, "Round five").
 */
export class LeanFetchWorker<T = unknown> extends Worker<T> {
  private lastFetchEmpty = false;

  /** Every fetch's outcome (taking a job, or finishing one with a fetch) passes here. */
  protected override async nextJobFromJobData(
    jobData?: JobJsonRaw,
    jobId?: string,
    token?: string,
  ): Promise<Job<T>> {
    const job = await super.nextJobFromJobData(jobData, jobId, token);
    this.lastFetchEmpty = !job;
    return job;
  }

  protected override handleCompleted(
    result: unknown,
    job: Job<T>,
    token: string,
    fetchNext: () => boolean = () => true,
    span?: Parameters<Worker<T>['handleCompleted']>[4],
  ): Promise<Job<T>> {
    return super.handleCompleted(
      result,
      job,
      token,
      () => fetchNext() && !this.lastFetchEmpty,
      span,
    );
  }
}

/**
 * Starts one worker per queue from the table. The shared part of failure
 * handling lives here (count, log with ids only); what a final failure means
 * for the domain is the handler's own `onFinalFailure`.
 */
export function startWorkers(
  table: WorkerTable,
  deps: {
    connection: ConnectionOptions;
    /** BullMQ's prefix of a queue by its name (see `RedisKeys.queuePrefix`). */
    prefixOf: (queueName: string) => string;
    /** Inbound partitions: one worker each, so this process consumes all of them. */
    inboundPartitions: number;
    logger: Logger;
    metrics: Metrics;
    clock: Clock;
  },
): Worker[] {
  const { logger, metrics, clock } = deps;
  const instances = QUEUE_NAMES.flatMap((queue) =>
    Array.from({ length: queue === 'inbound' ? deps.inboundPartitions : 1 }, (_, partition) => ({
      queue,
      name: queueName(queue, partition),
    })),
  );
  return instances.map(({ queue, name }) => {
    const handler = table[queue] as JobHandler<unknown>;
    const worker = new LeanFetchWorker(
      name,
      (job: Job, token?: string) => handler.process(job, token),
      {
        connection: deps.connection,
        prefix: deps.prefixOf(name),
        concurrency: handler.concurrency,
      },
    );
    const latency = metrics.jobLatency.labels({ queue });
    worker.on('completed', (job: Job, result: unknown) => {
      // An inbound batch job's events each count, as their own jobs would; one it queued again
      // as a job of its own counts when that job completes.
      const requeued = new Set((result as { requeued?: string[] } | undefined)?.requeued);
      const received =
        queue === 'inbound'
          ? inboundEvents(job as Job<InboundJobData>)
              .filter(({ event }) => !requeued.has(event.eventId))
              .map((event) => event.receivedAt)
          : [(job.data as { receivedAt?: unknown }).receivedAt];
      for (const receivedAt of received)
        if (typeof receivedAt === 'number') latency.observe((clock.now() - receivedAt) / 1000);
    });
    worker.on('failed', (job: Job | undefined, error: Error) => {
      if (!job) return;
      const context = {
        queue,
        jobId: job.id,
        shopId: (job.data as { shopId?: string }).shopId,
        attemptsMade: job.attemptsMade,
        err: error.message,
      };
      if (!isFinalFailure(job, error)) {
        logger.warn(context, 'job failed; will retry');
        return;
      }
      metrics.jobsFailed.inc({ queue });
      // Kept in the failed set (GET /v1/ops/failed-jobs) unless its handler's final step says
      // otherwise (an inbound batch is split into its events' own jobs).
      logger.error(context, 'job failed for good');
      handler
        .onFinalFailure?.(job, error)
        .catch((followUp: Error) =>
          logger.warn({ queue, jobId: job.id, err: followUp.message }, 'final-failure step failed'),
        );
    });
    worker.on('error', (error) => logger.warn({ queue, err: error.message }, 'worker error'));
    return worker;
  });
}
