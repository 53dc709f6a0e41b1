import type { RedisConnection, RedisKeys } from '../shared/redis';

/** A redelivered event is recognised for at least this long, whatever BullMQ retains. */
export const DEDUPE_TTL_SECONDS = 72 * 3600;

/**
 * The per-event dedupe key. On one Redis, ingest writes it in the same script
 * that queues the job (ingest-batch.ts). On a Cluster the key and the queue
 * live in different slots, so ingest only reads it and the inbound worker
 * writes it when it takes the job; until then the queued job itself (same job
 * id) absorbs duplicates. Either way the key exists only for events that were
 * enqueued.
 */
export function deliveryKey(
  keys: RedisKeys,
  shopId: string,
  platform: string,
  eventId: string,
): string {
  return keys.delivery(shopId, platform, eventId);
}

/** What a worker taking an inbound job learns from the event's dedupe key. */
export type DeliveryClaim = 'first' | 'retry' | 'duplicate';

/**
 * Marks the event delivered, in the name of the job that created it (`token`:
 * the ingest request's id, the same on every retry of that job). Completed
 * inbound jobs are removed at once, so a redelivery whose dedupe check ran
 * just before the first job was taken can add a second job with the same id
 * after the first is gone: that job finds another job's token here and is a
 * `duplicate`, to be dropped. Marks without a token (written before tokens
 * existed) never make a job a duplicate.
 */
export async function claimDelivery(
  redis: RedisConnection,
  keys: RedisKeys,
  shopId: string,
  platform: string,
  eventId: string,
  token: string,
): Promise<DeliveryClaim> {
  const key = deliveryKey(keys, shopId, platform, eventId);
  // SET … NX GET (Redis ≥ 7.0): one round trip sets the mark if absent and tells who set it.
  const previous = (await redis.call(
    'SET',
    key,
    token,
    'EX',
    String(DEDUPE_TTL_SECONDS),
    'NX',
    'GET',
  )) as string | null;
  if (previous === null) return 'first';
  return previous === token || previous === LEGACY_MARK ? 'retry' : 'duplicate';
}

/** The value marks had before they named their job. */
const LEGACY_MARK = '1';
