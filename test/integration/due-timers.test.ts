import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { DueTimers } from '../../src/pipeline/due-timers';
import { closeQueues, createQueues, type Queues } from '../../src/pipeline/queues';
import { RedisKeys } from '../../src/shared/redis-keys';

let redis: Redis;
// One connection for every queue of the file: the suite's Redis is shared, and a test elsewhere
// counts its clients.
let queueConnection: Redis;
let queues: Queues;
let keys: RedisKeys;
let now: number;
let timers: DueTimers;

const alert = (buyerId: string, waitingSince = 1_000) => ({
  name: 'slow-reply',
  jobId: `al_${buyerId}_${waitingSince}`,
  data: { shopId: 'shp_t', buyerId, waitingSince },
});

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  queueConnection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await closeQueues(queues);
  await queueConnection.quit();
  await redis.quit();
});

beforeEach(async () => {
  if (queues) await closeQueues(queues);
  const prefix = `timers-${randomUUID()}`;
  keys = new RedisKeys(prefix);
  queues = createQueues(queueConnection, (name) => keys.queuePrefix(name), {
    outboundAttempts: 1,
    outboundBackoffMs: 1000,
  });
  now = 1_700_000_000_000;
  timers = new DueTimers(redis, keys, queues, () => now);
});

describe('due timers', () => {
  it('queue an armed job once it is due, under its id and with its queue defaults, and only once', async () => {
    await timers.arm('alerts', alert('ann'), 100_000);
    await timers.arm('alerts', alert('ann'), 5_000); // armed again: a no-op, the first due time holds
    expect(await timers.count('alerts')).toBe(1);
    expect((await timers.pending('alerts'))[0]).toMatchObject({ dueAt: now + 100_000 });

    now += 99_999;
    expect(await timers.sweep()).toBe(0);
    expect(await queues.alerts.getJob(alert('ann').jobId)).toBeUndefined();

    now += 1;
    expect(await timers.sweep()).toBe(1);
    const job = await queues.alerts.getJob(alert('ann').jobId);
    expect(job?.name).toBe('slow-reply');
    expect(job?.data).toEqual(alert('ann').data);
    expect(await job?.getState()).toBe('waiting');
    // The alerts queue's own options, as a delayed add had them.
    expect(job?.opts).toMatchObject({ attempts: 3, removeOnComplete: { age: 86_400 } });
    expect(await timers.count('alerts')).toBe(0);
    expect(await timers.sweep()).toBe(0);

    // Armed again while its job is kept: the add finds the job and queues nothing more.
    await timers.arm('alerts', alert('ann'), 0);
    await timers.sweep();
    expect(await queues.alerts.getWaitingCount()).toBe(1);
  });

  it('keep the queues apart and fire in due order, whatever the order armed', async () => {
    await timers.arm('alerts', alert('late'), 3_000);
    await timers.arm('alerts', alert('early'), 1_000);
    await timers.arm(
      'idle',
      { name: 'idle-close', jobId: 'ic_1', data: { shopId: 'shp_t', buyerId: 'b', answeredAt: 1 } },
      2_000,
    );
    expect((await timers.pending('alerts')).map((t) => t.jobId)).toEqual([
      alert('early').jobId,
      alert('late').jobId,
    ]);
    now += 2_000;
    expect(await timers.sweep()).toBe(2);
    expect(await queues.idle.getJob('ic_1')).toBeDefined();
    expect(await queues.alerts.getJob(alert('early').jobId)).toBeDefined();
    expect(await queues.alerts.getJob(alert('late').jobId)).toBeUndefined();
  });

  it('lose no timer when the job cannot be queued: it fires again after the lease', async () => {
    await timers.arm('alerts', alert('kept'), 0);
    // A sweeper whose queue connection is gone takes the timer and fails to queue it.
    const gone = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const broken = createQueues(gone, (name) => keys.queuePrefix(name), {
      outboundAttempts: 1,
      outboundBackoffMs: 1000,
    });
    await closeQueues(broken);
    await gone.quit();
    const dying = new DueTimers(redis, keys, broken, () => now);
    await expect(dying.sweep()).rejects.toThrow();
    expect(await timers.count('alerts')).toBe(1);
    // Taken: not due again until its lease ends.
    expect(await timers.sweep()).toBe(0);
    now += 60_000;
    expect(await timers.sweep()).toBe(1);
    expect(await queues.alerts.getJob(alert('kept').jobId)).toBeDefined();
  });

  it('give each due timer to one of several sweepers, past one batch', async () => {
    const buyers = Array.from({ length: 450 }, (_, i) => `b${i}`);
    await Promise.all(buyers.map((b) => timers.arm('alerts', alert(b), 10)));
    now += 10;
    const other = new DueTimers(redis, keys, queues, () => now);
    const [a, b] = await Promise.all([timers.sweep(), other.sweep()]);
    expect(a + b).toBe(450);
    expect(await timers.count('alerts')).toBe(0);
    expect(await queues.alerts.getWaitingCount()).toBe(450);
  });

  it('drop a member nobody could have armed, and fire an armed one now on demand', async () => {
    await redis.zadd(keys.dueTimers('idle'), 0, 'not json');
    // Ids BullMQ refuses would fail the batch's add on every sweep: dropped like noise.
    await redis.zadd(keys.dueTimers('idle'), 0, JSON.stringify(['idle-close', '42', {}]));
    await redis.zadd(keys.dueTimers('idle'), 0, JSON.stringify(['idle-close', 'a:b', {}]));
    await timers.arm('alerts', alert('now'), 3_600_000);
    expect(await timers.fireNow('alerts', 'al_nobody')).toBe(false);
    expect(await timers.fireNow('alerts', alert('now').jobId)).toBe(true);
    expect(await timers.sweep()).toBe(1);
    expect(await timers.count('idle')).toBe(0);
    expect(await queues.alerts.getJob(alert('now').jobId)).toBeDefined();
  });
});
