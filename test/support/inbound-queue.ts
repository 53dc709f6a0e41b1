import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type InboundJobData, inboundEvents } from '../../src/pipeline/queues';

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
