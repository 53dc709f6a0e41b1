import { createHash } from 'node:crypto';
import { type ChainableCommander, Cluster } from 'ioredis';
import type { RedisConnection } from './redis';

type ScriptArg = string | number;

const registry: RedisScript[] = [];
/** How many of the registry's scripts each connection has defined. */
const prepared = new WeakMap<object, number>();

/**
 * A Lua script known by name. Every script in the service is declared with
 * `defineScript` at module load and registered with `defineCommand` on each
 * connection, so Redis receives EVALSHA and the script's SHA, never its text,
 * after the first call. Keys always travel in KEYS, so Redis (and a Cluster)
 * knows which slots a call touches.
 */
export class RedisScript<Result = unknown> {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  /** Runs the script: EVALSHA, falling back to EVAL once if Redis lost its script cache. */
  run(
    redis: RedisConnection,
    keys: readonly string[],
    args: readonly ScriptArg[] = [],
  ): Promise<Result> {
    if (redis instanceof Cluster) return this.runOnCluster(redis, keys, args);
    prepareScripts(redis);
    const command = (redis as unknown as Record<string, (...a: ScriptArg[]) => Promise<Result>>)[
      this.name
    ]!;
    return command.call(redis, keys.length, ...keys, ...args);
  }

  /**
   * On a Cluster, a plain EVALSHA: ioredis's auto-pipelining routes it by its
   * first key (a named script command would be routed by its key count, see
   * `prepareScripts`), so script calls batch with the other commands for
   * their node. A node without the script (new, restarted, failed over) gets
   * it by SCRIPT LOAD on every master, then the call is made once more.
   */
  private async runOnCluster(
    cluster: Cluster,
    keys: readonly string[],
    args: readonly ScriptArg[],
  ): Promise<Result> {
    try {
      return (await cluster.evalsha(this.sha, keys.length, ...keys, ...args)) as Result;
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      await Promise.all(cluster.nodes('master').map((node) => node.script('LOAD', this.lua)));
      return (await cluster.evalsha(this.sha, keys.length, ...keys, ...args)) as Result;
    }
  }

  /** Queues the script in a MULTI or pipeline made from a prepared connection (see `prepareScripts`). */
  queue(
    tx: ChainableCommander,
    keys: readonly string[],
    args: readonly ScriptArg[] = [],
  ): ChainableCommander {
    const command = (tx as unknown as Record<string, (...a: ScriptArg[]) => ChainableCommander>)[
      this.name
    ];
    if (!command) throw new Error(`script ${this.name}: prepareScripts() before multi()`);
    return command.call(tx, keys.length, ...keys, ...args);
  }
}

/** Declares a script; names are unique across the service. */
export function defineScript<Result = unknown>(name: string, lua: string): RedisScript<Result> {
  if (registry.some((script) => script.name === name))
    throw new Error(`script ${name} is defined twice`);
  const script = new RedisScript<Result>(name, lua);
  registry.push(script as RedisScript);
  return script;
}

/**
 * Registers every declared script on the connection (once). Pipelines and
 * MULTIs copy the commands of their connection when created, so call this
 * before `multi()` when queueing a script.
 */
export function prepareScripts<R extends RedisConnection>(redis: R): R {
  if (prepared.get(redis) === registry.length) return redis;
  for (const script of registry)
    if (!(script.name in redis)) redis.defineCommand(script.name, { lua: script.lua });
  // ioredis's Cluster auto-pipelining groups a named script call by its first argument (the
  // key count), not its first key, and so may batch it with another node's commands: named
  // script calls on a Cluster are sent on their own (`run` uses EVALSHA there instead).
  if ('isCluster' in redis && redis.isCluster) {
    const ignored = (redis.options.autoPipeliningIgnoredCommands ??= []);
    for (const script of registry) if (!ignored.includes(script.name)) ignored.push(script.name);
  }
  prepared.set(redis, registry.length);
  return redis;
}

/** Every declared script, for a test that checks none builds key names inside Lua. */
export function declaredScripts(): readonly RedisScript[] {
  return registry;
}
