import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  type InboundJob,
  type InboundJobData,
  inboundEvents,
  jobIds,
} from '../../src/pipeline/queues';

/** One event as the inbound queue holds it: in a job of its own, or in a batch job. */
export interface QueuedEvent {
  jobId: string;
  jobName: string;
  eventId: string;
  kind: string;
}

/**
 * The events in an inbound queue's wait list, oldest first, read from the
 * stored jobs (a batch job's events in the order it carries them).
 */
export async function waitingEvents(redis: Redis, queue: Queue): Promise<QueuedEvent[]> {
  const ids = (await redis.lrange(queue.toKey('wait'), 0, -1)).reverse();
  return eventsOfJobs(redis, queue, ids);
}

/** The events the given jobs of an inbound queue carry (jobs no longer stored are skipped). */
export async function eventsOfJobs(
  redis: Redis,
  queue: Queue,
  jobIds: readonly string[],
): Promise<QueuedEvent[]> {
  const out: QueuedEvent[] = [];
  for (const jobId of jobIds) {
    const [name, data] = await redis.hmget(queue.toKey(jobId), 'name', 'data');
    if (!name || !data) continue;
    const job = { name, data: JSON.parse(data) as InboundJobData };
    for (const { event } of inboundEvents(job))
      out.push({ jobId, jobName: name, eventId: event.eventId, kind: event.kind });
  }
  return out;
}

/** The events in an inbound queue's prioritized set, in the order BullMQ takes them. */
export async function prioritizedEvents(redis: Redis, queue: Queue): Promise<QueuedEvent[]> {
  return eventsOfJobs(redis, queue, await redis.zrange(queue.toKey('prioritized'), 0, -1));
}

/**
 * The job that carries an event, its own or a batch job, with the job's priority; undefined
 * when no stored job carries it.
 */
export async function jobOfEvent(
  redis: Redis,
  queue: Queue,
  shopId: string,
  eventId: string,
): Promise<{ id: string; name: string; priority: number } | undefined> {
  const own = jobIds.inbound('generic', shopId, eventId);
  const [name, priority] = await redis.hmget(queue.toKey(own), 'name', 'priority');
  if (name) return { id: own, name, priority: Number(priority ?? 0) };
  // One Redis only (batch jobs are not made on a Cluster, where KEYS sees one node).
  const batches = (await redis.keys(queue.toKey(jobIds.inboundBatch('*')))).map((key) =>
    key.slice(queue.toKey('').length),
  );
  for (const id of batches) {
    const [name, data, priority] = await redis.hmget(queue.toKey(id), 'name', 'data', 'priority');
    if (!name || !data) continue;
    const events = inboundEvents({ name, data: JSON.parse(data) as InboundJobData });
    if (events.some(({ event }) => event.eventId === eventId))
      return { id, name, priority: Number(priority ?? 0) };
  }
  return undefined;
}

/** A buyer message as a platform's adapter hands it to ingest, with ids of its own. */
export function buyerEvent(id: string, sentAt = new Date().toISOString()) {
  return {
    kind: 'message' as const,
    eventId: id,
    messageId: id,
    buyer: { id: `b-${id}` },
    from: 'buyer' as const,
    text: 'hi',
    sentAt,
  };
}

/** A buyer message as an inbound job carries it: queued, and marked, by request `ingestId`. */
export function inboundEntry(shopId: string, id: string, ingestId: string): InboundJob {
  return {
    platform: 'generic',
    shopId,
    receivedAt: Date.now(),
    ingestId,
    marked: true,
    event: buyerEvent(id),
  };
}
