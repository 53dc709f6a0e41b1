import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedisTokenCache } from '../../../src/platforms/redis-token-cache';

let redis: Redis;
const prefix = () => `test:token-cache:${randomUUID()}:`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

beforeAll(() => {
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await redis.quit();
});

describe('redis token cache', () => {
  it('stores a value with a TTL under the prefix', async () => {
    const p = prefix();
    const cache = createRedisTokenCache(redis, p);
    expect(await cache.get('wechat:wx1')).toBeNull();
    await cache.set('wechat:wx1', 'token-1', 60);
    expect(await cache.get('wechat:wx1')).toBe('token-1');
    const ttl = await redis.ttl(`${p}wechat:wx1`);
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('runs the fetcher once for 5 concurrent callers, who all get its value', async () => {
    const cache = createRedisTokenCache(redis, prefix(), { pollIntervalMs: 10 });
    let calls = 0;
    const fetcher = async () => {
      calls += 1;
      await sleep(150);
      await cache.set('k', 'fresh-token', 100);
      return 'fresh-token';
    };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => cache.withLock('k', fetcher)),
    );
    expect(calls).toBe(1);
    expect(results).toEqual(Array(5).fill('fresh-token'));
  });

  it('makes waiters ignore the stale value a refresh is replacing', async () => {
    const cache = createRedisTokenCache(redis, prefix(), { pollIntervalMs: 10 });
    await cache.set('k', 'stale', 100);
    let calls = 0;
    const fetcher = async () => {
      calls += 1;
      await sleep(100);
      await cache.set('k', 'renewed', 100);
      return 'renewed';
    };
    const results = await Promise.all([
      cache.withLock('k', fetcher),
      cache.withLock('k', fetcher),
      cache.withLock('k', fetcher),
    ]);
    expect(calls).toBe(1);
    expect(results).toEqual(['renewed', 'renewed', 'renewed']);
  });

  it('lets a waiter fetch when the holder fails without storing anything', async () => {
    const cache = createRedisTokenCache(redis, prefix(), { pollIntervalMs: 10 });
    const failing = cache.withLock('k', async () => {
      await sleep(80);
      throw new Error('platform down');
    });
    await sleep(10);
    const second = cache.withLock('k', async () => {
      await cache.set('k', 'second-try', 100);
      return 'second-try';
    });
    await expect(failing).rejects.toThrow('platform down');
    await expect(second).resolves.toBe('second-try');
  });

  it('releases only its own lock', async () => {
    const p = prefix();
    const cache = createRedisTokenCache(redis, p, { lockTtlMs: 50 });
    const slow = cache.withLock('k', async () => {
      await sleep(150);
      return 'slow';
    });
    await sleep(100);
    // The first lock has expired; another worker now holds it.
    expect(await redis.set(`${p}lock:k`, 'someone-else', 'PX', 5_000, 'NX')).toBe('OK');
    await expect(slow).resolves.toBe('slow');
    expect(await redis.get(`${p}lock:k`)).toBe('someone-else');
  });

  it('gives up waiting after the wait timeout', async () => {
    const p = prefix();
    const cache = createRedisTokenCache(redis, p, { pollIntervalMs: 10, waitTimeoutMs: 100 });
    await redis.set(`${p}lock:k`, 'stuck-holder', 'PX', 5_000);
    await expect(cache.withLock('k', async () => 'never')).rejects.toThrow(/Timed out/);
  });
});
