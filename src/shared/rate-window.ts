import { AppError } from './errors';
import type { RedisConnection } from './redis';

/**
 * A fixed-window counter in one round trip: counts this hit under `key` and
 * refuses with 429 and Retry-After past `limit` hits per `windowMs`.
 */
export async function takeFromWindow(
  redis: RedisConnection,
  key: string,
  limit: number,
  windowMs: number,
  message: string,
): Promise<void> {
  const results = await redis.multi().incr(key).pexpire(key, windowMs, 'NX').pttl(key).exec();
  const count = Number(results?.[0]?.[1] ?? 0);
  if (count <= limit) return;
  const ttlMs = Number(results?.[2]?.[1] ?? windowMs);
  const retryAfter = Math.max(1, Math.ceil(ttlMs / 1000));
  throw new AppError(429, 'rate_limited', message, {
    headers: { 'Retry-After': String(retryAfter) },
    details: { retryAfterSeconds: retryAfter },
  });
}
