import type { Queue } from 'bullmq';
import type { RedisConnection } from '../shared/redis';
import type { RedisKeys } from '../shared/redis-keys';
import { defineScript } from '../shared/redis-scripts';
import type { JobData } from './queues';

/**
 * The queues whose jobs wait for a time (a slow-reply alert, an idle or
 * unanswered close): their waits are timers here, not BullMQ delayed jobs.
 */
export const TIMED_QUEUES = ['alerts', 'idle'] as const;
export type TimedQueue = (typeof TIMED_QUEUES)[number];
export const isTimedQueue = (queue: string): queue is TimedQueue =>
  (TIMED_QUEUES as readonly string[]).includes(queue);

/**
 * Fires timers no earlier than this often (ms): a timer fires at most this much late
 * (on top of its own wait, which is seconds at the least: a slow-reply threshold).
 */
export const SWEEP_INTERVAL_MS = 250;
/** Timers one sweep takes per queue; a full batch is followed by another sweep at once. */
const SWEEP_BATCH = 200;
/**
 * A taken timer is pushed this far ahead until its job is queued, then removed. A sweeper
 * that dies in between leaves it to fire again after the lease: a timer is never lost, and
 * its job id makes the second add a no-op while the first job is kept (an `idle` close,
 * removed once done, may then run twice: at least once, and its close is idempotent).
 */
const LEASE_MS = 60_000;

/**
 * KEYS: the queue's timers. ARGV: now (ms), how many, the lease's end (ms).
 * Takes the timers due by now, earliest first, and pushes each to the lease's end.
 */
const TAKE_DUE = defineScript<string[]>(
  'takeDueTimers',
  `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[3], member) end
return due
`,
);

/** A timer: the job it queues when due (its name, id and data). */
export interface Timer<Q extends TimedQueue = TimedQueue> {
  name: string;
  jobId: string;
  data: JobData[Q];
}

/** The member a timer is stored as: the job in one JSON array, so arming it twice is one member. */
function encode(timer: Timer): string {
  return JSON.stringify([timer.name, timer.jobId, timer.data]);
}

function decode(member: string): Timer | null {
  try {
    const [name, jobId, data] = JSON.parse(member) as unknown[];
    if (typeof name !== 'string' || typeof jobId !== 'string' || typeof data !== 'object')
      return null;
    // Ids BullMQ refuses (an integer, a ':') would fail the whole batch's add, every sweep.
    if (data === null || !jobId || `${Number.parseInt(jobId, 10)}` === jobId || jobId.includes(':'))
      return null;
    return { name, jobId, data: data as Timer['data'] };
  } catch {
    return null;
  }
}

/**
 * Timed jobs as one sorted set per queue (member: the job; score: when it is
 * due, in real ms like a BullMQ delay). Arming is one ZADD; the workers'
 * sweep queues the due ones as ordinary jobs of their queue, under the ids
 * they were armed with. A BullMQ delayed add runs a script of some ten
 * commands (job hash, delayed set, marker, two event-stream entries) for
 * every wait, and most waits are answered before their alert or close is due:
 * with every message a new buyer's, Redis CPU per message fell from about 436 to
 * 380 µs (docs/architecture.md, "Round nine").
 *
 * Delays are real time (`realNow`), as BullMQ's are: the service's injected
 * clock says what time it is for the business, not when a timer wakes.
 */
export class DueTimers {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly queues: { [Q in TimedQueue]: Queue<JobData[Q]> },
    private readonly realNow: () => number = Date.now,
  ) {}

  /** Arms a timer `delayMs` from now; arming the same job again is a no-op until it fires. */
  async arm<Q extends TimedQueue>(queue: Q, timer: Timer<Q>, delayMs: number): Promise<void> {
    await this.redis.zadd(
      this.keys.dueTimers(queue),
      'NX',
      this.realNow() + Math.max(0, delayMs),
      encode(timer),
    );
  }

  /**
   * Queues every timer due by now as its job; answers how many it queued. Safe
   * to run in every worker process at once: a timer is taken by one sweep.
   */
  async sweep(): Promise<number> {
    let queued = 0;
    for (const queue of TIMED_QUEUES) {
      for (;;) {
        const taken = await this.sweepOnce(queue);
        queued += taken.queued;
        if (taken.members < SWEEP_BATCH) break;
      }
    }
    return queued;
  }

  private async sweepOnce(queue: TimedQueue): Promise<{ members: number; queued: number }> {
    const key = this.keys.dueTimers(queue);
    const now = this.realNow();
    const members = await TAKE_DUE.run(this.redis, [key], [now, SWEEP_BATCH, now + LEASE_MS]);
    if (members.length === 0) return { members: 0, queued: 0 };
    const jobs = members.flatMap((member) => {
      const timer = decode(member);
      // A member nobody could have armed (written by hand) is dropped, not retried for ever.
      return timer ? [{ name: timer.name, data: timer.data, opts: { jobId: timer.jobId } }] : [];
    });
    // The queue's default options apply (retention, attempts), as to the delayed jobs before.
    if (jobs.length > 0) await (this.queues[queue] as Queue).addBulk(jobs);
    await this.redis.zrem(key, ...members);
    return { members: members.length, queued: jobs.length };
  }

  /**
   * Sweeps every SWEEP_INTERVAL_MS until the answer is called (which waits for
   * a sweep under way); a sweep that fails (Redis away) is reported and the
   * next one tries again.
   */
  start(onError: (error: Error) => void): () => Promise<void> {
    let running: Promise<void> | null = null;
    const timer = setInterval(() => {
      running ??= this.sweep()
        .then(() => undefined, onError)
        .finally(() => {
          running = null;
        });
    }, SWEEP_INTERVAL_MS);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await running;
    };
  }

  /** Timers armed and not yet queued, by queue: the `delayed` jobs of the queue gauges. */
  async count(queue: TimedQueue): Promise<number> {
    return this.redis.zcard(this.keys.dueTimers(queue));
  }

  /** The armed timers of a queue, earliest first, with when each is due (real ms). */
  async pending<Q extends TimedQueue>(
    queue: Q,
    limit = 1000,
  ): Promise<Array<Timer<Q> & { dueAt: number }>> {
    const raw = await this.redis.zrange(this.keys.dueTimers(queue), 0, limit - 1, 'WITHSCORES');
    const out: Array<Timer<Q> & { dueAt: number }> = [];
    for (let i = 0; i < raw.length; i += 2) {
      const timer = decode(raw[i]!) as Timer<Q> | null;
      if (timer) out.push({ ...timer, dueAt: Number(raw[i + 1]) });
    }
    return out;
  }

  /**
   * Makes an armed timer due now; false when none has that job id. For tests: it reads the
   * whole set (every open wait's close).
   */
  async fireNow(queue: TimedQueue, jobId: string): Promise<boolean> {
    const key = this.keys.dueTimers(queue);
    const member = (await this.redis.zrange(key, 0, -1)).find((m) => decode(m)?.jobId === jobId);
    if (!member) return false;
    await this.redis.zadd(key, 'XX', 0, member);
    return true;
  }
}
