import { randomBytes } from 'node:crypto';
import type { RedisConnection } from '../shared/redis';
import type { RedisKeys } from '../shared/redis-keys';
import { defineScript } from '../shared/redis-scripts';

// KEYS[1] the shop's holders (score = lease end). ARGV: now, lease end, limit, holder.
// Holders whose lease ran out (a worker killed mid-send) are dropped first.
const acquireSendSlot = defineScript<number>(
  'acquireSendSlot',
  `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
`,
);

/**
 * Concurrent sends per shop, across every worker process: a shop whose
 * platform or reply URL hangs holds at most `limit` sends at once, so the
 * other shops keep the rest of the workers' concurrency. A lease longer than
 * any send (two platform calls, each capped) frees the slot of a worker that
 * died mid-send.
 */
export class SendSlots {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly limit: number,
    private readonly leaseMs = 30_000,
  ) {}

  /** A release function, or null when the shop already has `limit` sends in flight. */
  async acquire(shopId: string, now: number): Promise<(() => Promise<void>) | null> {
    const key = this.keys.sendSlots(shopId);
    const holder = randomBytes(8).toString('hex');
    const got = await acquireSendSlot.run(
      this.redis,
      [key],
      [now, now + this.leaseMs, this.limit, holder],
    );
    if (got !== 1) return null;
    return async () => {
      await this.redis.zrem(key, holder);
    };
  }
}
