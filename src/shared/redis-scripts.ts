import { createHash } from 'node:crypto';
import { type ChainableCommander, Cluster } from 'ioredis';
import type { RedisConnection } from './redis';

type ScriptArg = string | number;

const registry: RedisScript[] = [];
/** How many of the registry's scripts each connection has seen (see `prepareScripts`). */
const prepared = new WeakMap<object, number>();

/**
 * A Lua script known by name. Every script in the service is declared with
 * `defineScript` at module load and runs as EVALSHA (its text is sent only
 * when a Redis has not seen it yet). Keys always travel in KEYS, so Redis
 * (and a Cluster) knows which slots a call touches.
 *
 * Scripts are not registered on connections with `defineCommand`, except
 * those queued inside a MULTI (`inTransactions`): ioredis copies every
 * registered command onto each pipeline it creates, and an auto-pipelined
 * connection (a Cluster's) creates one per batch, so 80 registered scripts (ours and
 * BullMQ's) cost about 35 µs per batch, several batches per job.
 */
export class RedisScript<Result = unknown> {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly lua: string,
    /** Queued inside MULTIs (`queue`), so registered on connections by `prepareScripts`. */
    readonly inTransactions = false,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  /**
   * Runs the script: EVALSHA (in the turn's write with the connection's other
   * commands, `batchWrites`). A Redis without the script (new, restarted, flushed) gets it
   * by SCRIPT LOAD (on every master of a Cluster), then the call is made once more.
   */
  async run(
    redis: RedisConnection,
    keys: readonly string[],
    args: readonly ScriptArg[] = [],
  ): Promise<Result> {
    try {
      return (await redis.evalsha(this.sha, keys.length, ...keys, ...args)) as Result;
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      const masters = redis instanceof Cluster ? redis.nodes('master') : [redis];
      await Promise.all(masters.map((node) => node.script('LOAD', this.lua)));
      return (await redis.evalsha(this.sha, keys.length, ...keys, ...args)) as Result;
    }
  }

  /** Queues the script in a MULTI made from a prepared connection (see `prepareScripts`). */
  queue(
    tx: ChainableCommander,
    keys: readonly string[],
    args: readonly ScriptArg[] = [],
  ): ChainableCommander {
    const command = (tx as unknown as Record<string, (...a: ScriptArg[]) => ChainableCommander>)[
      this.name
    ];
    if (!command)
      throw new Error(
        `script ${this.name}: declare it with { inTransactions: true } and prepareScripts() before multi()`,
      );
    return command.call(tx, keys.length, ...keys, ...args);
  }
}

/** Declares a script; names are unique across the service. */
export function defineScript<Result = unknown>(
  name: string,
  lua: string,
  options: { inTransactions?: boolean } = {},
): RedisScript<Result> {
  if (registry.some((script) => script.name === name))
    throw new Error(`script ${name} is defined twice`);
  const script = new RedisScript<Result>(name, lua, options.inTransactions ?? false);
  registry.push(script as RedisScript);
  return script;
}

/**
 * Registers the scripts queued in MULTIs on the connection (once). A MULTI
 * copies the commands of its connection when created, so call this before
 * `multi()`; a registered command sends the script's text the first time
 * on a socket, so a MULTI never meets NOSCRIPT.
 */
export function prepareScripts<R extends RedisConnection>(redis: R): R {
  if (prepared.get(redis) === registry.length) return redis;
  const transactional = registry.filter((script) => script.inTransactions);
  for (const script of transactional)
    if (!(script.name in redis)) redis.defineCommand(script.name, { lua: script.lua });
  // ioredis's Cluster auto-pipelining groups a named script call by its first argument (the
  // key count), not its first key, and so may batch it with another node's commands: named
  // script calls on a Cluster are sent on their own.
  if ('isCluster' in redis && redis.isCluster) {
    const ignored = (redis.options.autoPipeliningIgnoredCommands ??= []);
    for (const script of transactional)
      if (!ignored.includes(script.name)) ignored.push(script.name);
  }
  prepared.set(redis, registry.length);
  return redis;
}

/** Every declared script, for a test that checks none builds key names inside Lua. */
export function declaredScripts(): readonly RedisScript[] {
  return registry;
}
