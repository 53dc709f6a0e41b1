import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config';
import { partitionOf } from '../../src/pipeline/queues';

describe('config', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6390' });
    expect(config.PORT).toBe(3000);
    expect(config.DATA_DIR).toBe('./data');
    expect(config.ASSIST_TIMEOUT_MS).toBe(4000);
    expect(config.OPENAI_API_KEY).toBeUndefined();
    expect(config.LINE_API_BASE).toBe('https://api.line.me');
  });

  it('names every bad variable and what is wrong with it', () => {
    try {
      loadConfig({ REDIS_URL: 'localhost:6379', PORT: 'eighty', OPENAI_BASE_URL: 'not a url' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(/REDIS_URL: must start with redis:\/\//);
      expect(message).toMatch(/PORT: .*"eighty"/);
      expect(message).toMatch(/OPENAI_BASE_URL: must be an absolute URL/);
    }
  });

  it('treats an empty value as unset', () => {
    expect(
      loadConfig({ REDIS_URL: 'redis://x:1', OPENAI_API_KEY: '' }).OPENAI_API_KEY,
    ).toBeUndefined();
  });

  it('takes a Redis Cluster by its seed nodes instead of REDIS_URL, and needs one of the two', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002' });
    expect(config.REDIS_CLUSTER_NODES).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.INBOUND_PARTITIONS).toBe(1);
    expect(() => loadConfig({})).toThrow(/REDIS_URL: is required unless REDIS_CLUSTER_NODES/);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis-a' })).toThrow(
      /REDIS_CLUSTER_NODES: must be host:port seed nodes/,
    );
    expect(() => loadConfig({ REDIS_URL: 'redis://x:1', INBOUND_PARTITIONS: '0' })).toThrow(
      /INBOUND_PARTITIONS: must be at least 1/,
    );
  });
});

describe('inbound partitions', () => {
  it('puts every event of a shop in one partition, the same in every process, and uses them all', () => {
    const shops = Array.from({ length: 300 }, (_, i) => `shp_${i.toString(36)}x`);
    const first = shops.map((id) => partitionOf(id, 4));
    expect(shops.map((id) => partitionOf(id, 4))).toEqual(first);
    expect(new Set(first)).toEqual(new Set([0, 1, 2, 3]));
    // Fixed values: a change of hash would move shops between partitions under running jobs.
    expect([partitionOf('shp_a', 3), partitionOf('shp_b', 3), partitionOf('shop-1', 7)]).toEqual([
      1, 2, 6,
    ]);
    expect(shops.every((id) => partitionOf(id, 1) === 0)).toBe(true);
  });
});
