import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import { AgentEvents } from '../agents/agent-events';
import { AgentRegistry } from '../agents/agent-registry';
import { Assignment } from '../agents/assignment';
import { EventHub, HUB_BATCH_MS } from '../agents/event-hub';
import { MediaProxy } from '../agents/media-proxy';
import { Presence } from '../agents/presence';
import { QuickPhrases } from '../agents/quick-phrases';
import { ReplyStore } from '../agents/reply-store';
import { ResponseClock } from '../agents/response-clock';
import { Routing } from '../agents/routing';
import { StreamSessions } from '../agents/stream-sessions';
import { SuggestionIndex } from '../agents/suggestion-index';
import { Workspace } from '../agents/workspace';
import { WorkspaceFeed } from '../agents/workspace-feed';
import { ASSIST_THREAD_ENTRY } from '../assist/assist-thread-entry';
import { type Assistant, createAssistant, type FallbackReason } from '../assist/assistant';
import { createThreadedAssistant } from '../assist/threaded-assistant';
import { AuditLog } from '../audit/audit-log';
import { createBillingModule } from '../billing/billing-module';
import { InvoiceBook } from '../billing/invoice-book';
import type { Config } from '../config/config';
import { ConversationStore } from '../conversations/conversation-store';
import { DeskBoard } from '../desk/desk-board';
import { createHttpApp, createProbeApp } from '../http/app';
import { FailureBudget } from '../http/failure-budget';
import { agentRoutes } from '../http/routes/agent-routes';
import { assistRoutes } from '../http/routes/assist-routes';
import { pageRoutes } from '../http/routes/page-routes';
import { quickPhraseRoutes } from '../http/routes/quick-phrase-routes';
import { widgetRoutes } from '../http/routes/widget-routes';
import { createHttpServer } from '../http/server-limits';
import type { HttpServices } from '../http/services';
import { webhookLane } from '../http/webhook-lane';
import { CommerceEvents } from '../metering/commerce-events';
import { ConsultationMeter } from '../metering/consultation-meter';
import { OperatorRegistry } from '../operators/operator-registry';
import { createAlertProcessor } from '../pipeline/alert-processor';
import { claimDelivery } from '../pipeline/delivery-dedupe';
import { DueTimers } from '../pipeline/due-timers';
import { createIdleCloseProcessor } from '../pipeline/idle-processor';
import { createInboundProcessor } from '../pipeline/inbound-processor';
import { createOutboundProcessor, outboundFinalFailure } from '../pipeline/outbound-processor';
import {
  closeOnceConnected,
  closeQueues,
  createQueues,
  idleCloseScheduler,
  type Queues,
  requeueInbound,
  slowReplyAlerter,
  splitFailedBatch,
  type TopologySettings,
  unansweredCloseScheduler,
} from '../pipeline/queues';
import { SendSlots } from '../pipeline/send-slots';
import { WebhookIngest } from '../pipeline/webhook-ingest';
import { startWorkers as startQueueWorkers } from '../pipeline/workers';
import type { PlatformHttp } from '../platforms/contract';
import { guardedFetch, OutboundPolicy } from '../platforms/outbound-guard';
import { createRedisTokenCache } from '../platforms/redis-token-cache';
import { defaultPlatforms } from '../platforms/registry';
import { type Clock, systemClock } from '../shared/clock';
import { createLogger, type Logger } from '../shared/logger';
import { createMetrics, type Metrics } from '../shared/metrics';
import type { RedisConnection } from '../shared/redis';
import { isCluster, producerConnection, RedisKeys, workerConnection } from '../shared/redis';
import { SecretBox } from '../shared/secret-box';
import { type ShopCache, ShopRegistry } from '../shops/shop-registry';
import { WidgetSessionTokens } from '../widget/session-token';
import { WidgetMailbox } from '../widget/widget-mailbox';
import { WidgetService } from '../widget/widget-service';

export interface ContainerOptions {
  adminToken: string;
  secretsKey: string;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
}

/** Redis (or the Cluster) did not become usable in time: the start-up names the setting. */
export class RedisNotReadyError extends Error {}

/** Waits until a fail-fast connection is usable (it refuses commands until then). */
export async function waitForRedis(redis: RedisConnection, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  // The last connection error is the operator's answer (refused, NOAUTH, WRONGPASS, TLS).
  let lastError = '';
  const remember = (error: Error) => {
    lastError = error.message;
  };
  redis.on('error', remember);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new RedisNotReadyError(
            `Redis not ready after ${timeoutMs} ms${lastError ? ` (${lastError})` : ''}`,
          ),
        ),
      timeoutMs,
    );
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  }).finally(() => redis.off('error', remember));
}

/**
 * Wiring only: builds every service from the config once. The API and the
 * workers are started separately so each can run in its own process.
 */
export async function buildContainer(config: Config, options: ContainerOptions) {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const metrics = options.metrics ?? createMetrics();
  const keys = new RedisKeys(config.REDIS_PREFIX, isCluster(config));
  const redis = producerConnection(config);
  redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
  await waitForRedis(redis);

  const topology: TopologySettings = {
    outboundAttempts: config.OUTBOUND_ATTEMPTS,
    outboundBackoffMs: config.OUTBOUND_BACKOFF_MS,
  };
  const queuePrefix = (name: string) => keys.queuePrefix(name);
  const queues = createQueues(redis, queuePrefix, topology, config.INBOUND_PARTITIONS);
  // Armed alerts and closes, for the queue gauges.
  const timers = new DueTimers(redis, keys, queues);
  const platforms = defaultPlatforms();
  const box = new SecretBox(options.secretsKey);

  /** The stores over one connection: the API's fails fast (503), the workers' waits out a Redis blip. */
  const shopCache: ShopCache = new Map();
  const outboundPolicy = new OutboundPolicy(config.OUTBOUND_DEV_HOSTS);
  function createStores(connection: RedisConnection) {
    const shops = new ShopRegistry(
      connection,
      keys,
      box,
      platforms,
      clock,
      shopCache,
      outboundPolicy,
    );
    const agents = new AgentRegistry(
      connection,
      keys,
      clock,
      async (id) => (await shops.get(id)) !== null,
    );
    const agentsOfShop = (shopId: string) => agents.agentsOfShop(shopId);
    const conversations = new ConversationStore(connection, keys, {
      retentionSeconds: config.CONVERSATION_RETENTION_DAYS * 86_400,
      maxLiveConversations: config.SHOP_MAX_LIVE_CONVERSATIONS,
    });
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
    queue: queues.billing,
  });
  const ingest = new WebhookIngest({
    redis,
    keys,
    shops,
    platforms,
    queues,
    clock,
    ratePerMinute: config.WEBHOOK_RATE_PER_MINUTE,
    fairSharePerMinute: config.WEBHOOK_FAIR_SHARE_PER_MINUTE,
    callSpacingMs: config.INGEST_CALL_SPACING_MS,
  });

  const assistantOptions = {
    openai: config.OPENAI_API_KEY
      ? {
          apiKey: config.OPENAI_API_KEY,
          baseURL: config.OPENAI_BASE_URL,
          model: config.OPENAI_MODEL,
          timeoutMs: config.ASSIST_TIMEOUT_MS,
        }
      : undefined,
    onFallback: (reason: FallbackReason) => metrics.llmFallbacks.inc({ reason }),
    onLatency: (engine: 'rules' | 'openai', ms: number) =>
      metrics.suggestionLatency.observe({ engine }, ms / 1000),
  };
  const threadedAssistant = config.ASSIST_THREAD
    ? createThreadedAssistant({
        ...assistantOptions,
        entry: ASSIST_THREAD_ENTRY,
        inProcess: () => createAssistant(assistantOptions),
        onThreadExit: (detail) =>
          logger.error({ detail }, 'assist thread stopped; suggesting in-process meanwhile'),
        onInProcess: (reason) => metrics.assistInProcess.inc({ reason }),
      })
    : null;
  // Started now, not at the first suggestion: a model or prompt file that cannot be read stops
  // the start, as it does when the assistant is built in-process.
  await threadedAssistant?.ready();
  const assistant: Assistant = threadedAssistant ?? createAssistant(assistantOptions);
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
    commerce,
    outbound: queues.outbound,
    clock,
  });

  const mediaProxy = new MediaProxy({
    shops,
    conversations,
    platforms,
    // The API's own platform HTTP: the same guard and bases as the senders, and their shared WeChat token.
    http: {
      fetch: guardedFetch(outboundPolicy, { connectTimeoutMs: config.OUTBOUND_CONNECT_TIMEOUT_MS }),
      isDevHost: (host) => outboundPolicy.isDevHost(host),
      apiBase: platformApiBase(config),
      tokenCache: createRedisTokenCache(redis, keys.platformTokens()),
    },
    clock,
    maxBytes: config.MEDIA_MAX_BYTES,
    timeoutMs: config.MEDIA_TIMEOUT_MS,
    cacheBytes: config.MEDIA_CACHE_BYTES,
    maxConcurrent: config.MEDIA_CONCURRENT_FETCHES,
  });

  const hub = new EventHub({
    events,
    open: () => workerConnection(config, { connectionName: `${config.REDIS_PREFIX}:event-hub` }),
    waker: redis,
    wakeKey: keys.agentEventsWake(),
    blockMs: 5000,
    batchMs: HUB_BATCH_MS,
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
  const widgetTokens = new WidgetSessionTokens(options.secretsKey);
  const widgetMailbox = new WidgetMailbox(redis, keys.widgetMailbox(), () =>
    workerConnection(config),
  );
  const widget = new WidgetService({
    redis,
    keys,
    shops,
    conversations,
    ingest,
    tokens: widgetTokens,
    clock,
    // Online agents only: the widget tells the buyer when nobody can answer now.
    agentsAvailable: async (shopId) => (await routing.onlineAgentsOf(shopId)).length,
  });

  const operators = new OperatorRegistry(redis, keys, clock);
  const audit = new AuditLog(redis, keys, clock, config.AUDIT_RETENTION_DAYS);
  const deskBoard = new DeskBoard({
    shops,
    agents,
    conversations,
    assignment,
    meter,
    responseClock,
    clock,
    presenceOf: (agentId) => presence.statusOf(agentId),
  });
  const shutdownHooks = new Set<() => void>();
  let draining = false;

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
    timers,
    shops,
    agents,
    operators,
    audit,
    deskBoard,
    meter,
    ingest,
    assistant,
    workspace,
    mediaProxy,
    events,
    replies,
    responseClock,
    presence,
    streams,
    quickPhrases: new QuickPhrases(redis, keys, clock),
    verificationFailures: new FailureBudget(config.WEBHOOK_FAILED_VERIFICATIONS_PER_MINUTE, () =>
      clock.now(),
    ),
    draining: () => draining,
    widget,
    widgetMailbox,
    onShutdown: (stop) => {
      shutdownHooks.add(stop);
      return () => shutdownHooks.delete(stop);
    },
  };
  const workers: Worker[] = [];
  const workerQueues: Queues[] = [];
  const workerRedis: RedisConnection[] = [];
  let billingScheduled: Promise<unknown> = Promise.resolve();
  let presenceSweep: NodeJS.Timeout | null = null;
  const stopTimerSweeps: Array<() => Promise<void>> = [];

  function startWorkers(): Worker[] {
    // On one Redis, BullMQ's own connection (take, finish, lock renewal; its blocking wait is
    // an unbatched copy of it) batches its writes too: the finishes and fetches of concurrent
    // jobs reach Redis in one write per turn (tick-writes.ts), 2.5 socket reads per message
    // instead of 4 at 1,000 msg/s ("Round nine"); without auto-pipelining's wait for the batch
    // before, the process also spends less per message ("Round nineteen",
    // docs/architecture.md). A Cluster already spreads Redis's work, and there ioredis's batches
    // (one per node) cost the worker about 50 µs a message and held it behind at 1,000 msg/s on
    // this machine, so none.
    const oneRedis = !isCluster(config);
    const connection = workerConnection(config, { batchWrites: oneRedis });
    connection.on('error', (error) =>
      logger.warn({ err: error.message }, 'worker redis connection error'),
    );
    workerRedis.push(connection);
    // Job processing waits out a Redis blip instead of failing a job halfway.
    // Concurrent jobs share one write to Redis instead of one each (tick-writes.ts).
    const storeConnection = workerConnection(config, { batchWrites: true });
    storeConnection.on('error', (error) =>
      logger.warn({ err: error.message }, 'worker store connection error'),
    );
    workerRedis.push(storeConnection);
    const stores = createStores(storeConnection);
    // Six observations per buyer message: each stage's child is looked up once, not per call.
    const stageChildren = new Map<string, { observe: (seconds: number) => void }>();
    const observeStage = (stage: string, ms: number) => {
      let child = stageChildren.get(stage);
      if (!child) {
        child = metrics.pipelineStage.labels({ stage });
        stageChildren.set(stage, child);
      }
      child.observe(ms / 1000);
    };
    // Late-event bookkeeping is a step of every job too: on the waiting connection, not the API's.
    const workerInvoices = new InvoiceBook(storeConnection, keys, stores.shops, clock);
    // Jobs the workers add (alerts, idle closes, bookkeeping reruns) wait out a blip too. On the
    // workers' connection, not the store's: BullMQ registers its ~50 scripts on the connection it
    // is given, and ioredis copies them onto every auto-pipelined batch the store sends.
    const own = createQueues(connection, queuePrefix, topology, config.INBOUND_PARTITIONS);
    workerQueues.push(own);
    // The month close is a job too: its reads and writes wait out a blip like every other step.
    const workerBilling = createBillingModule({
      redis: storeConnection,
      keys,
      shops: stores.shops,
      meter: stores.meter,
      clock,
      logger,
      billingTimezone: config.BILLING_TIMEZONE,
      queue: own.billing,
    });
    // Alerts and closes wait as timers; this process queues the due ones as jobs.
    const ownTimers = new DueTimers(storeConnection, keys, own);
    stopTimerSweeps.push(
      ownTimers.start((error) => logger.warn({ err: error.message }, 'timer sweep failed')),
    );
    const scheduleIdleClose = idleCloseScheduler(
      ownTimers,
      config.CONVERSATION_IDLE_SECONDS * 1000,
    );
    const unansweredClose = {
      armUnansweredClose: unansweredCloseScheduler(ownTimers, clock),
      unansweredCloseAfterMs: config.UNANSWERED_CLOSE_AFTER_HOURS * 3_600_000,
    };
    const feed = new WorkspaceFeed({
      ...stores,
      assistant,
      armAlert: slowReplyAlerter(ownTimers, clock),
      scheduleIdleClose,
      ...unansweredClose,
      clock,
      logger,
    });
    const platformHttp: PlatformHttp = {
      // Every destination checked (https, public addresses), redirects never followed.
      fetch: guardedFetch(outboundPolicy, { connectTimeoutMs: config.OUTBOUND_CONNECT_TIMEOUT_MS }),
      apiBase: platformApiBase(config),
      widgetMailbox: new WidgetMailbox(storeConnection, keys.widgetMailbox(), () =>
        workerConnection(config),
      ),
      tokenCache: createRedisTokenCache(storeConnection, keys.platformTokens()),
    };
    const outboundDeps = {
      ...stores,
      platforms,
      http: platformHttp,
      clock,
      logger,
      scheduleIdleClose,
      invoices: workerInvoices,
      agentName: async (agentId: string) => (await stores.agents.get(agentId))?.name ?? 'agent',
      sendSlots: new SendSlots(storeConnection, keys, config.OUTBOUND_SENDS_PER_SHOP),
      // A reply's job has its id (see Workspace): alive unless gone, completed or failed for good.
      sendPending: async (replyId: string) => {
        const job = await own.outbound.getJob(replyId);
        return (
          job !== undefined && !['completed', 'failed', 'unknown'].includes(await job.getState())
        );
      },
    };

    workers.push(
      ...startQueueWorkers(
        {
          inbound: {
            process: createInboundProcessor({
              claimDelivery: (shopId, platform, eventId, token) =>
                claimDelivery(storeConnection, keys, shopId, platform, eventId, token),
              onDuplicate: () => metrics.inboundDuplicateJobs.inc(),
              shops: stores.shops,
              conversations: stores.conversations,
              meter: stores.meter,
              commerce: stores.commerce,
              afterBuyerMessage: (shop, event, context) =>
                feed.afterBuyerMessage(shop, event, context),
              staleAfterMs: config.STALE_MESSAGE_HOURS * 3_600_000,
              invoices: workerInvoices,
              afterAgentMessage: (shop, event) => feed.afterAgentMessage(shop, event),
              observeStage,
              afterOpen: (shop, event) => feed.afterOpen(shop, event),
              requeue: (event, unrecoverable, priority) =>
                requeueInbound(own.inbound, event, unrecoverable, priority),
            }),
            onFinalFailure: (job) => splitFailedBatch(own.inbound, job),
            // Per partition: one process still runs about WORKER_CONCURRENCY inbound jobs at once.
            concurrency: Math.ceil(config.WORKER_CONCURRENCY / config.INBOUND_PARTITIONS),
          },
          outbound: {
            process: createOutboundProcessor(outboundDeps),
            concurrency: config.WORKER_CONCURRENCY,
            onFinalFailure: outboundFinalFailure(outboundDeps, own.outbound),
          },
          alerts: { process: createAlertProcessor({ ...stores, clock }), concurrency: 4 },
          idle: {
            process: createIdleCloseProcessor({ ...stores, ...unansweredClose, clock }),
            concurrency: 4,
          },
          billing: {
            process: (job) => workerBilling.processClose(job),
            // One close at a time: it already closes shops concurrently inside.
            concurrency: 1,
            onFinalFailure: (job, error) => workerBilling.onCloseFailedForGood(job, error),
          },
        },
        {
          connection,
          prefixOf: queuePrefix,
          inboundPartitions: config.INBOUND_PARTITIONS,
          logger,
          metrics,
          clock,
        },
      ),
    );
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
    billingScheduled = billing
      .schedule()
      .catch((error: Error) =>
        logger.error({ err: error.message }, 'month close schedule not registered'),
      );
    return workers;
  }

  function createHttp() {
    return createHttpApp(services, {
      v1: [
        agentRoutes(services),
        quickPhraseRoutes(services),
        assistRoutes(services),
        ...billing.routers().v1,
      ],
      public: [widgetRoutes(services)],
      pages: [pageRoutes()],
    });
  }

  /** Shutdown begins: answers close their connections, event streams (agents' and widgets') end, new agent streams get 503 shutting_down. */
  function stopStreams(): void {
    draining = true;
    streams.stopAll();
    for (const stop of [...shutdownHooks]) stop();
  }

  /** The API on a server with connection limits (timeouts, max connections). */
  async function listen(port: number, host: string): Promise<Server> {
    const server = await listening(
      createHttpServer(createHttp(), config, webhookLane(services)),
      port,
      host,
    );
    // PORT=0 takes any free port: the addresses given out (webhook URLs, widget snippets) must
    // carry the one really taken, not ":0".
    if (!config.PUBLIC_BASE_URL && port === 0)
      services.publicBaseUrl = `http://localhost:${(server.address() as AddressInfo).port}`;
    return server;
  }

  /** A worker-only process's probes and metrics (`OPS_PORT`), with the API's connection limits. */
  function listenProbes(port: number, host: string): Promise<Server> {
    return listening(createHttpServer(createProbeApp(services), config), port, host);
  }

  /** Stops workers (letting active jobs finish) and closes connections. */
  async function close(): Promise<void> {
    stopStreams();
    hub.close();
    widgetMailbox.close();
    if (presenceSweep) clearInterval(presenceSweep);
    await Promise.all(stopTimerSweeps.map((stop) => stop()));
    await closeOnceConnected(workers);
    await billingScheduled;
    await Promise.all([queues, ...workerQueues].map(closeQueues));
    await Promise.all(workerRedis.map((r) => r.quit().catch(() => r.disconnect())));
    await redis.quit().catch(() => redis.disconnect());
    await threadedAssistant?.close();
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
    timers,
    shops,
    agents,
    operators,
    audit,
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
    listen,
    listenProbes,
    close,
    presence,
    routing,
    streams,
    hub,
    stopStreams,
  };
}

export type Container = Awaited<ReturnType<typeof buildContainer>>;

/** Listens and resolves once the port is taken (or rejects: in use, no such address). */
async function listening(server: Server, port: number, host: string): Promise<Server> {
  server.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  return server;
}

/**
 * Closes an HTTP server: no new connections; in-flight requests finish and
 * their answers carry `Connection: close` (the app's drain middleware);
 * keep-alive sockets are closed as soon as they fall idle; whatever is still
 * open after `graceMs` is cut so the process can exit in time.
 */
export function closeServer(server: Server, graceMs = 20_000): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** The platforms' API bases from the config: the senders and the media proxy use the same. */
function platformApiBase(config: Config): PlatformHttp['apiBase'] {
  return {
    metaGraph: config.META_GRAPH_API_BASE,
    line: config.LINE_API_BASE,
    lineData: config.LINE_DATA_API_BASE,
    wechat: config.WECHAT_API_BASE,
    telegram: config.TELEGRAM_API_BASE,
  };
}
