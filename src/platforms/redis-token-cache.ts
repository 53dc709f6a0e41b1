import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../shared/redis';
import { defineScript } from '../shared/redis-scripts';
import type { PlatformHttp } from './contract';

export interface RedisTokenCacheOptions {
  /** How long a refresh may hold the lock before another worker may take over. Default 10 s. */
  lockTtlMs?: number;
  /** How often a waiting worker looks for the refreshed value. Default 50 ms. */
  pollIntervalMs?: number;
  /** How long a waiting worker waits in all before giving up (the send is then retried). Default 15 s. */
  waitTimeoutMs?: number;
}

/** Deletes the lock only if it still holds our token, so a late finisher never frees someone else's lock. */
const RELEASE_SCRIPT = defineScript<number>(
  'tokenLockRelease',
  `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`,
);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A cross-worker cache for platform access tokens (WeChat's is shared by
 * every caller of one Official Account, and fetching a new one retires the
 * old). Keys are `prefix + key`, locks `prefix + 'lock:' + key`, so `prefix`
 * should end with its separator (e.g. `seatmate:{tokens}:`).
 *
 * `withLock` runs the fetcher in one worker only. Workers that find the lock
 * taken wait for the value the holder stores under `key` and return it, so
 * the fetcher must cache its result under that same key (as WeChat's does);
 * if the holder fails without storing anything, a waiter takes the lock and
 * fetches itself.
 */
export function createRedisTokenCache(
  redis: RedisConnection,
  prefix: string,
  { lockTtlMs = 10_000, pollIntervalMs = 50, waitTimeoutMs = 15_000 }: RedisTokenCacheOptions = {},
): PlatformHttp['tokenCache'] {
  const valueKey = (key: string) => `${prefix}${key}`;
  const lockKey = (key: string) => `${prefix}lock:${key}`;

  return {
    get: (key) => redis.get(valueKey(key)),

    async set(key, value, ttlSeconds) {
      await redis.set(valueKey(key), value, 'EX', Math.max(1, Math.floor(ttlSeconds)));
    },

    async withLock<T>(key: string, fetcher: () => Promise<T>): Promise<T> {
      const token = randomUUID();
      const deadline = Date.now() + waitTimeoutMs;
      // A refresh replaces a value that is already there; waiters must not return the stale one.
      const before = await redis.get(valueKey(key));
      for (;;) {
        const acquired = await redis.set(lockKey(key), token, 'PX', lockTtlMs, 'NX');
        if (acquired === 'OK') {
          try {
            return await fetcher();
          } finally {
            await RELEASE_SCRIPT.run(redis, [lockKey(key)], [token]);
          }
        }
        while (Date.now() < deadline) {
          await sleep(pollIntervalMs);
          const value = await redis.get(valueKey(key));
          if (value !== null && value !== before) return value as T;
          if ((await redis.exists(lockKey(key))) === 0) {
            // The holder is done: it kept the existing value, or failed and we try ourselves.
            if (value !== null) return value as T;
            break;
          }
        }
        if (Date.now() >= deadline) {
          throw new Error(
            `Timed out after ${waitTimeoutMs} ms waiting for another worker to refresh "${key}".`,
          );
        }
      }
    },
  };
}
