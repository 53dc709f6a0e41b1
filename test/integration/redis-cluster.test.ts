import { randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIds, queueName } from '../../src/pipeline/queues';
import { RedisScript } from '../../src/shared/redis-scripts';
import { buyerMessage, eventually, type Harness, startHarness } from '../support/harness';

// Runs in the `cluster` project only (vitest.config.ts): the harness is on a three-master Cluster.
let h: Harness;
let cluster: Cluster;
beforeAll(async () => {
  // A fixed key prefix: queues' hash tags (so their slots) follow it, and with a random one the
  // three inbound partitions all land on one master in about 1 run in 9, which would say
  // nothing about the code. With this prefix they spread, run after run.
  h = await startHarness({ env: { REDIS_PREFIX: 'tcluster' } });
  cluster = h.container.redis as Cluster;
});
afterAll(() => h.close());

/** The master serving a key, as `host:port`. */
async function nodeOf(key: string): Promise<string> {
  const slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', key));
  const ranges = (await cluster.call('CLUSTER', 'SLOTS')) as Array<
    [number, number, [string, number]]
  >;
  const range = ranges.find(([from, to]) => slot >= from && slot <= to)!;
  return `${range[2][0]}:${range[2][1]}`;
}

describe('the cluster suites really run on a Redis Cluster', () => {
  it('is a healthy cluster of three masters that refuses an operation across slots', async () => {
    expect(cluster.isCluster).toBe(true);
    const info = String(await cluster.call('CLUSTER', 'INFO'));
    expect(info).toMatch(/cluster_state:ok/);
    expect(info).toMatch(/cluster_size:3/);
    const { keys } = h.container;
    // Two shops' records live in different slots: one command over both is refused.
    await expect(
      cluster.mget(keys.shopRecord('shop-a'), keys.shopRecord('shop-b')),
    ).rejects.toThrow(/CROSSSLOT|same slot/);
  });

  it('warns about every master that would lose acknowledged data, naming it', async () => {
    // The test cluster runs without persistence: each of the three masters is named.
    const ready = await h.api('/readyz', { token: '' });
    expect(ready.status).toBe(200);
    const warnings = ready.body.warnings as string[];
    expect(warnings).toHaveLength(3);
    const masters = cluster.nodes('master').map((n) => `${n.options.host}:${n.options.port}`);
    for (const address of masters)
      expect(warnings).toContainEqual(
        expect.stringMatching(new RegExp(`^redis_not_persistent: .*\\(node ${address}\\)$`)),
      );
  });

  it("spreads shops' keys and the inbound partitions over the nodes, and keeps each shop's keys together", async () => {
    const shops = await Promise.all(
      Array.from({ length: 8 }, () => h.createGenericShop({ timezone: 'UTC' })),
    );
    await Promise.all(
      shops.map((shop, i) =>
        h.sendGeneric(shop, buyerMessage('b-spread', 'hello', Date.now()), { id: `spread-${i}` }),
      ),
    );
    const { keys, meter } = h.container;
    for (const shop of shops)
      await eventually(async () => (await meter.consultationsOn(shop.id, today())).length === 1);

    const shopNodes = new Set(await Promise.all(shops.map((s) => nodeOf(keys.shopRecord(s.id)))));
    expect(shopNodes.size).toBeGreaterThan(1);
    // One shop: record, conversation and meter on one node (one slot), whatever their names.
    const one = shops[0]!.id;
    expect(
      new Set([
        Number(await cluster.call('CLUSTER', 'KEYSLOT', keys.shopRecord(one))),
        Number(await cluster.call('CLUSTER', 'KEYSLOT', keys.conversation(one, 'b', 'messages'))),
        Number(await cluster.call('CLUSTER', 'KEYSLOT', keys.day(one, '2026-01-01', 'buyers'))),
      ]).size,
    ).toBe(1);

    // Three inbound partitions, each its own queue in its own slot, on more than one node.
    const partitions = h.container.queues.inbound.partitions;
    expect(partitions.map((queue) => queue.name)).toEqual([
      queueName('inbound', 0),
      queueName('inbound', 1),
      queueName('inbound', 2),
    ]);
    const partitionNodes = new Set(
      await Promise.all(partitions.map((queue) => nodeOf(queue.toKey('wait')))),
    );
    expect(partitionNodes.size).toBeGreaterThan(1);
    // The eight shops' jobs went to more than one partition, each shop's to its own partition
    // (completed jobs are removed at once: the partition's event stream shows each one completed).
    const used = new Set<string>();
    for (const [i, shop] of shops.entries()) {
      const queue = h.container.queues.inbound.of(shop.id);
      const jobId = jobIds.inbound('generic', shop.id, `spread-${i}`);
      // Metered comes before the job's last steps (the feed), so its completion may follow.
      await eventually(async () => {
        const entries = await cluster.xrange(queue.keys.events!, '-', '+');
        return entries.some(([, fields]) => {
          const record = Object.fromEntries(
            fields.flatMap((value, at) => (at % 2 === 0 ? [[value, fields[at + 1]]] : [])),
          );
          return record.event === 'completed' && record.jobId === jobId;
        });
      });
      used.add(queue.name);
    }
    expect(used.size, `partitions of ${shops.map((s) => s.id).join(', ')}`).toBeGreaterThan(1);
  });

  it('loads a script a master has not seen (new, restarted, failed over), then runs it', async () => {
    // A script no node has: its first EVALSHA meets NOSCRIPT.
    const probe = new RedisScript<string>(
      'clusterProbe',
      `-- ${randomUUID()}\nreturn redis.call('GET', KEYS[1])`,
    );
    const key = `${h.container.config.REDIS_PREFIX}:{probe}:value`;
    await cluster.set(key, 'seen');
    expect(await probe.run(cluster, [key])).toBe('seen');
    const loaded = await Promise.all(
      cluster.nodes('master').map((node) => node.script('EXISTS', probe.sha)),
    );
    expect(loaded).toEqual([[1], [1], [1]]);
  });

  it('shows a failed job of any inbound partition to the operator, who can retry it', async () => {
    const gone = ['shp_gone_1', 'shp_gone_2', 'shp_gone_3', 'shp_gone_4'];
    for (const shopId of gone)
      await h.container.queues.inbound.of(shopId).add(
        'message',
        {
          platform: 'generic',
          shopId,
          receivedAt: Date.now(),
          event: {
            kind: 'message',
            eventId: 'e1',
            messageId: 'e1',
            buyer: { id: 'b' },
            from: 'buyer',
            text: 'hi',
            sentAt: new Date().toISOString(),
          },
        },
        { jobId: jobIds.inbound('generic', shopId, 'e1'), attempts: 1 },
      );
    const failed = await eventually(async () => {
      const res = await h.api('/v1/ops/failed-jobs');
      const mine = (res.body.jobs as Array<{ queue: string; shopId: string; id: string }>).filter(
        (job) => gone.includes(job.shopId),
      );
      return mine.length === gone.length ? mine : null;
    });
    expect(new Set(failed.map((job) => job.queue))).toEqual(new Set(['inbound']));
    const retried = await h.api(
      `/v1/ops/failed-jobs/inbound/${encodeURIComponent(failed.at(-1)!.id)}/retry`,
      { method: 'POST' },
    );
    expect(retried.status).toBeLessThan(300);
  });
});

function today(): string {
  return new Date().toISOString().slice(0, 10);
}
