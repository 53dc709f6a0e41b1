import { randomUUID } from 'node:crypto';
import { Job, type JobsOptions, type Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import type {
  InboundRequest,
  NormalizedEvent,
  PlatformAdapter,
  PlatformName,
} from '../platforms/contract';
import { DELIVERY_LIMITS, type DeliveryLimits } from '../platforms/delivery-limits';
import type { PlatformRegistry } from '../platforms/registry';
import type { Clock } from '../shared/clock';
import { AppError, unavailable } from '../shared/errors';
import type { RedisConnection, RedisKeys } from '../shared/redis';
import { defineScript } from '../shared/redis-scripts';
import type { ShopRegistry } from '../shops/shop-registry';
import { deliveryKey } from './delivery-dedupe';
import { checkIdentifiers } from './event-identifiers';
import { type BatchDelivery, type BatchVerdict, IngestBatches } from './ingest-batch';
import { type InboundJob, type InboundJobData, jobIds, type Queues } from './queues';

/** A shop that takes a delivery, as `WebhookIngest.target` found it. */
export interface DeliveryTarget {
  platform: string;
  shopId: string;
  adapter: PlatformAdapter;
  credentials: Record<string, unknown>;
  limits: DeliveryLimits;
}

export interface WebhookAnswer {
  status: number;
  contentType: string;
  body: string;
  queued: number;
  duplicates: number;
  /** Kinds of event acknowledged without a rule for them (ParsedDelivery.unknownKinds). */
  unknownKinds?: string[];
  /** Fields of malformed events set aside from a batch (ParsedDelivery.refusedEvents). */
  refusedEvents?: string[];
}

// On a Cluster (one Redis does this inside the batch script, see ingest-batch.ts),
// one round trip before the enqueue: count this delivery's events (at least
// one, so empty status updates cost quota too) in the shop's fixed one-minute
// window, and say which events were already seen. KEYS[1] is the rate key,
// KEYS[2..] the events' dedupe keys; ARGV[1] the window, ARGV[2] the weight.
// Returns the count before this delivery, the window's ttl, then one flag per event.
const RATE_AND_SEEN_SCRIPT = defineScript<number[]>(
  'rateAndSeen',
  `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local before = count - tonumber(ARGV[2])
-- The window's remaining time is only needed to refuse (Retry-After): read it only then.
local ttl = -1
if before >= tonumber(ARGV[3]) then ttl = redis.call('PTTL', KEYS[1]) end
local out = {before, ttl}
for i = 2, #KEYS do out[i + 1] = redis.call('EXISTS', KEYS[i]) end
return out
`,
);

// After the add: which of the jobs carry this request's ingest id, i.e. were
// created by it. BullMQ answers an add whose job id exists (still queued, or a
// concurrent copy of the same delivery that won the race) exactly like a new
// one; such a job keeps the other request's id, so that event was absorbed.
// KEYS are job hashes of one queue: one slot under BullMQ's hash-tagged prefix.
const CREATED_BY_SCRIPT = defineScript<number[]>(
  'createdByIngest',
  `
local out = {}
for i = 1, #KEYS do
  -- A job already gone was processed and removed (completed jobs are not kept): ours, since a
  -- duplicate of a finished event is stopped by the dedupe key before it is added.
  local data = redis.call('HGET', KEYS[i], 'data')
  out[i] = ((not data) or string.find(data, ARGV[1], 1, true)) and 1 or 0
end
return out
`,
);

/**
 * Adds the jobs and asks which of them this request created, in one round
 * trip where `add` then the check took two. The adds (BullMQ's own
 * `Job.addJob`, with the queue's default options under the job's, as
 * `Queue.add` builds them) and the check are issued in one synchronous
 * stretch on the one producer connection that BullMQ's queue shares: it
 * sends them in one write (`batchWrites`), and Redis runs a connection's
 * commands in order, so the check sees the adds (on a Cluster too: all of
 * them are keys of the queue's hash tag, so one node). No explicit pipeline:
 * building one copies every registered script onto it, a cost per request.
 */
async function addAndCheck(
  redis: RedisConnection,
  queue: Queue<InboundJobData>,
  jobs: ReadonlyArray<{ name: string; data: InboundJob; opts: JobsOptions & { jobId: string } }>,
  ingestId: string,
): Promise<number[]> {
  const client = await queue.client;
  const defaults = queue.defaultJobOptions;
  const adds = jobs.map(({ name, data, opts }) =>
    new Job<InboundJobData>(queue, name, data, { ...defaults, ...opts }, opts.jobId).addJob(client),
  );
  const created = CREATED_BY_SCRIPT.run(
    redis,
    jobs.map((job) => queue.toKey(job.opts.jobId)),
    [ingestId],
  );
  const [, flags] = await Promise.all([Promise.all(adds), created]);
  return flags;
}

/** BullMQ's largest priority. */
const MAX_PRIORITY = 2_097_152;

// Remembers a signed query with its body's hash; 1 when this body is the one first seen with it.
const SAME_BODY_SCRIPT = defineScript<number>(
  'sameBodyForQuery',
  `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
`,
);

/**
 * The webhook use case: find the shop, verify, parse, rate-limit, drop
 * redeliveries (the dedupe key, or the still-queued job with the same id),
 * and queue every new event durably before answering.
 */
export class WebhookIngest {
  constructor(
    private readonly deps: {
      redis: RedisConnection;
      keys: RedisKeys;
      shops: ShopRegistry;
      platforms: PlatformRegistry;
      queues: Queues;
      clock: Clock;
      /** Events accepted per shop per minute; a delivery that starts within it is taken whole. */
      ratePerMinute: number;
      /**
       * Events per shop per minute that go to the queue's plain FIFO list; the
       * shop's events past this share wait behind every other shop's share
       * (BullMQ serves the wait list before prioritized jobs).
       */
      fairSharePerMinute: number;
      /** On one Redis, least ms between two ingest calls of a queue (see IngestBatches). */
      callSpacingMs?: number;
    },
  ) {
    // One Redis: one script call for the deliveries that gather (ingest-batch.ts). A Cluster: two
    // round trips per delivery.
    this.batches =
      deps.redis instanceof Cluster
        ? null
        : new IngestBatches(deps.redis, {
            ratePerMinute: deps.ratePerMinute,
            fairSharePerMinute: deps.fairSharePerMinute,
            maxPriority: MAX_PRIORITY,
            spacingMs: deps.callSpacingMs ?? 0,
          });
    // Checked now: a BullMQ whose adds this cannot build stops the start (ingest-batch.ts).
    for (const queue of deps.queues.inbound.partitions) this.batches?.keysOf(queue);
  }

  private readonly batches: IngestBatches | null;

  /**
   * The shop a delivery is for, found once before its body is read: 404 for a platform or a
   * shop that does not exist, so a stranger's body for no shop is never buffered (a WhatsApp
   * body may be 4 MiB), and the platform's size and event caps for reading the body.
   */
  async target(platform: string, shopId: string): Promise<DeliveryTarget> {
    const { adapter, credentials } = await this.resolve(platform, shopId);
    return { platform, shopId, adapter, credentials, limits: DELIVERY_LIMITS[adapter.platform] };
  }

  async deliver(
    target: DeliveryTarget,
    request: Omit<InboundRequest, 'now'>,
  ): Promise<WebhookAnswer> {
    const { platform, shopId, adapter, credentials } = target;
    const inbound: InboundRequest = { ...request, now: this.deps.clock.now() };
    // A signed query is used up by its first body even when that delivery is then refused (a
    // WeChat safe-mode push to a shop that keeps no key): else a query copied from a log could
    // carry a forged body later. The fingerprint is only given for a query the shop's own
    // token signed, so nothing unsigned reaches Redis before verification.
    const replay = adapter.replayFingerprint?.(inbound, credentials);
    if (replay) {
      const same = await guard(
        SAME_BODY_SCRIPT.run(
          this.deps.redis,
          [this.deps.keys.signedQuery(shopId, replay.signedQuery)],
          [replay.body, String(replay.ttlSeconds)],
        ),
      );
      if (same !== 1)
        throw new AppError(
          401,
          'invalid_signature',
          'This signed query was already used with another body (replay).',
        );
    }
    adapter.verify(inbound, credentials);
    const parsed = adapter.parse(inbound, credentials);
    const { maxEvents } = target.limits;
    if (parsed.events.length > maxEvents) {
      throw new AppError(
        413,
        'too_many_events',
        `A ${platform} delivery may carry at most ${maxEvents} events; this one has ${parsed.events.length}.`,
        { details: { maxEvents, events: parsed.events.length } },
      );
    }

    const { queued, duplicates } = await this.enqueue(
      adapter.platform,
      shopId,
      parsed.events,
      inbound.now,
    );

    const response = parsed.response;
    return {
      status: response?.status ?? 200,
      contentType: response?.contentType ?? 'application/json',
      body:
        response?.body ??
        JSON.stringify({
          ok: true,
          queued,
          duplicates,
        }),
      queued,
      duplicates,
      unknownKinds: parsed.unknownKinds ?? [],
      refusedEvents: parsed.refusedEvents ?? [],
    };
  }

  /**
   * Rate-limits, drops redeliveries (the dedupe key, or the still-queued job
   * with the same id) and queues every new event durably. Webhooks come here
   * after verification; the storefront widget after its session check.
   */
  async enqueue(
    platform: PlatformName,
    shopId: string,
    events: NormalizedEvent[],
    receivedAt: number,
  ): Promise<{ queued: number; duplicates: number }> {
    const { keys, queues } = this.deps;
    checkIdentifiers(events);
    // Events of one delivery that share a dedupe id are one event: the first stands for the rest.
    const ids = new Set<string>();
    const unique = events.filter((event) => !ids.has(event.eventId) && ids.add(event.eventId));
    // The request that creates a job is named in it: the worker tells a late copy by it.
    const ingestId = randomUUID();
    const delivery: BatchDelivery = {
      rateKey: keys.webhookRate(shopId),
      weight: Math.max(1, events.length),
      ingestId,
      events: unique.map((event) => ({
        seenKey: deliveryKey(keys, shopId, platform, event.eventId),
        name: event.kind,
        data: { platform, shopId, event, receivedAt, ingestId },
        jobId: jobIds.inbound(platform, shopId, event.eventId),
      })),
    };
    // The shop's partition: its events (and so each conversation's) always go through one queue.
    const inbound = queues.inbound.of(shopId);
    const { before, ttlMs, outcomes } = await guard(
      this.batches ? this.batches.submit(inbound, delivery) : this.inTwoTrips(inbound, delivery),
    );
    if (before >= this.deps.ratePerMinute) {
      const retryAfter = String(Math.max(1, Math.ceil(ttlMs / 1000)));
      throw new AppError(
        429,
        'rate_limited',
        `More than ${this.deps.ratePerMinute} webhook events this minute for this shop.`,
        {
          headers: { 'Retry-After': retryAfter },
          details: { retryAfterSeconds: Number(retryAfter) },
        },
      );
    }
    const queued = outcomes.filter((outcome) => outcome === 1).length;
    return { queued, duplicates: events.length - queued };
  }

  /**
   * Ingest on a Cluster, where the shop's keys and the queue live in different
   * slots: the rate limit and dedupe check, then the adds of the new events
   * and the check of which this request created, each one round trip.
   */
  private async inTwoTrips(
    queue: Queue<InboundJobData>,
    delivery: BatchDelivery,
  ): Promise<BatchVerdict> {
    const [before, ttlMs, ...seen] = await RATE_AND_SEEN_SCRIPT.run(
      this.deps.redis,
      [delivery.rateKey, ...delivery.events.map((event) => event.seenKey)],
      ['60000', String(delivery.weight), String(this.deps.ratePerMinute)],
    );
    if (before! >= this.deps.ratePerMinute) return { before: before!, ttlMs: ttlMs!, outcomes: [] };
    const fresh = delivery.events
      .map((event, i) => ({ event, rank: before! + i + 1 }))
      .filter((_, i) => seen[i] === 0);
    const outcomes = delivery.events.map(() => 0);
    if (fresh.length > 0) {
      const jobs = fresh.map(({ event, rank }) => ({
        name: event.name,
        data: event.data,
        opts: { jobId: event.jobId, ...this.fairness(rank) },
      }));
      const created = await addAndCheck(this.deps.redis, queue, jobs, jobs[0]!.data.ingestId!);
      let next = 0;
      seen.forEach((flag, i) => {
        if (flag === 0) outcomes[i] = created[next++] === 1 ? 1 : 2;
      });
    }
    return { before: before!, ttlMs: ttlMs!, outcomes };
  }

  /** The shop's `rank`-th event this minute: within its share it is plain FIFO, past it one tier lower per share. */
  private fairness(rank: number): { priority?: number } {
    const share = this.deps.fairSharePerMinute;
    if (rank <= share) return {};
    return { priority: Math.min(MAX_PRIORITY, Math.ceil((rank - share) / share)) };
  }

  async handshake(
    platform: string,
    shopId: string,
    request: Omit<InboundRequest, 'now' | 'rawBody'>,
  ) {
    const { adapter, credentials } = await this.resolve(platform, shopId);
    if (!adapter.handshake)
      throw new AppError(405, 'no_handshake', `The ${platform} platform has no GET handshake.`);
    return adapter.handshake(
      { ...request, rawBody: Buffer.alloc(0), now: this.deps.clock.now() },
      credentials,
    );
  }

  private async resolve(platform: string, shopId: string) {
    if (!this.deps.platforms.has(platform)) throw noShopHere(platform);
    const loaded = await guard(this.deps.shops.getWithCredentials(shopId));
    // A shop on another platform looks exactly like a missing one.
    if (!loaded || loaded.shop.platform !== platform) throw noShopHere(platform);
    return {
      adapter: this.deps.platforms.get(platform),
      credentials: loaded.credentials,
      shop: loaded.shop,
    };
  }
}

/** One answer for an unknown shop and a shop on another platform, naming what the URL must match. */
function noShopHere(platform: string): AppError {
  return new AppError(
    404,
    'not_found',
    `No shop with this id receives ${platform} webhooks; check the URL shown as the shop's webhookUrl.`,
  );
}

/** Any Redis failure on the ingest path becomes a 503 so the platform retries. */
async function guard<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw unavailable(
      'The queue store is unavailable; the event was not accepted, retry shortly.',
      error,
    );
  }
}
