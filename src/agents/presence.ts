import type { Clock } from '../shared/clock';
import type { RedisConnection, RedisKeys } from '../shared/redis';
import { defineScript } from '../shared/redis-scripts';
import type { PresenceStatus } from './live-events';

export const PRESENCE_STATUSES = ['online', 'away', 'offline'] as const;

// Admits one more event stream for an agent unless it already has `cap` live
// ones. KEYS[1] = the agent's streams (member = stream id, score = last beat),
// KEYS[2] = last-seen index; ARGV = now, stale-before, cap, stream id, agent id.
// Forgets an agent's last sighting only if it is still that old, so a beat
// landing meanwhile keeps them. KEYS[1] = seen index; ARGV = agent, stale-before.
const EXPIRE_SCRIPT = defineScript<number>(
  'presenceExpire',
  `
local seen = redis.call('ZSCORE', KEYS[1], ARGV[1])
if seen and tonumber(seen) <= tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`,
);

const OPEN_STREAM_SCRIPT = defineScript<number>(
  'presenceOpenStream',
  `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], 86400000)
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[5])
return 1
`,
);

/**
 * Whether an agent is there to answer. The agent states `online`, `away` or
 * `offline` (unset counts as online); on top of that an agent is only online
 * or away while seen: an event stream open, or a presence call, within the
 * last `offlineAfterMs`. All keys share one hash tag (Cluster-safe scripts).
 */
export class Presence {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly clock: Clock,
    private readonly offlineAfterMs: number,
  ) {}

  private statedKey(): string {
    return this.keys.presenceStated();
  }

  private seenKey(): string {
    return this.keys.presenceSeen();
  }

  private streamsKey(agentId: string): string {
    return this.keys.presenceStreams(agentId);
  }

  /** Records the agent's chosen status; stating it counts as being seen. */
  async state(agentId: string, status: PresenceStatus): Promise<void> {
    await this.redis
      .multi()
      .hset(this.statedKey(), agentId, status)
      .zadd(this.seenKey(), this.clock.now(), agentId)
      .exec();
  }

  async statusOf(agentId: string): Promise<PresenceStatus> {
    return (await this.statuses([agentId])).get(agentId) ?? 'offline';
  }

  /** Effective statuses: the stated one while seen recently, else offline. */
  async statuses(agentIds: string[]): Promise<Map<string, PresenceStatus>> {
    const out = new Map<string, PresenceStatus>();
    if (agentIds.length === 0) return out;
    const [stated, seen] = await Promise.all([
      this.redis.hmget(this.statedKey(), ...agentIds),
      this.redis.zmscore(this.seenKey(), ...agentIds),
    ]);
    const now = this.clock.now();
    agentIds.forEach((id, i) => {
      const chosen = (stated[i] ?? 'online') as PresenceStatus;
      const at = seen[i] === null || seen[i] === undefined ? null : Number(seen[i]);
      out.set(
        id,
        chosen === 'offline' || at === null || now - at >= this.offlineAfterMs ? 'offline' : chosen,
      );
    });
    return out;
  }

  async online(agentIds: string[]): Promise<string[]> {
    const statuses = await this.statuses(agentIds);
    return agentIds.filter((id) => statuses.get(id) === 'online');
  }

  /** Admits a new event stream unless the agent already has `cap` live ones. */
  async openStream(
    agentId: string,
    streamId: string,
    cap: number,
    staleMs: number,
  ): Promise<boolean> {
    const now = this.clock.now();
    const admitted = await OPEN_STREAM_SCRIPT.run(
      this.redis,
      [this.streamsKey(agentId), this.seenKey()],
      [String(now), String(now - staleMs), String(cap), streamId, agentId],
    );
    return admitted === 1;
  }

  /** The process's open streams are alive: keeps them counted and their agents seen. */
  async beat(streams: Array<{ agentId: string; streamId: string }>): Promise<void> {
    if (streams.length === 0) return;
    const now = this.clock.now();
    const pipeline = this.redis.pipeline();
    for (const { agentId, streamId } of streams) {
      pipeline.zadd(this.streamsKey(agentId), 'XX', now, streamId);
      pipeline.zadd(this.seenKey(), now, agentId);
    }
    await pipeline.exec();
  }

  /** A stream closed: the agent stays online for `offlineAfterMs` from now unless another opens. */
  async closeStream(agentId: string, streamId: string): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.streamsKey(agentId), streamId)
      .zadd(this.seenKey(), this.clock.now(), agentId)
      .exec();
  }

  /**
   * Agents not seen for `offlineAfterMs`: each is returned to exactly one
   * caller (ZREM decides), which hands their waiting buyers over.
   */
  async takeExpired(): Promise<string[]> {
    const before = this.clock.now() - this.offlineAfterMs;
    const stale = await this.redis.zrangebyscore(this.seenKey(), '-inf', before);
    const mine: string[] = [];
    for (const agentId of stale) {
      const taken = await EXPIRE_SCRIPT.run(
        this.redis,
        [this.seenKey()],
        [agentId, String(before)],
      );
      if (taken === 1) mine.push(agentId);
    }
    return mine;
  }

  async forget(agentId: string): Promise<void> {
    await this.redis
      .multi()
      .hdel(this.statedKey(), agentId)
      .zrem(this.seenKey(), agentId)
      .del(this.streamsKey(agentId))
      .exec();
  }
}
