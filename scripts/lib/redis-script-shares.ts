// Which Lua scripts Redis spends its time in: `INFO commandstats` counts every script call as
// one `evalsha`, so the benchmarks read SLOWLOG instead, logging every command for the length
// of a step (`slowlog-log-slower-than 0`), and name each EVALSHA by its script: ours from the
// service's registry, BullMQ's from its own script table. The log holds the step's last
// `SLOWLOG_ENTRIES` commands (a sample of its end), and logging costs Redis time of its own
// (each entry copies up to 32 arguments), so durations read high: compare shares, not µs.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';

export const SLOWLOG_ENTRIES = 50_000;

async function scriptNames(): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const bullmq = createRequire(import.meta.url)('bullmq/dist/cjs/scripts/index.js') as Record<
    string,
    { content: string }
  >;
  for (const [name, script] of Object.entries(bullmq))
    names.set(createHash('sha1').update(script.content).digest('hex'), `bullmq:${name}`);
  // Every module that declares a script is loaded with the container, so the registry is
  // complete; loaded only when asked, so a benchmark without --script-shares does not.
  await import('../../src/app/container');
  const { declaredScripts } = await import('../../src/shared/redis-scripts');
  for (const script of declaredScripts()) names.set(script.sha, script.name);
  return names;
}

/** Each server's own slowlog settings, put back when a step's log has been read. */
const settings = new WeakMap<Redis, string[]>();

/** Starts logging every command on these servers, from an empty log. */
export async function startScriptShares(servers: readonly Redis[]): Promise<void> {
  for (const redis of servers) {
    if (!settings.has(redis))
      settings.set(redis, (await redis.config('GET', 'slowlog-*')) as string[]);
    await redis.config('SET', 'slowlog-max-len', String(SLOWLOG_ENTRIES));
    await redis.config('SET', 'slowlog-log-slower-than', '0');
    await redis.slowlog('RESET');
  }
}

export interface ScriptShare {
  /** A script's name, or a plain command's (lower case). */
  name: string;
  calls: number;
  /** Its share of the logged commands' time. */
  share: number;
  /** Mean logged duration per call (µs), logging included. */
  meanUs: number;
}

/** Stops logging (back to the server's own settings) and sums the log by script and command. */
export async function readScriptShares(
  servers: readonly Redis[],
): Promise<{ commands: number; shares: ScriptShare[] }> {
  const names = await scriptNames();
  const byName = new Map<string, { calls: number; us: number }>();
  let commands = 0;
  for (const redis of servers) {
    const log = (await redis.call('SLOWLOG', 'GET', String(SLOWLOG_ENTRIES))) as Array<
      [number, number, number, Array<string>]
    >;
    const own = settings.get(redis) ?? [];
    for (let i = 0; i + 1 < own.length; i += 2) await redis.config('SET', own[i]!, own[i + 1]!);
    await redis.slowlog('RESET');
    for (const [, , us, args] of log) {
      const command = String(args[0]).toLowerCase();
      // The log's own reads and resets are the benchmark's, not the service's.
      if (command === 'slowlog' || command === 'config') continue;
      const sha = command === 'evalsha' ? String(args[1]).toLowerCase() : '';
      // An `eval` sends a script whole (ioredis, when Redis lacks it); the log keeps only its
      // first 128 bytes, too few to name it, so it stays `eval`.
      const name = sha ? (names.get(sha) ?? `script ${sha.slice(0, 8)}`) : command;
      const entry = byName.get(name) ?? { calls: 0, us: 0 };
      entry.calls += 1;
      entry.us += Number(us);
      byName.set(name, entry);
      commands += 1;
    }
  }
  const total = [...byName.values()].reduce((sum, entry) => sum + entry.us, 0) || 1;
  const shares = [...byName]
    .map(([name, { calls, us }]) => ({ name, calls, share: us / total, meanUs: us / calls }))
    .sort((a, b) => b.share - a.share);
  return { commands, shares };
}

/** One line: the largest shares, then the rest together. */
export function formatScriptShares(
  { commands, shares }: { commands: number; shares: ScriptShare[] },
  top = 8,
): string {
  const shown = shares
    .slice(0, top)
    .map(
      (s) => `${s.name} ${(s.share * 100).toFixed(0)}% (${s.meanUs.toFixed(0)} µs × ${s.calls})`,
    );
  const rest = shares.slice(top).reduce((sum, s) => sum + s.share, 0);
  return `${shown.join(', ')}${rest > 0 ? `, the rest ${(rest * 100).toFixed(0)}%` : ''} (the step's last ${commands} commands)`;
}
