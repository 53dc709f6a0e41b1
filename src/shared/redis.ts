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
