// `npm run bench:billing`: on a private Redis, seeds 10,000 shops with a month
// of metered consultations (the month aggregates written directly with
// pipelines, as the meter scripts would leave them), then prints the time and
// memory to close the month and the usage-report latency (p50/p99) of one shop.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildContainer, closeServer } from '../src/app/container';
import type { Plan } from '../src/billing/plan-schema';
import { loadConfig } from '../src/config/config';
import { ManualClock } from '../src/shared/clock';
import { createLogger } from '../src/shared/logger';
import { daysOfMonth } from '../src/shared/shop-calendar';
import { readOptions, wholeNumber } from './lib/cli-options';
import { progressBar } from './lib/progress-bar';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort, startRedis } from './lib/redis-server.mjs';

const USAGE = 'npm run bench:billing -- [--shops 10000] [--requests 2000]';
const values = readOptions(USAGE, {
  shops: { type: 'string', default: '10000' },
  requests: { type: 'string', default: '2000' },
});
const SHOPS = wholeNumber('shops', values.shops, { min: 1, max: 100_000 }, USAGE);
const REQUESTS = wholeNumber('requests', values.requests, { min: 1, max: 1_000_000 }, USAGE);
const MONTH = '2026-10';
const CURRENT = '2026-11';

const PLANS: Plan[] = [
  {
    model: 'tiered',
    tiers: [
      { upToAverageDaily: 50, monthlyFen: 150_000 },
      { upToAverageDaily: 100, monthlyFen: 250_000 },
      { upToAverageDaily: null, monthlyFen: 400_000 },
    ],
  },
  {
    model: 'per_day',
    dayRateFen: { online: 25_000 },
    channel: 'online',
    overtime: { hourlyBaseFen: 3000, ratePercent: 150 },
  },
  {
    model: 'monthly',
    monthlyFen: 800_000,
    holdbackPercent: 15,
    targets: { maxAverageFirstResponseSeconds: 60, minWithin3MinRate: 0.9, minSatisfaction: 4.5 },
  },
  { model: 'per_reception', dailyBaseFen: 5000, perReceptionFen: 300 },
  {
    model: 'dedicated_seat',
    seats: 2,
    monthlyFenPerSeat: 600_000,
    performance: { minSatisfaction: 4.5, bonusPercent: 5 },
  },
  { model: 'base_commission', monthlyBaseFen: 300_000, commissionPercent: 3, attributionDays: 7 },
];

/** A month aggregate as the meter scripts keep it (see ConsultationMeter.aggregateKey). */
function aggregateFor(seed: number, month: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let x = (seed * 2654435761) % 4294967296;
  const rand = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  let consultations = 0;
  for (const day of daysOfMonth(month)) {
    const c = 20 + rand(160);
    const r = c - rand(Math.max(1, Math.floor(c / 10)));
    const a = r - rand(3);
    const w = a - rand(Math.max(1, Math.floor(a / 8)));
    Object.assign(fields, {
      [`${day}|c`]: c,
      [`${day}|r`]: r,
      [`${day}|s`]: 1 + rand(4),
      [`${day}|a`]: a,
      [`${day}|t`]: a * (20_000 + rand(60_000)),
      [`${day}|w`]: w,
      [`${day}|v`]: rand(Math.max(1, Math.floor(c / 5))),
    });
    consultations += c;
  }
  const ratings = 50 + rand(200);
  fields.ratings = String(ratings);
  fields.ratingSum = String(ratings * 4 + rand(ratings));
  fields.attributedFen = String(consultations * (500 + rand(2000)));
  return fields;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-bench-billing-'));
const redisServer = await startRedis({ port: await freePort(), dir, persist: false });
const clock = new ManualClock(Date.parse(`${MONTH}-15T12:00:00+08:00`));
const config = loadConfig({
  REDIS_URL: redisServer.url,
  REDIS_PREFIX: 'bench',
  LOG_LEVEL: 'silent',
});
const container = await buildContainer(config, {
  adminToken: 'adm_bench_token_0123456789abcdef',
  secretsKey: 'bench-secrets-key-0123456789abcdef0',
  clock,
  logger: createLogger('silent'),
});

try {
  console.log(
    `bench:billing on ${os.cpus().length} CPUs (load average ${os.loadavg()[0]!.toFixed(2)}: other work on the machine skews the tail), Node ${process.version}, Redis ${redisServer.url}`,
  );
  let started = Date.now();
  const seedBar = progressBar('seeding shops');
  const ids: string[] = [];
  let ownerKey = '';
  for (let i = 0; i < SHOPS; i += 500) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(500, SHOPS - i) }, (_, j) =>
        container.shops.create({
          name: `Shop ${i + j}`,
          platform: 'generic',
          timezone: (i + j) % 10 === 0 ? 'America/New_York' : 'Asia/Shanghai',
          plan: PLANS[(i + j) % PLANS.length],
        } as never),
      ),
    );
    const pipeline = container.redis.pipeline();
    batch.forEach((shop, j) => {
      ids.push(shop.id);
      if (!ownerKey) ownerKey = shop.ownerKey;
      pipeline.hset(container.keys.month(shop.id, MONTH, 'agg'), aggregateFor(i + j + 1, MONTH));
      pipeline.hset(
        container.keys.month(shop.id, CURRENT, 'agg'),
        aggregateFor(i + j + 7, CURRENT),
      );
      if ((i + j) % PLANS.length === 1)
        pipeline.hset(container.keys.month(shop.id, MONTH, 'overtime'), `${MONTH}-03`, '250');
    });
    await pipeline.exec();
    seedBar.update(Math.min(i + 500, SHOPS), SHOPS);
  }
  const info = async () =>
    Number(/used_memory:(\d+)/.exec(await container.redis.info('memory'))?.[1] ?? 0);
  console.log(
    `seeded ${SHOPS} shops × ${daysOfMonth(MONTH).length} days in ${((Date.now() - started) / 1000).toFixed(1)} s; Redis uses ${mb(await info())}`,
  );

  clock.set(Date.parse(`${CURRENT}-02T00:30:00+08:00`));
  global.gc?.();
  const heapBefore = process.memoryUsage();
  const redisBefore = await info();
  let peakRss = heapBefore.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const closeBar = progressBar(`closing ${MONTH}`);
  started = Date.now();
  const report = await container.billing.monthClose.close(MONTH, {
    onProgress: (d, t) => closeBar.update(d, t),
  });
  const closeMs = Date.now() - started;
  clearInterval(sampler);
  const heapAfter = process.memoryUsage();
  console.log(
    `close ${MONTH}: ${report.closed} invoices in ${(closeMs / 1000).toFixed(2)} s (${Math.round(report.closed / (closeMs / 1000))} shops/s), skipped ${report.skipped.length}`,
  );
  console.log(
    `  memory: process RSS peak ${mb(peakRss)} (before ${mb(heapBefore.rss)}), heap ${mb(heapBefore.heapUsed)} → ${mb(heapAfter.heapUsed)}; Redis +${mb((await info()) - redisBefore)} for the invoices`,
  );
  started = Date.now();
  const again = await container.billing.monthClose.close(MONTH);
  console.log(
    `  rerun: ${again.closed} written, ${again.alreadyClosed} already closed, in ${((Date.now() - started) / 1000).toFixed(2)} s`,
  );

  const server = container.createHttp().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Draft and final requests alternate so both meet the same conditions (GC after the close, other load).
  const phases = [
    { label: 'current month (draft estimate)', month: CURRENT, timings: [] as number[] },
    { label: 'closed month (final invoice)', month: MONTH, timings: [] as number[] },
  ];
  for (let i = 0; i < REQUESTS + 100; i++) {
    for (const phase of phases) {
      const t0 = performance.now();
      const res = await fetch(`${url}/v1/shops/${ids[0]}/usage?month=${phase.month}`, {
        headers: { authorization: `Bearer ${ownerKey}` },
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`usage answered ${res.status}`);
      if (i >= 100) phase.timings.push(performance.now() - t0);
    }
  }
  for (const { label, timings } of phases) {
    timings.sort((a, b) => a - b);
    console.log(
      `usage report, ${label}, ${REQUESTS} sequential HTTP requests: p50 ${percentile(timings, 50).toFixed(2)} ms, p99 ${percentile(timings, 99).toFixed(2)} ms, max ${timings.at(-1)!.toFixed(2)} ms`,
    );
  }
  await closeServer(server);
} finally {
  await container.close();
  await redisServer.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
