import Router from '@koa/router';
import { isTimedQueue } from '../../pipeline/due-timers';
import { reopenFailedReply } from '../../pipeline/outbound-processor';
import {
  everyQueue,
  INBOUND_BATCH,
  type InboundJobData,
  inboundEvents,
  type OutboundJob,
} from '../../pipeline/queues';
import { AppError, notFound } from '../../shared/errors';
import { redisDurabilityWarnings } from '../../shared/redis';
import { withTimeout } from '../../shared/time-limit';
import { noteAudit } from '../audit-trail';
import { requirePermission } from '../auth';
import { buildOpenApi } from '../openapi';
import type { HttpServices } from '../services';

/** Liveness, readiness, metrics and the contract: public, no token. */
export function opsRoutes(services: HttpServices): Router {
  const router = probeRoutes(services);
  router.get('/openapi.json', (ctx) => {
    ctx.body = buildOpenApi();
  });
  return router;
}

/**
 * Liveness, readiness and metrics: what a supervisor and Prometheus ask of every process,
 * a worker-only one too (`OPS_PORT`, src/app/main.ts), whose metrics (job latency, failures,
 * the pipeline's stages) exist nowhere else.
 */
export function probeRoutes(services: HttpServices): Router {
  const router = new Router();
  const { redis, queues, timers, metrics } = services;

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    try {
      await withTimeout(redis.ping(), 1000);
      const warnings = await withTimeout(redisDurabilityWarnings(redis), 1000).catch(() => []);
      // Still ready (it serves), but an operator must know acknowledged data is at risk.
      ctx.body = warnings.length > 0 ? { status: 'ready', warnings } : { status: 'ready' };
    } catch {
      ctx.status = 503;
      ctx.body = {
        status: 'unavailable',
        error: {
          code: 'redis_unavailable',
          message: 'Redis does not answer; webhooks get 503 until it does.',
        },
      };
    }
  });

  router.get('/metrics', async (ctx) => {
    try {
      // One gauge per queue: the inbound partitions summed (the partition count is configuration).
      const depth = new Map<string, Record<string, number>>();
      const counts = await withTimeout(
        Promise.all(
          everyQueue(queues).map(async ({ queue, handle }) => {
            const counts = await handle.getJobCounts('waiting', 'active', 'delayed', 'failed');
            // An armed alert or close is a delayed job of its queue, kept as a timer.
            if (isTimedQueue(queue))
              counts.delayed = (counts.delayed ?? 0) + (await timers.count(queue));
            return { queue, counts };
          }),
        ),
        500,
      );
      for (const { queue, counts: byState } of counts) {
        const total = depth.get(queue) ?? {};
        for (const [state, value] of Object.entries(byState))
          total[state] = (total[state] ?? 0) + value;
        depth.set(queue, total);
      }
      for (const [queue, byState] of depth)
        for (const [state, value] of Object.entries(byState))
          metrics.queueDepth.set({ queue, state }, value);
    } catch {
      // Queue depth is stale while Redis is down; the rest of the metrics still matter.
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });

  return router;
}

/** The shops and the number of events of an inbound batch job. */
function batchSummary(job: { name: string; data: unknown }): { shopIds: string[]; events: number } {
  const events = inboundEvents(job as { name: string; data: InboundJobData });
  return { shopIds: [...new Set(events.map(({ shopId }) => shopId))], events: events.length };
}

export const opsOperations = [
  {
    method: 'get',
    path: '/v1/ops/failed-jobs',
    summary: 'Jobs of every queue that failed permanently (admin or supervisor)',
  },
  {
    method: 'post',
    path: '/v1/ops/failed-jobs/{queue}/{jobId}/retry',
    summary: 'Retry a failed job (admin)',
  },
];

/** Operator views of the queues, behind the bearer auth of /v1. */
export function opsAdminRoutes({ queues, replies, events }: HttpServices): Router {
  const router = new Router();

  /** Jobs that failed for good: visible to the operator, retried by hand if wanted. */
  router.get('/v1/ops/failed-jobs', async (ctx) => {
    requirePermission(ctx, 'read');
    const out = [];
    for (const { queue, partition, handle } of everyQueue(queues)) {
      for (const job of await handle.getFailed(0, 99)) {
        out.push({
          queue,
          ...(queues.inbound.partitions.length > 1 && queue === 'inbound' ? { partition } : {}),
          id: job.id,
          name: job.name,
          shopId: (job.data as { shopId?: string }).shopId,
          // A batch job (one ingest call's events) names its events' shops and how many it holds.
          ...(queue === 'inbound' && job.name === INBOUND_BATCH ? batchSummary(job) : {}),
          attemptsMade: job.attemptsMade,
          failedReason: job.failedReason,
          finishedOn: job.finishedOn,
        });
      }
    }
    ctx.body = { jobs: out };
  });

  router.post('/v1/ops/failed-jobs/:queue/:jobId/retry', async (ctx) => {
    requirePermission(ctx, 'retryJobs');
    // A queue by its name; an inbound job is found in whichever partition holds it.
    const queue = Object.hasOwn(queues, ctx.params.queue!)
      ? queues[ctx.params.queue as keyof typeof queues]
      : undefined;
    const job = queue ? await queue.getJob(ctx.params.jobId!) : undefined;
    if (!job) throw notFound('Job');
    if (!(await job.isFailed()))
      throw new AppError(409, 'not_failed', 'Only a failed job can be retried.');
    // A reply's job is only worth retrying with the reply queued again (it was marked failed).
    if (queue === queues.outbound) {
      const { shopId, replyId } = job.data as OutboundJob;
      await reopenFailedReply({ replies, events }, shopId, replyId);
    }
    await job.retry('failed');
    const jobShop = (job.data as { shopId?: string }).shopId;
    noteAudit(ctx, {
      shops: job.name === INBOUND_BATCH ? batchSummary(job).shopIds : jobShop ? [jobShop] : [],
      details: { queue: ctx.params.queue, name: job.name },
    });
    ctx.status = 202;
    ctx.body = { id: job.id, status: 'retrying' };
  });

  return router;
}
