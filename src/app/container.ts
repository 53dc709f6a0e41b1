import type { Server } from 'node:http';
import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { AgentEvents } from '../agents/agent-events';
import { AgentRegistry } from '../agents/agent-registry';
import { Assignment } from '../agents/assignment';
import { EventHub } from '../agents/event-hub';
import {
  createIdleCloseProcessor,
  IDLE_QUEUE,
  type IdleCloseJob,
  idleCloseScheduler,
} from '../agents/idle-close';
import { Presence } from '../agents/presence';
import { ReplyStore } from '../agents/reply-store';
import { ResponseClock } from '../agents/response-clock';
import { Routing } from '../agents/routing';
import { StreamSessions } from '../agents/stream-sessions';
import { SuggestionIndex } from '../agents/suggestion-index';
import { Workspace } from '../agents/workspace';
import { type AlertJob, WorkspaceFeed } from '../agents/workspace-feed';
import { createAssistant } from '../assist/assistant';
import { createBillingModule } from '../billing/billing-module';
import type { Config } from '../config/config';
import { ConversationStore } from '../conversations/conversation-store';
import { createHttpApp } from '../http/app';
import { agentRoutes } from '../http/routes/agent-routes';
import { assistRoutes } from '../http/routes/assist-routes';
import { pageRoutes } from '../http/routes/page-routes';
import type { HttpServices } from '../http/services';
import { CommerceEvents } from '../metering/commerce-events';
import { ConsultationMeter } from '../metering/consultation-meter';
import { ALERTS_QUEUE, createAlertProcessor } from '../pipeline/alert-processor';
import { markDelivered } from '../pipeline/delivery-dedupe';
import { createInboundProcessor } from '../pipeline/inbound-processor';
import { createOutboundProcessor, markFailed } from '../pipeline/outbound-processor';
import {
  createQueues,
  INBOUND_QUEUE,
  type InboundJob,
  OUTBOUND_QUEUE,
  type OutboundJob,
} from '../pipeline/queues';
import { WebhookIngest } from '../pipeline/webhook-ingest';
import type { PlatformHttp } from '../platforms/contract';
import { createRedisTokenCache } from '../platforms/redis-token-cache';
import { defaultPlatforms } from '../platforms/registry';
import { type Clock, systemClock } from '../shared/clock';
import { createLogger, type Logger } from '../shared/logger';
import { createMetrics, type Metrics } from '../shared/metrics';
import { producerConnection, RedisKeys, workerConnection } from '../shared/redis';
import { SecretBox } from '../shared/secret-box';
import { type ShopCache, ShopRegistry } from '../shops/shop-registry';

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
    const timer = setTimeout(
      () => reject(new Error(`Redis not ready after ${timeoutMs} ms`)),
      timeoutMs,
    );
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

  const queues = createQueues(redis, keys.queuePrefix, {
    attempts: config.OUTBOUND_ATTEMPTS,
    backoffMs: config.OUTBOUND_BACKOFF_MS,
  });
  const platforms = defaultPlatforms();
  const box = new SecretBox(options.secretsKey);

  /** The stores over one connection: the API's fails fast (503), the workers' waits out a Redis blip. */
  const shopCache: ShopCache = new Map();
  function createStores(connection: Redis) {
    const shops = new ShopRegistry(connection, keys, box, platforms, clock, shopCache);
    const agents = new AgentRegistry(
      connection,
      keys,
      clock,
      async (id) => (await shops.get(id)) !== null,
    );
    const agentsOfShop = (shopId: string) => agents.agentsOfShop(shopId);
    const conversations = new ConversationStore(connection, keys);
    const events = new AgentEvents(connection, keys, agentsOfShop);
    const assignment = new Assignment(connection, keys, config.AGENT_MAX_OPEN_CONVERSATIONS);
    const presence = new Presence(
      connection,
      keys,
      clock,
      config.AGENT_OFFLINE_AFTER_SECONDS * 1000,
    );
    // An agent taken off a shop loses its past events too: a replay from 0-0 shows nothing of it.
    agents.onShopsRemoved = (agentId, shopIds) => events.dropShops(agentId, shopIds).then(() => {});
    return {
      shops,
      agents,
      agentsOfShop,
      meter: new ConsultationMeter(connection, keys),
      conversations,
      commerce: new CommerceEvents(connection, keys),
      events,
      assignment,
      presence,
      routing: new Routing({ agents, presence, assignment, conversations, events }),
      replies: new ReplyStore(connection, keys),
      suggestionIndex: new SuggestionIndex(connection, keys),
      responseClock: new ResponseClock(connection, keys),
    };
  }
  const {
    shops,
    agents,
    meter,
    conversations,
    commerce,
    events,
    assignment,
    replies,
    suggestionIndex,
    responseClock,
    presence,
    routing,
  } = createStores(redis);
  const billing = createBillingModule({
    redis,
    keys,
    shops,
    meter,
    clock,
    logger,
    billingTimezone: config.BILLING_TIMEZONE,
  });
  const ingest = new WebhookIngest({
    redis,
    keys,
    shops,
    platforms,
    queues,
    clock,
    ratePerMinute: config.WEBHOOK_RATE_PER_MINUTE,
  });

  const assistant = createAssistant({
    openai: config.OPENAI_API_KEY
      ? {
          apiKey: config.OPENAI_API_KEY,
          baseURL: config.OPENAI_BASE_URL,
          model: config.OPENAI_MODEL,
          timeoutMs: config.ASSIST_TIMEOUT_MS,
        }
      : undefined,
    onFallback: (reason) => metrics.llmFallbacks.inc({ reason }),
    onLatency: (engine, ms) => metrics.suggestionLatency.observe({ engine }, ms / 1000),
  });
  const workspace = new Workspace({
    shops,
    agents,
    conversations,
    assignment,
    replies,
    suggestionIndex,
    events,
    presence,
    routing,
    outbound: queues.outbound,
    clock,
  });

  const hub = new EventHub({
    events,
    open: () =>
      workerConnection(config.REDIS_URL, { connectionName: `${config.REDIS_PREFIX}:event-hub` }),
    waker: redis,
    blockMs: 5000,
    logger,
  });
  const streams = new StreamSessions({
    hub,
    events,
    agents,
    presence,
    routing,
    clock,
    logger,
    heartbeatMs: config.SSE_HEARTBEAT_SECONDS * 1000,
    offlineAfterMs: config.AGENT_OFFLINE_AFTER_SECONDS * 1000,
    maxPerAgent: config.AGENT_MAX_STREAMS,
    maxPerProcess: config.SSE_MAX_STREAMS_PER_PROCESS,
  });

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
    assistant,
    workspace,
    events,
    responseClock,
    presence,
    streams,
  };
  const workers: Worker[] = [];
  const workerQueues: Queue[] = [];
  const workerRedis: Redis[] = [];
  let billingStarted: Promise<unknown> = Promise.resolve();
  let presenceSweep: NodeJS.Timeout | null = null;

  function startWorkers(): Worker[] {
    const connection = workerConnection(config.REDIS_URL);
    connection.on('error', (error) =>
      logger.warn({ err: error.message }, 'worker redis connection error'),
    );
    workerRedis.push(connection);
    // Job processing waits out a Redis blip instead of failing a job halfway.
    const storeConnection = workerConnection(config.REDIS_URL);
    storeConnection.on('error', (error) =>
      logger.warn({ err: error.message }, 'worker store connection error'),
    );
    workerRedis.push(storeConnection);
    const stores = createStores(storeConnection);
    const alerts = new Queue<AlertJob>(ALERTS_QUEUE, {
      connection: storeConnection,
      prefix: keys.queuePrefix,
      // Completed alerts are kept a day: the job id (conversation + start of the wait) then stops a repeat alert.
      defaultJobOptions: { removeOnComplete: { age: 86_400 }, removeOnFail: 1000, attempts: 3 },
    });
    const idle = new Queue<IdleCloseJob>(IDLE_QUEUE, {
      connection: storeConnection,
      prefix: keys.queuePrefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 1000, attempts: 3 },
    });
    workerQueues.push(alerts, idle);
    const scheduleIdleClose = idleCloseScheduler(idle, config.CONVERSATION_IDLE_SECONDS * 1000);
    const feed = new WorkspaceFeed({
      ...stores,
      assistant,
      alerts,
      scheduleIdleClose,
      clock,
      logger,
    });
    const platformHttp: PlatformHttp = {
      // Looked up at call time so tests' HTTP interception sees every request.
      fetch: (input, init) => fetch(input, init),
      apiBase: {
        metaGraph: config.META_GRAPH_API_BASE,
        line: config.LINE_API_BASE,
        wechat: config.WECHAT_API_BASE,
        telegram: config.TELEGRAM_API_BASE,
      },
      tokenCache: createRedisTokenCache(storeConnection, `${keys.global('{tokens}')}:`),
    };

    const processInbound = createInboundProcessor({
      markDelivered: (shopId, platform, eventId) =>
        markDelivered(storeConnection, keys, shopId, platform, eventId),
      shops: stores.shops,
      conversations: stores.conversations,
      meter: stores.meter,
      commerce: stores.commerce,
      invoices: billing.invoices,
      afterBuyerMessage: (shop, event, stale) => feed.afterBuyerMessage(shop, event, stale),
      staleAfterMs: config.STALE_MESSAGE_HOURS * 3_600_000,
      afterAgentMessage: (shop, event) => feed.afterAgentMessage(shop, event),
    });
    const inbound = new Worker<InboundJob>(INBOUND_QUEUE, processInbound, {
      connection,
      prefix: keys.queuePrefix,
      concurrency: config.WORKER_CONCURRENCY,
    });
    inbound.on('completed', (job) =>
      metrics.jobLatency.observe(
        { queue: INBOUND_QUEUE },
        (clock.now() - job.data.receivedAt) / 1000,
      ),
    );
    inbound.on('failed', (job, error) => {
      if (!job) return;
      const final =
        error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      const context = {
        queue: INBOUND_QUEUE,
        jobId: job.id,
        shopId: job.data.shopId,
        attemptsMade: job.attemptsMade,
        err: error.message,
      };
      if (final) {
        metrics.jobsFailed.inc({ queue: INBOUND_QUEUE });
        logger.error(
          context,
          'inbound job failed permanently; kept in the failed set (GET /v1/ops/failed-jobs)',
        );
      } else {
        logger.warn(context, 'inbound job failed; will retry');
      }
    });
    inbound.on('error', (error) => logger.warn({ err: error.message }, 'inbound worker error'));

    const outboundDeps = {
      ...stores,
      platforms,
      http: platformHttp,
      clock,
      logger,
      scheduleIdleClose,
      invoices: billing.invoices,
      agentName: async (agentId: string) => (await stores.agents.get(agentId))?.name ?? 'agent',
    };
    const outbound = new Worker<OutboundJob>(
      OUTBOUND_QUEUE,
      createOutboundProcessor(outboundDeps),
      {
        connection,
        prefix: keys.queuePrefix,
        concurrency: config.WORKER_CONCURRENCY,
      },
    );
    outbound.on('failed', (job: Job<OutboundJob> | undefined, error) => {
      const final = error.name === 'UnrecoverableError' || /stalled/i.test(error.message);
      if (!job || (!final && job.attemptsMade < (job.opts.attempts ?? 1))) return;
      // Retries exhausted: the reply ends as failed with the platform's last words.
      metrics.jobsFailed.inc({ queue: OUTBOUND_QUEUE });
      void stores.replies
        .get(job.data.shopId, job.data.replyId)
        .then(async (reply) => {
          if (reply?.status === 'queued') await markFailed(outboundDeps, reply, error.message);
          if (reply?.status === 'sent' && !reply.recorded) {
            // Delivered, but the history and meters were not updated: finish that later, never resend.
            logger.error(
              { replyId: reply.replyId, shopId: reply.shopId },
              'reply sent but not yet recorded; retrying the bookkeeping',
            );
            await queues.outbound.add('reply', job.data, {
              jobId: `${reply.replyId}-record-${clock.now()}`,
              delay: 60_000,
            });
          }
        })
        .catch((markError: Error) =>
          logger.warn(
            { err: markError.message, replyId: job.data.replyId },
            'could not mark the reply failed',
          ),
        );
    });
    outbound.on('error', (error) => logger.warn({ err: error.message }, 'outbound worker error'));

    const alertWorker = new Worker<AlertJob>(
      ALERTS_QUEUE,
      createAlertProcessor({ ...stores, clock }),
      { connection, prefix: keys.queuePrefix, concurrency: 4 },
    );
    alertWorker.on('error', (error) => logger.warn({ err: error.message }, 'alert worker error'));
    const idleWorker = new Worker<IdleCloseJob>(
      IDLE_QUEUE,
      createIdleCloseProcessor({ ...stores, clock }),
      { connection, prefix: keys.queuePrefix, concurrency: 4 },
    );
    idleWorker.on('error', (error) =>
      logger.warn({ err: error.message }, 'idle-close worker error'),
    );
    workers.push(inbound, outbound, alertWorker, idleWorker);
    // Agents not seen for AGENT_OFFLINE_AFTER_SECONDS go offline: their waiting buyers move on.
    let sweeping = false;
    presenceSweep = setInterval(
      () => {
        if (sweeping) return;
        sweeping = true;
        void (async () => {
          for (const agentId of await stores.presence.takeExpired())
            await stores.routing.presenceChanged(agentId, 'offline');
        })()
          .catch((error: Error) => logger.warn({ err: error.message }, 'presence sweep failed'))
          .finally(() => {
            sweeping = false;
          });
      },
      Math.max(250, Math.min(5000, (config.AGENT_OFFLINE_AFTER_SECONDS * 1000) / 4)),
    );
    presenceSweep.unref();
    billingStarted = billing
      .startWorker(connection)
      .catch((error: Error) =>
        logger.error({ err: error.message }, 'billing worker did not start'),
      );
    return workers;
  }

  function createHttp() {
    return createHttpApp(services, {
      v1: [agentRoutes(services), assistRoutes(services), ...billing.routers().v1],
      public: [pageRoutes()],
    });
  }

  /** Stops workers (letting active jobs finish) and closes connections. */
  async function close(): Promise<void> {
    streams.stopAll();
    hub.close();
    if (presenceSweep) clearInterval(presenceSweep);
    await Promise.all(workers.map((w) => w.close()));
    await billingStarted;
    await billing.close();
    await Promise.all([...Object.values(queues), ...workerQueues].map((q) => q.close()));
    await Promise.all(workerRedis.map((r) => r.quit().catch(() => r.disconnect())));
    await redis.quit().catch(() => redis.disconnect());
  }

  return {
    config,
    services,
    clock,
    logger,
    metrics,
    keys,
    redis,
    queues,
    shops,
    agents,
    meter,
    conversations,
    commerce,
    billing,
    replies,
    assignment,
    events,
    workspace,
    responseClock,
    startWorkers,
    createHttp,
    close,
    presence,
    routing,
    streams,
    hub,
    /** Ends open event streams and refuses new ones (503 shutting_down): the first step of shutdown. */
    stopStreams: () => streams.stopAll(),
  };
}

export type Container = Awaited<ReturnType<typeof buildContainer>>;

/** Closes an HTTP server: no new connections, idle keep-alives dropped, in-flight requests finish. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
