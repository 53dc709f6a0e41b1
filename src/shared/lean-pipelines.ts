import { Pipeline, type Redis } from 'ioredis';

/**
 * Makes an auto-pipelined connection's batches cheap to create when many
 * scripts are registered on it. ioredis's Pipeline constructor copies every
 * registered script (and its Buffer twin) onto each new batch as own
 * properties: with BullMQ's 52 scripts that is about 18 µs a batch against
 * 1.7 µs with none, and an auto-pipelined connection makes a batch almost per
 * command at a worker's pace (about 45 µs of worker CPU per buyer message at
 * 1,000 msg/s; docs/architecture.md, "Round nine").
 *
 * Here a batch is made from a view of the connection with no scripts, then
 * given the scripts through one prototype shared by every batch (rebuilt when
 * a script is registered) and the same sha → script map a real batch carries.
 * A script a Redis lacks (NOSCRIPT after a restart) is sent again through the
 * connection by ioredis's Script, as before. Everything else is the real batch.
 * Used on single-Redis connections only (a Cluster's batches are made elsewhere).
 */
export function leanPipelines(redis: Redis): Redis {
  type Scripted = Redis & {
    scriptsSet: Record<string, { sha: string }>;
    addedBuiltinSet: Set<string>;
  };
  const client = redis as Scripted;
  // Rebuilt only after a script or command is added (BullMQ adds its own once, at start).
  let stale = true;
  for (const method of ['defineCommand', 'addBuiltinCommand'] as const) {
    const add = client[method] as (...args: unknown[]) => unknown;
    (client as unknown as Record<string, unknown>)[method] = function (...args: unknown[]) {
      stale = true;
      return add.apply(this, args);
    };
  }
  let proto: object = Pipeline.prototype;
  let shaToScript: Record<string, unknown> = {};
  const refresh = () => {
    if (!stale) return;
    stale = false;
    const names = Object.keys(client.scriptsSet);
    const methods: PropertyDescriptorMap = {};
    const byName = client as unknown as Record<string, unknown>;
    for (const name of [...names, ...client.addedBuiltinSet])
      for (const key of [name, `${name}Buffer`])
        methods[key] = { value: byName[key], writable: true, configurable: true };
    proto = Object.create(Pipeline.prototype, methods);
    shaToScript = Object.fromEntries(
      names.map((name) => [client.scriptsSet[name]!.sha, client.scriptsSet[name]]),
    );
  };
  const plain = Object.create(client, {
    scriptsSet: { value: {} },
    addedBuiltinSet: { value: new Set<string>() },
  }) as Redis;
  client.pipeline = function pipeline(commands?: unknown[][]) {
    refresh();
    const batch = new Pipeline(plain) as unknown as Record<string, unknown>;
    batch.redis = client;
    batch._shaToScript = shaToScript;
    Object.setPrototypeOf(batch, proto);
    if (Array.isArray(commands)) (batch as unknown as Pipeline).addBatch(commands);
    return batch as unknown as ReturnType<Redis['pipeline']>;
  };
  return redis;
}
