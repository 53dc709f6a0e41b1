import type { RedisConnection, RedisKeys } from '../shared/redis';

/** A redelivered event is recognised for at least this long, whatever BullMQ retains. */
export const DEDUPE_TTL_SECONDS = 72 * 3600;

/**
 * The per-event dedupe key. Ingest reads it; the inbound worker writes it
 * when it takes the job. Until then the queued job itself (same job id)
 * absorbs duplicates, so the key exists only for events that were enqueued,
 * and the webhook's hot path spends no round trip on it.
 */
export function deliveryKey(
  keys: RedisKeys,
  shopId: string,
  platform: string,
  eventId: string,
): string {
  return keys.delivery(shopId, platform, eventId);
}

export async function markDelivered(
  redis: RedisConnection,
  keys: RedisKeys,
  shopId: string,
  platform: string,
  eventId: string,
): Promise<void> {
  await redis.set(deliveryKey(keys, shopId, platform, eventId), '1', 'EX', DEDUPE_TTL_SECONDS);
}
