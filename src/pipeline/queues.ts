import { hash } from 'node:crypto';
import {
  type ConnectionOptions,
  type Job,
  type JobsOptions,
  type JobType,
  Queue,
  type QueueOptions,
} from 'bullmq';
import { conversationId } from '../conversations/conversation-store';
import type { NormalizedEvent, PlatformName } from '../platforms/contract';
import type { Clock } from '../shared/clock';
import { withTimeout } from '../shared/time-limit';
import type { DueTimers } from './due-timers';

/**
 * The job topology in one place: every queue, the data its jobs carry, how
 * job ids are made, and the default options of each (with the reason).
 * Workers are started from one table (see workers.ts) keyed by these names.
 */
export const QUEUE_NAMES = ['inbound', 'outbound', 'alerts', 'idle', 'billing'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** A webhook event, queued once acknowledged. */
export interface InboundJob {
  platform: PlatformName;
  shopId: string;
  event: NormalizedEvent;
  /** When the webhook was acknowledged (ms), for queue latency. */
  receivedAt: number;
  /** The request that created the job: tells ingest whether its add made it or found it there. */
  ingestId?: string;
  /**
   * The event's dedupe key was written with the job, in the job's name (one
   * Redis, see ingest-batch.ts): the worker has no mark to write. Jobs without
   * it (a Cluster's two-trip ingest, older jobs) mark the event when taken.
   */
  marked?: true;
}

/**
 * Several webhook events queued by one ingest call as one job: the events of
 * the deliveries gathered into that call that share a priority (within their
 * shops' fair share, or one tier past it). BullMQ's work per job (taking it, finishing it,
 * its lock) is about as much Redis time as all of Seatmate's work for one
 * message, so at a steady load, when a call gathers several deliveries, one
 * job for all of them divides that cost (docs/architecture.md, "Round
 * sixteen"). The worker processes the events as their own jobs would be, and
 * an event that fails is queued again as its own job (`jobIds.inbound`), so
 * retries, the failed-jobs view and an operator's retry stay per event.
 */
export interface InboundBatchJob {
  events: InboundJob[];
  /** Ids of the events an attempt that failed had finished: its retry skips them. */
  done?: string[];
}

/** The name of an inbound job that carries several events (InboundBatchJob). */
export const INBOUND_BATCH = 'batch';

/** What an inbound job carries: one event, or an ingest call's events (by the job's name). */
export type InboundJobData = InboundJob | InboundBatchJob;

/** The events a job of the inbound queue carries, whichever kind it is. */
export function inboundEvents(job: { name: string; data: InboundJobData }): InboundJob[] {
  if (job.name !== INBOUND_BATCH) return [job.data as InboundJob];
  // A batch stored by something else (an operator's hand, a future version) may not hold a list.
  const { events } = job.data as Partial<InboundBatchJob>;
  return Array.isArray(events) ? events : [];
}

/** The events of a batch job that no attempt has finished yet (see InboundBatchJob.done). */
export function unfinishedEvents(batch: InboundBatchJob): InboundJob[] {
  const done = new Set(batch.done ?? []);
  return batch.events.filter(({ event }) => !done.has(event.eventId));
}

/** An agent's reply to send to the platform. */
export interface OutboundJob {
  shopId: string;
  replyId: string;
}

/** Fires when a buyer has waited past the shop's threshold, unless answered first. */
export interface AlertJob {
  shopId: string;
  buyerId: string;
  waitingSince: number;
}

/** Closes an answered conversation that stayed quiet. */
export interface IdleCloseJob {
  shopId: string;
  buyerId: string;
  /** When the reply that answered the buyer was sent (ms). */
  answeredAt: number;
}

/** Closes a conversation nobody answered once the buyer has been quiet for the close time. */
export interface UnansweredCloseJob {
  shopId: string;
  buyerId: string;
  /** The wait this job closes: a later wait (after an answer) is not its business. */
  waitingSince: number;
  /** The wait began with a request for service (menu click, postback), not a message: `openedAt`. */
  opened?: boolean;
}

export interface MonthCloseJob {
  /** the month to close; absent on scheduled runs until the first attempt fixes it */
  month?: string;
  /** how many times a close that failed for good was queued again for this month */
  rerun?: number;
}

export interface JobData {
  inbound: InboundJobData;
  outbound: OutboundJob;
  alerts: AlertJob;
  /** One home for automatic closes: answered and quiet, or left unanswered. */
  idle: IdleCloseJob | UnansweredCloseJob;
  billing: MonthCloseJob;
}

// BullMQ forbids ':' in custom ids; base64url keeps any platform's ids intact, and a JSON
// array keeps the parts apart whatever they contain (no separator an id could forge).
const idOf = (tag: string, ...parts: Array<string | number>) =>
  `${tag}_${Buffer.from(JSON.stringify(parts)).toString('base64url')}`;

/** Job ids: a concurrent duplicate add is a no-op while the job is retained. */
export const jobIds = {
  /**
   * A digest (132 bits) of the parts, not the parts: a platform's event id can be long,
   * and BullMQ writes an inbound job's id some twenty times per message (its keys, its
   * list moves, its events), every one of them into the append-only file. Node's one-shot
   * `hash`, the same digest as `createHash` without a Hash object per message (0.4 against
   * 1.2 µs).
   */
  inbound: (platform: string, shopId: string, eventId: string) =>
    `in_${hash('sha256', JSON.stringify([platform, shopId, eventId]), 'base64url').slice(0, 22)}`,
  /** The `n`-th batch job of one ingest call, named by the call's first request (a random UUID). */
  inboundBatch: (ingestId: string, n = 0) => (n === 0 ? `ib_${ingestId}` : `ib_${ingestId}-${n}`),
  /** One alert per wait: the conversation and when the wait began. */
  alert: (conversationId: string, waitingSince: number) => idOf('al', conversationId, waitingSince),
  /** One idle close per conversation and answer. */
  idleClose: (conversationId: string, answeredAt: number) => idOf('ic', conversationId, answeredAt),
  /** One unanswered close per wait and due time (a buyer who writes again pushes it back). */
  unansweredClose: (conversationId: string, waitingSince: number, dueAt: number, opened = false) =>
    idOf(opened ? 'uo' : 'uc', conversationId, waitingSince, dueAt),
  /** Bookkeeping of a sent reply, queued again after its retries ran out. */
  replyRecord: (replyId: string, at: number) => `${replyId}-record-${at}`,
  /** A month close an operator started from /admin. */
  monthCloseManual: (month: string, at: number) => `mc_${month}_manual_${at}`,
  /** A month close queued again after it failed for good. */
  monthCloseRerun: (month: string, rerun: number) => `mc_${month}_${rerun}`,
};

/** An inbound job's first backoff step (then doubled per attempt). */
const INBOUND_RETRY_DELAY_MS = 1000;

export interface TopologySettings {
  outboundAttempts: number;
  outboundBackoffMs: number;
}

/** Default job options per queue; every choice says why. */
export function defaultJobOptions(settings: TopologySettings): Record<QueueName, JobsOptions> {
  return {
    inbound: {
      // A Redis blip or a crash mid-job retries for about 2 min (1 s, 2 s, 4 s ... 64 s); every step is idempotent.
      attempts: 8,
      backoff: { type: 'exponential', delay: INBOUND_RETRY_DELAY_MS },
      // A completed job is removed at once: redeliveries are caught by our own dedupe key
      // (written with the job, or on a Cluster when a worker takes it), no copy of the
      // buyer's words stays in the queue, and BullMQ's finish costs one DEL instead of a
      // completed-set entry and its trimming (about 7 Redis commands per message with the
      // clean-up of the data).
      removeOnComplete: true,
      // Failed jobs stay for the operator (GET /v1/ops/failed-jobs) to see and retry.
      removeOnFail: false,
    },
    outbound: {
      // Platforms refuse for a while (rate limits, 5xx): retry with backoff as configured.
      attempts: settings.outboundAttempts,
      backoff: { type: 'exponential', delay: settings.outboundBackoffMs },
      // The reply record holds the outcome; a completed job is only kept a day to absorb a double add.
      removeOnComplete: { age: 86_400 },
      removeOnFail: false,
    },
    alerts: {
      // Publishing an alert is idempotent; a few tries cover a Redis blip.
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      // Kept a day: the job id (conversation + start of the wait) then stops a repeat alert.
      removeOnComplete: { age: 86_400 },
      removeOnFail: { count: 1000 },
    },
    idle: {
      // The close is one atomic script; a few tries cover a Redis blip.
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      // A completed close needs no trace: the conversation's own state says it is closed.
      removeOnComplete: true,
      removeOnFail: { count: 1000 },
    },
    billing: {
      // A close resumes where it stopped (shops done are remembered), so retrying is cheap and safe.
      attempts: 5,
      backoff: { type: 'exponential', delay: 60_000 },
      removeOnComplete: { count: 24 },
      removeOnFail: false,
    },
  };
}

/** Events kept in each queue's event stream: enough for QueueEvents listeners, bounded memory. */
const EVENTS_MAX_LEN = 1000;

/**
 * The name of one queue of the topology: the inbound queue's partition 0 keeps
 * the plain name, so a single-partition deployment's queued jobs stay where they are.
 */
export function queueName(queue: QueueName, partition = 0): string {
  return partition === 0 ? queue : `${queue}-${partition}`;
}

/**
 * The partition of a shop among `count`: a stable hash of its id (FNV-1a), so
 * all of a shop's events, and so each conversation's, go through one queue.
 */
export function partitionOf(shopId: string, count: number): number {
  if (count <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < shopId.length; i++) {
    hash ^= shopId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

/** The inbound queue, split by shop into partitions (INBOUND_PARTITIONS); each is a queue of its own. */
export class InboundPartitions {
  constructor(readonly partitions: readonly Queue<InboundJobData>[]) {}

  /** The partition that carries this shop's events. */
  of(shopId: string): Queue<InboundJobData> {
    return this.partitions[partitionOf(shopId, this.partitions.length)]!;
  }

  /** Job counts by state, summed over the partitions. */
  async getJobCounts(...states: JobType[]): Promise<Record<string, number>> {
    const total: Record<string, number> = {};
    for (const counts of await Promise.all(
      this.partitions.map((queue) => queue.getJobCounts(...states)),
    ))
      for (const [state, value] of Object.entries(counts))
        total[state] = (total[state] ?? 0) + value;
    return total;
  }

  /** A job by id, in whichever partition holds it. */
  async getJob(id: string): Promise<Job<InboundJobData> | undefined> {
    for (const queue of this.partitions) {
      const job = await queue.getJob(id);
      if (job) return job;
    }
    return undefined;
  }
}

/**
 * Queues an event of a batch job again as a job of its own, under its own id
 * (a no-op while a job of that id is there), at the batch's fair-share
 * priority. Without its `marked` flag: its first attempt claims the event's
 * mark, which still names the request that queued it, as a retry does. An
 * event that failed for good (`unrecoverable`) is queued to run at once, into
 * the failed set where the operator sees it; any other after the first
 * backoff step.
 */
export async function requeueInbound(
  inbound: InboundPartitions,
  data: InboundJob,
  unrecoverable: boolean,
  priority = 0,
): Promise<void> {
  const { marked: _marked, ...event } = data;
  await inbound.of(data.shopId).add(data.event.kind, event, {
    jobId: jobIds.inbound(data.platform, data.shopId, data.event.eventId),
    ...(unrecoverable ? {} : { delay: INBOUND_RETRY_DELAY_MS }),
    ...(priority > 0 ? { priority } : {}),
  });
}

/**
 * A batch job that failed for good (its worker died twice while running it,
 * or its failing events could not be queued again for the whole backoff) is
 * split: each event queued again as its own job, so an event that kills its
 * worker fails alone while the others run. The batch then leaves the failed
 * set: its events are queued, or failed, on their own. A job of one event
 * stays as it failed.
 */
export async function splitFailedBatch(
  inbound: InboundPartitions,
  job: Job<InboundJobData>,
): Promise<void> {
  if (job.name !== INBOUND_BATCH) return;
  for (const event of unfinishedEvents(job.data as InboundBatchJob))
    await requeueInbound(inbound, event, false, job.opts.priority ?? 0);
  await job.remove();
}

export type Queues = { [Q in Exclude<QueueName, 'inbound'>]: Queue<JobData[Q]> } & {
  inbound: InboundPartitions;
};

/** Every queue of the topology (each inbound partition on its own), for gauges and operators. */
export function everyQueue(
  queues: Queues,
): Array<{ queue: QueueName; partition: number; handle: Queue }> {
  return QUEUE_NAMES.flatMap(
    (queue): Array<{ queue: QueueName; partition: number; handle: Queue }> =>
      queue === 'inbound'
        ? queues.inbound.partitions.map((handle, partition) => ({ queue, partition, handle }))
        : [{ queue, partition: 0, handle: queues[queue] as Queue }],
  );
}

/**
 * One Queue per name (and per inbound partition), sharing a connection; the
 * API's fails fast, the workers' waits out a blip. `prefixOf` gives each
 * queue's BullMQ prefix (see `RedisKeys.queuePrefix`).
 */
export function createQueues(
  connection: ConnectionOptions,
  prefixOf: (queueName: string) => string,
  settings: TopologySettings,
  inboundPartitions = 1,
): Queues {
  const options = defaultJobOptions(settings);
  const make = <Q extends QueueName>(queue: Q, partition = 0): Queue<JobData[Q]> => {
    const name = queueName(queue, partition);
    const queueOptions: QueueOptions = {
      connection,
      prefix: prefixOf(name),
      defaultJobOptions: options[queue],
      streams: { events: { maxLen: EVENTS_MAX_LEN } },
    };
    return new Queue<JobData[Q]>(name, queueOptions);
  };
  return {
    inbound: new InboundPartitions(
      Array.from({ length: inboundPartitions }, (_, partition) => make('inbound', partition)),
    ),
    outbound: make('outbound'),
    alerts: make('alerts'),
    idle: make('idle'),
    billing: make('billing'),
  };
}

export async function closeQueues(queues: Queues): Promise<void> {
  await closeOnceConnected(everyQueue(queues).map(({ handle }) => handle));
}

/**
 * Closes BullMQ queues or workers once each has finished connecting. BullMQ's
 * close drops its connection's listeners; a start-up check (INFO) still in
 * flight then fails into an 'error' event nobody hears, an unhandled
 * rejection. On a Cluster that check is retried 100 ms after it meets a node
 * connection not yet up, so a process stopped within that window met it. The
 * wait is bounded: a Redis that is down does not hold the shutdown.
 */
export async function closeOnceConnected(
  handles: ReadonlyArray<{ waitUntilReady(): Promise<unknown>; close(): Promise<void> }>,
  waitMs = 2000,
): Promise<void> {
  await Promise.all(
    handles.map((handle) => withTimeout(handle.waitUntilReady(), waitMs).catch(() => undefined)),
  );
  await Promise.all(handles.map((handle) => handle.close()));
}

/** Arms the close of an answered conversation once it has been quiet for `idleMs`; only the latest answer can close it. */
export function idleCloseScheduler(timers: DueTimers, idleMs: number) {
  return async (shopId: string, buyerId: string, answeredAt: number): Promise<void> => {
    await timers.arm(
      'idle',
      {
        name: 'idle-close',
        jobId: jobIds.idleClose(conversationId(shopId, buyerId), answeredAt),
        data: { shopId, buyerId, answeredAt },
      },
      idleMs,
    );
  };
}

/**
 * Arms the close of one unanswered wait at `dueAt` (ms); arming it twice is a
 * no-op. When it fires early (the buyer wrote since), the close re-arms itself.
 */
export function unansweredCloseScheduler(timers: DueTimers, clock: Clock) {
  return async (
    shopId: string,
    buyerId: string,
    waitingSince: number,
    dueAt: number,
    opened = false,
  ) => {
    await timers.arm(
      'idle',
      {
        name: 'unanswered-close',
        jobId: jobIds.unansweredClose(conversationId(shopId, buyerId), waitingSince, dueAt, opened),
        data: { shopId, buyerId, waitingSince, ...(opened ? { opened } : {}) },
      },
      dueAt - clock.now(),
    );
  };
}

/** Arms the slow-reply alert of one wait, due at `dueAt` (ms); arming it twice is a no-op. */
export function slowReplyAlerter(timers: DueTimers, clock: Clock) {
  return async (shopId: string, buyerId: string, waitingSince: number, dueAt: number) => {
    await timers.arm(
      'alerts',
      {
        name: 'slow-reply',
        jobId: jobIds.alert(conversationId(shopId, buyerId), waitingSince),
        data: { shopId, buyerId, waitingSince },
      },
      dueAt - clock.now(),
    );
  };
}
