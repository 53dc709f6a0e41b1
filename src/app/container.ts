import type { Server } from 'node:http';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { AgentRegistry } from '../agents/agent-registry';
import { createBillingModule } from '../billing/billing-module';
import type { Config } from '../config/config';
import { ConversationStore } from '../conversations/conversation-store';
import { createHttpApp } from '../http/app';
import type { HttpServices } from '../http/services';
import { CommerceEvents } from '../metering/commerce-events';
import { ConsultationMeter } from '../metering/consultation-meter';
import { createInboundProcessor } from '../pipeline/inbound-processor';
import { INBOUND_QUEUE, type InboundJob, createQueues } from '../pipeline/queues';
import { WebhookIngest } from '../pipeline/webhook-ingest';
import { defaultPlatforms } from '../platforms/registry';
import { ShopRegistry } from '../shops/shop-registry';
import { type Clock, systemClock } from '../shared/clock';
import { type Logger, createLogger } from '../shared/logger';
import { type Metrics, createMetrics } from '../shared/metrics';
import { RedisKeys, producerConnection, workerConnection } from '../shared/redis';
import { SecretBox } from '../shared/secret-box';

export interface ContainerOptions {
  adminToken: string;
  secretsKey: string;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
}

/** Waits until a fail-fast connection is usable (it refuses commands until then). */
export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Wiring only: builds every service from the config once. The API and the
 * workers are started separately so each can run in its own process.
 */
export async function buildContainer(config: Config, options: ContainerOptions) {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const metrics = options.metrics ?? createMetrics();
  const keys = new RedisKeys(config.REDIS_PREFIX);
  const redis = producerConnection(config.REDIS_URL);
  redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
  await waitForRedis(redis);

  const queues = createQueues(redis, keys.queuePrefix);
  const platforms = defaultPlatforms();
  const box = new SecretBox(options.secretsKey);
  const shops = new ShopRegistry(redis, keys, box, platforms, clock);
  const agents = new AgentRegistry(redis, keys, clock, async (id) => (await shops.get(id)) !== null);
  const meter = new ConsultationMeter(redis, keys);
  const conversations = new ConversationStore(redis, keys);
  const commerce = new CommerceEvents(redis, keys);
  const billing = createBillingModule({ redis, keys, shops, meter, clock, logger, billingTimezone: config.BILLING_TIMEZONE });
  const ingest = new WebhookIngest({ redis, keys, shops, platforms, queues, clock, ratePerMinute: config.WEBHOOK_RATE_PER_MINUTE });

  const services: HttpServices = {
    config,
    adminToken: options.adminToken,
    publicBaseUrl: config.PUBLIC_BASE_URL ?? `http://localhost:${config.PORT}`,
    redis,
    keys,
    clock,
    logger,
    metrics,
    queues,
    shops,
    agents,
    meter,
    ingest,
  };

  const workers: Worker[] = [];
  const workerRedis: Redis[] = [];
  let billingStarted: Promise<unknown> = Promise.resolve();

  function startWorkers(): Worker[] {
    const connection = workerConnection(config.REDIS_URL);
    connection.on('error', (error) => logger.warn({ err: error.message }, 'worker redis connection error'));
    workerRedis.push(connection);
    const processInbound = createInboundProcessor({ shops, conversations, meter, commerce, invoices: billing.invoices });
    const inbound = new Worker<InboundJob>(INBOUND_QUEUE, processInbound, {
      connection,
      prefix: keys.queuePrefix,
      concurrency: config.WORKER_CONCURRENCY,
    });
    inbound.on('completed', (job) => metrics.jobLatency.observe({ queue: INBOUND_QUEUE }, (clock.now() - job.data.receivedAt) / 1000));
    inbound.on('failed', (job, error) => {
      if (!job) return;
      const final = error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      const context = { queue: INBOUND_QUEUE, jobId: job.id, shopId: job.data.shopId, attemptsMade: job.attemptsMade, err: error.message };
      if (final) {
        metrics.jobsFailed.inc({ queue: INBOUND_QUEUE });
        logger.error(context, 'inbound job failed permanently; kept in the failed set (GET /v1/ops/failed-jobs)');
      } else {
        logger.warn(context, 'inbound job failed; will retry');
      }
    });
    inbound.on('error', (error) => logger.warn({ err: error.message }, 'inbound worker error'));
    workers.push(inbound);
    billingStarted = billing.startWorker(connection).catch((error: Error) => logger.error({ err: error.message }, 'billing worker did not start'));
    return workers;
  }

  function createHttp() {
    return createHttpApp(services, billing.routers());
  }

  /** Stops workers (letting active jobs finish) and closes connections. */
  async function close(): Promise<void> {
    await Promise.all(workers.map((w) => w.close()));
    await billingStarted;
    await billing.close();
    await Promise.all(Object.values(queues).map((q) => q.close()));
    await Promise.all(workerRedis.map((r) => r.quit().catch(() => r.disconnect())));
    await redis.quit().catch(() => redis.disconnect());
  }

  return { config, services, clock, logger, metrics, keys, redis, queues, shops, agents, meter, conversations, commerce, billing, startWorkers, createHttp, close };
}

export type Container = Awaited<ReturnType<typeof buildContainer>>;

/** Closes an HTTP server: no new connections, idle keep-alives dropped, in-flight requests finish. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
