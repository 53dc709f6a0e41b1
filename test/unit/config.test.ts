import { availableParallelism } from 'node:os';
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

  it('puts the assistant on its own thread where there is a second core, unless told', () => {
    const base = { REDIS_URL: 'redis://127.0.0.1:6390' };
    expect(loadConfig(base).ASSIST_THREAD).toBe(availableParallelism() > 1);
    expect(loadConfig({ ...base, ASSIST_THREAD: 'auto' }).ASSIST_THREAD).toBe(
      availableParallelism() > 1,
    );
    expect(loadConfig({ ...base, ASSIST_THREAD: 'true' }).ASSIST_THREAD).toBe(true);
    expect(loadConfig({ ...base, ASSIST_THREAD: '0' }).ASSIST_THREAD).toBe(false);
    expect(() => loadConfig({ ...base, ASSIST_THREAD: 'yes' })).toThrow(
      /ASSIST_THREAD: must be auto, true or false/,
    );
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
      expect(message).toMatch(/OPENAI_BASE_URL: must be an absolute http\(s\) URL/);
    }
  });

  it('treats an empty value as unset', () => {
    expect(
      loadConfig({ REDIS_URL: 'redis://x:1', OPENAI_API_KEY: '' }).OPENAI_API_KEY,
    ).toBeUndefined();
  });

  it('never prints a secret it refuses, and never prints a password in a URL', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ REDIS_URL: 'redis://x:1', ...env });
      } catch (error) {
        return (error as ConfigError).problems.join('\n');
      }
      throw new Error('expected a ConfigError');
    };
    const admin = problems({ ADMIN_TOKEN: 'adm_short-secret' });
    expect(admin).toMatch(/ADMIN_TOKEN: must be at least 24 characters/);
    expect(admin).not.toContain('short-secret');
    expect(problems({ SECRETS_KEY: 'k3y-too-short' })).not.toContain('k3y-too-short');
    const url = problems({ REDIS_URL: 'redis://user:hunter2@cache:99999' });
    expect(url).toMatch(/REDIS_URL: /);
    expect(url).not.toContain('hunter2');
  });

  it('refuses a blank or non-decimal number instead of reading it as 0, and takes an empty one as unset', () => {
    expect(loadConfig({ REDIS_URL: 'redis://x:1', PORT: '' }).PORT).toBe(3000);
    expect(
      loadConfig({ REDIS_URL: 'redis://x:1', WEBHOOK_SECRET_GRACE_HOURS: '' })
        .WEBHOOK_SECRET_GRACE_HOURS,
    ).toBe(24);
    expect(loadConfig({ REDIS_URL: 'redis://x:1', PORT: '8080' }).PORT).toBe(8080);
    expect(loadConfig({ REDIS_URL: 'redis://x:1', PORT: '  ' }).PORT).toBe(3000);
    for (const value of ['0x50', '1e3', '80.0', 'eighty'])
      expect(() => loadConfig({ REDIS_URL: 'redis://x:1', PORT: value }), value).toThrow(
        /PORT: must be a whole number/,
      );
  });

  it('drops spaces and a newline around a setting, but takes SECRETS_KEY exactly as given', () => {
    const config = loadConfig({
      REDIS_URL: ' redis://x:1\n',
      PORT: ' 8080 ',
      HOST: '127.0.0.1\n',
      ADMIN_TOKEN: 'adm_mounted-with-a-newline-0123456789\n',
      SECRETS_KEY: 'k8s-mounted-secrets-key-0123456789abcdef\n',
    });
    // A token is sent in a header, which cannot carry the newline: it must match without it.
    expect(config.ADMIN_TOKEN).toBe('adm_mounted-with-a-newline-0123456789');
    expect([config.REDIS_URL, config.PORT, config.HOST]).toEqual([
      'redis://x:1',
      8080,
      '127.0.0.1',
    ]);
    // The key that sealed the stored credentials, newline and all.
    expect(config.SECRETS_KEY).toBe('k8s-mounted-secrets-key-0123456789abcdef\n');
  });

  it("hides a URL's whole password when it is refused, also one holding '/' or '@'", () => {
    for (const url of ['redis://:s3cr/tPass@cache:99999', 'redis://user:p@ss@cache:99999']) {
      const error = (() => {
        try {
          loadConfig({ REDIS_URL: url });
        } catch (thrown) {
          return String(thrown);
        }
        return '';
      })();
      expect(error).toContain('REDIS_URL');
      expect(error).toContain(':***@');
      expect(error).not.toMatch(/s3cr|tPass|p@ss/);
    }
  });

  it('takes only http(s) URLs without a query, and drops a trailing slash from PUBLIC_BASE_URL', () => {
    for (const [name, value] of [
      ['PUBLIC_BASE_URL', 'example.com:3000'],
      ['OPENAI_BASE_URL', 'localhost:8080'],
      ['LINE_API_BASE', 'ftp://api.line.me'],
      ['PUBLIC_BASE_URL', 'https://seatmate.example.com/?a=1'],
    ])
      expect(() => loadConfig({ REDIS_URL: 'redis://x:1', [name!]: value }), value).toThrow(
        new RegExp(`${name}: must be an absolute http\\(s\\) URL`),
      );
    expect(
      loadConfig({ REDIS_URL: 'redis://x:1', PUBLIC_BASE_URL: 'https://cs.example.com/seatmate/' })
        .PUBLIC_BASE_URL,
    ).toBe('https://cs.example.com/seatmate');
  });

  it('refuses an unknown BILLING_TIMEZONE, a Redis URL without a host and port 0 nodes', () => {
    expect(() =>
      loadConfig({ REDIS_URL: 'redis://x:1', BILLING_TIMEZONE: 'Asia/Shanghia' }),
    ).toThrow(/BILLING_TIMEZONE: must be an IANA time zone/);
    expect(() => loadConfig({ REDIS_URL: 'redis://' })).toThrow(/REDIS_URL: /);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:0' })).toThrow(/REDIS_CLUSTER_NODES: /);
    expect(loadConfig({ REDIS_URL: 'rediss://:pw@cache.example.com:6380/2' }).REDIS_URL).toBe(
      'rediss://:pw@cache.example.com:6380/2',
    );
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
