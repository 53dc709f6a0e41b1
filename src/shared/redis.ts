import { Redis, type RedisOptions } from 'ioredis';
import { prepareScripts } from './redis-scripts';

export { RedisKeys } from './redis-keys';

/**
 * Two kinds of connection, as BullMQ documents: producers (HTTP) fail fast so
 * a request can answer 503 instead of hanging; workers wait for Redis forever
 * (`maxRetriesPerRequest: null`) so a blip never fails a job.
 */
export function producerConnection(url: string, extra: RedisOptions = {}): Redis {
  return prepareScripts(
    new Redis(url, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 2000,
      // Reconnect quickly after an outage so /readyz recovers without a restart.
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      lazyConnect: false,
      // Concurrent requests share one write to Redis instead of one each.
      enableAutoPipelining: true,
      ...extra,
    }),
  );
}

export function workerConnection(url: string, extra: RedisOptions = {}): Redis {
  return prepareScripts(
    new Redis(url, {
      maxRetriesPerRequest: null,
      enableReadyCheck: false,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      ...extra,
    }),
  );
}

/** Redis is away, full or starting: the request can be retried, so it is a 503, not a 500. */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  if (error.name === 'ReplyError')
    return /^(OOM|LOADING|READONLY|MASTERDOWN|BUSY|CLUSTERDOWN|TRYAGAIN)\b/.test(error.message);
  return /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT/.test(
    error.message,
  );
}

/**
 * What could lose acknowledged data on this Redis: no persistence (neither
 * AOF nor RDB snapshots), or an eviction policy that may drop keys under
 * memory pressure. Empty when it is safe, or when CONFIG is not allowed (a
 * managed Redis): then nothing can be said.
 */
export async function redisDurabilityWarnings(redis: Redis): Promise<string[]> {
  let config: string[];
  try {
    config = (await redis.call('CONFIG', 'GET', '*')) as string[];
  } catch {
    return [];
  }
  const value = (name: string) => {
    const at = config.indexOf(name);
    return at >= 0 && at % 2 === 0 ? config[at + 1] : undefined;
  };
  const warnings: string[] = [];
  const aof = value('appendonly') === 'yes';
  const rdb = (value('save') ?? '').trim() !== '';
  if (!aof && !rdb)
    warnings.push(
      'redis_not_persistent: neither appendonly nor save is on; a restart loses queued events',
    );
  const policy = value('maxmemory-policy');
  if (policy && policy !== 'noeviction')
    warnings.push(`redis_may_evict: maxmemory-policy is ${policy}; set noeviction`);
  return warnings;
}
