import {
  type ChainableCommander,
  Cluster,
  type ClusterOptions,
  Redis,
  type RedisOptions,
} from 'ioredis';
import { prepareScripts } from './redis-scripts';
import { tickWrites } from './tick-writes';

export { RedisKeys } from './redis-keys';

/** A connection to the service's data: one Redis, or a Redis Cluster. Every store takes this. */
export type RedisConnection = Redis | Cluster;

/** Where the data lives, as the config gives it: a Redis URL, or a Cluster's seed nodes. */
export interface RedisTarget {
  REDIS_URL?: string;
  REDIS_CLUSTER_NODES?: ReadonlyArray<{ host: string; port: number }>;
}

/** What a caller may add to a connection's options, the same for one Redis and a Cluster. */
export interface ConnectionExtras {
  connectionName?: string;
  /**
   * The commands of one turn of the event loop leave in one socket write: on one Redis without
   * waiting for the batch before (tick-writes.ts), on a Cluster by ioredis's auto-pipelining.
   */
  batchWrites?: boolean;
}

export function isCluster(target: RedisTarget): boolean {
  return target.REDIS_CLUSTER_NODES !== undefined;
}

/**
 * Opens one connection of a kind. On a Cluster the per-node options go to
 * every node's connection and reconnection is the Cluster's own
 * (`clusterRetryStrategy`); offline queueing and auto-pipelining are
 * Cluster-wide settings.
 */
function open(
  target: RedisTarget,
  node: RedisOptions,
  cluster: ClusterOptions,
  extras: ConnectionExtras,
): RedisConnection {
  const { retryStrategy, enableOfflineQueue, enableReadyCheck, ...perNode } = node;
  if (target.REDIS_CLUSTER_NODES)
    return prepareScripts(
      new Cluster([...target.REDIS_CLUSTER_NODES], {
        clusterRetryStrategy: retryStrategy ?? undefined,
        enableOfflineQueue,
        enableReadyCheck,
        enableAutoPipelining: extras.batchWrites,
        ...cluster,
        redisOptions: { ...perNode, connectionName: extras.connectionName },
      }),
    );
  if (!target.REDIS_URL) throw new Error('REDIS_URL or REDIS_CLUSTER_NODES is required');
  const { batchWrites, ...options } = extras;
  const redis = new Redis(target.REDIS_URL, { ...node, ...options });
  return prepareScripts(batchWrites ? tickWrites(redis) : redis);
}

/**
 * Two kinds of connection, as BullMQ documents: producers (HTTP) fail fast so
 * a request can answer 503 instead of hanging; workers wait for Redis forever
 * (`maxRetriesPerRequest: null`) so a blip never fails a job.
 */
export function producerConnection(
  target: RedisTarget,
  extras: ConnectionExtras = {},
): RedisConnection {
  return open(
    target,
    {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 2000,
      // Reconnect quickly after an outage so /readyz recovers without a restart.
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      lazyConnect: false,
    },
    // A moved slot (resharding, failover) is followed at once rather than after the default 100 ms.
    { retryDelayOnMoved: 0 },
    // Concurrent requests share one write to Redis instead of one each.
    { batchWrites: true, ...extras },
  );
}

export function workerConnection(
  target: RedisTarget,
  extras: ConnectionExtras = {},
): RedisConnection {
  return open(
    target,
    {
      maxRetriesPerRequest: null,
      enableReadyCheck: false,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    },
    {},
    extras,
  );
}

/**
 * Writes over keys of several hash slots (a record, its token, the indexes
 * that list it), as ordered steps: each step is one MULTI over one slot's
 * keys (a Cluster refuses a MULTI that spans slots), run after the one before
 * succeeded. Callers order the steps so that stopping between two leaves no
 * dangling reference (create the record before what points to it; remove
 * what points to it before the record), and make each step idempotent, so
 * repeating the whole call finishes the work. On one Redis the same steps run.
 */
export async function inSteps(
  redis: RedisConnection,
  steps: ReadonlyArray<(tx: ChainableCommander) => unknown>,
): Promise<void> {
  for (const step of steps) {
    const tx = redis.multi();
    const queued = tx.length;
    step(tx);
    // A step with nothing to write (an optional key) costs no round trip.
    if (tx.length === queued) continue;
    const results = await tx.exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0];
  }
}

/**
 * Every key matching `pattern` (SCAN), on every master of a Cluster (SCAN
 * walks one node) or on the one Redis. For rare, operator-paced lookups only.
 */
export async function scanKeys(redis: RedisConnection, pattern: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
  }
  return found;
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
 * managed Redis): then nothing can be said. On a Cluster every master is
 * asked (each holds part of the data), and a warning names its node.
 */
export async function redisDurabilityWarnings(redis: RedisConnection): Promise<string[]> {
  if (!(redis instanceof Cluster)) return nodeDurabilityWarnings(redis);
  const perNode = await Promise.all(
    redis
      .nodes('master')
      .map(async (node) =>
        (await nodeDurabilityWarnings(node)).map(
          (warning) => `${warning} (node ${node.options.host}:${node.options.port})`,
        ),
      ),
  );
  return perNode.flat();
}

async function nodeDurabilityWarnings(redis: Redis): Promise<string[]> {
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
