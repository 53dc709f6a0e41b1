// `npm run bench:pipeline`: an open-loop load at fixed rates against the whole
// pipeline, timing every buyer message from the webhook send to its
// `suggestion` event on an agent's SSE stream. Loopback only, bounded in time.
//
//   --rates 100,250,500,1000,2000   messages per second, one step each
//   --seconds 15                    length of each step
//   --warmup-seconds 0              first a step of this length at the first rate,
//                                   printed but left out of the table (the first
//                                   step otherwise also carries the processes'
//                                   warm-up: JIT, connections, caches)
//   --api 1 --workers 0             processes: with --workers 0 one `all` process
//                                   per --api; else --api API processes and
//                                   --workers worker processes
//   --concurrency 16                WORKER_CONCURRENCY of each worker
//   --buyers 200                    buyers per shop (each message goes to the next one)
//   --redis redis://…               use this Redis instead of a private one
//   --cluster 3                     a private Redis Cluster of this many masters
//                                   (AOF everysec) instead of one Redis
//   --cluster-nodes host:port,…     use this Redis Cluster (REDIS_CLUSTER_NODES)
//   --partitions N                  INBOUND_PARTITIONS (default: 1, or one per
//                                   master on a Cluster)
//   --baseline                      first, at each rate, bare BullMQ (add + a worker
//                                   that does nothing) on the same Redis: the
//                                   machine's yardstick for the Redis figures
//   --script-shares                 also print which Lua scripts and commands Redis
//                                   spent each step's time in (from SLOWLOG, which
//                                   costs Redis time itself: the step's Redis
//                                   figures then read high)
//
// Per step it prints the acks (status, p50/p99), the suggestion latency
// (p50/p99/max and how many never came), the mean time per pipeline stage
// (from seatmate_pipeline_stage_seconds), Redis commands, Redis CPU and bytes
// in per message (INFO commandstats / stats / cpu deltas) and the peak RSS of
// every process. Run it under `flock /tmp/seatmate-bench.lock` on a shared machine.
// BENCH_CPU_PROF=dir writes a CPU profile per process; BENCH_NODE_FLAGS adds Node
// flags to the service's own (scripts/lib/node-flags.mjs).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { loadConfig } from '../src/config/config';
import { signStandardWebhook } from '../src/platforms/generic/standard-webhooks';
import { workerConnection } from '../src/shared/redis';
import { benchText } from './lib/bench-texts';
// @ts-expect-error plain .mjs shared with `npm start`
import { buildService } from './lib/build-service.mjs';
import { runBullmqBaseline } from './lib/bullmq-baseline';
import { readOptions, usageError, wholeNumber, wholeNumbers } from './lib/cli-options';
// @ts-expect-error plain .mjs shared with `npm start`
import { SERVICE_NODE_FLAGS } from './lib/node-flags.mjs';
import { formatScriptShares, readScriptShares, startScriptShares } from './lib/redis-script-shares';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort, startCluster, startRedis } from './lib/redis-server.mjs';

const USAGE =
  'npm run bench:pipeline -- [--rates 100,250,…] [--seconds 15] [--warmup-seconds 0] ' +
  '[--api 1] [--workers 0] ' +
  '[--concurrency 16] [--shops 20] [--agents 4] [--buyers 200] [--drain-seconds 30] ' +
  '[--redis redis://… | --cluster 3 | --cluster-nodes host:port,…] [--partitions N] ' +
  '[--baseline] [--script-shares]';
const values = readOptions(USAGE, {
  rates: { type: 'string', default: '100,250,500,1000,2000' },
  seconds: { type: 'string', default: '15' },
  'warmup-seconds': { type: 'string', default: '0' },
  api: { type: 'string', default: '1' },
  workers: { type: 'string', default: '0' },
  concurrency: { type: 'string', default: '16' },
  shops: { type: 'string', default: '20' },
  agents: { type: 'string', default: '4' },
  buyers: { type: 'string', default: '200' },
  redis: { type: 'string' },
  cluster: { type: 'string' },
  'cluster-nodes': { type: 'string' },
  partitions: { type: 'string' },
  'drain-seconds': { type: 'string', default: '30' },
  baseline: { type: 'boolean', default: false },
  'script-shares': { type: 'boolean', default: false },
});
const count = (name: keyof typeof values, min: number, max: number) =>
  wholeNumber(name, values[name] as string, { min, max }, USAGE);
const rates = wholeNumbers('rates', values.rates, { min: 1, max: 100_000 }, USAGE);
const seconds = count('seconds', 1, 3600);
const warmupSeconds = count('warmup-seconds', 0, 3600);
const apiCount = count('api', 1, 16);
const workerCount = count('workers', 0, 16);
count('concurrency', 1, 1000);
const SHOPS = count('shops', 1, 10_000);
const AGENTS = count('agents', 1, 1000);
const BUYERS_PER_SHOP = count('buyers', 1, 1_000_000);
const drainSeconds = count('drain-seconds', 0, 3600);
// A Cluster needs three masters at least (redis-cli --cluster create).
if (values.cluster !== undefined) count('cluster', 3, 16);
if (values.partitions !== undefined) count('partitions', 1, 1024);
if ([values.redis, values.cluster, values['cluster-nodes']].filter(Boolean).length > 1)
  usageError('give one of --redis, --cluster and --cluster-nodes', USAGE);
if (values.redis !== undefined && !/^rediss?:\/\/./.test(values.redis))
  usageError(
    `--redis must be a redis:// or rediss:// URL (got ${JSON.stringify(values.redis)})`,
    USAGE,
  );
if (
  values['cluster-nodes'] !== undefined &&
  !values['cluster-nodes'].split(',').every((node) => /^[^\s:,]+:\d{1,5}$/.test(node))
)
  usageError('--cluster-nodes must be host:port pairs separated by commas', USAGE);
const ADMIN = `adm_${randomBytes(16).toString('hex')}`;
const root = path.resolve(import.meta.dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-bench-pipeline-'));

// One Redis, or a Cluster (private with --cluster N, or given with --cluster-nodes).
const privateCluster = values.cluster
  ? await startCluster({
      dir: path.join(dir, 'cluster'),
      masters: Number(values.cluster),
      persist: true,
    })
  : null;
const clusterNodes: string | undefined = values['cluster-nodes'] ?? privateCluster?.nodes;
const redisServer =
  values.redis || clusterNodes
    ? null
    : await startRedis({ port: await freePort(), dir: path.join(dir, 'redis'), persist: true });
const redisUrl: string | undefined = clusterNodes ? undefined : (values.redis ?? redisServer.url);
/** A plain connection to each Redis server (each master of a Cluster), for INFO and RSS. */
const statsNodes: Array<{ name: string; redis: Redis; pid: number }> = [];
if (clusterNodes) {
  const seed = clusterNodes.split(',')[0]!.split(':');
  const probe = new Redis(Number(seed[1]), seed[0]!);
  const masters = ((await probe.call('CLUSTER', 'NODES')) as string)
    .split('\n')
    .filter((line) => / master /.test(` ${line.split(' ')[2]?.replace(/,/g, ' ')} `))
    .map((line) => line.split(' ')[1]!.split('@')[0]!);
  probe.disconnect();
  for (const [i, address] of masters.entries()) {
    const [host, port] = address.split(':');
    statsNodes.push({ name: `redis-${i + 1}`, redis: new Redis(Number(port), host!), pid: 0 });
  }
} else statsNodes.push({ name: 'redis', redis: new Redis(redisUrl!), pid: 0 });
for (const node of statsNodes)
  node.pid = Number(/process_id:(\d+)/.exec(await node.redis.info('server'))?.[1] ?? 0);
const partitions = values.partitions ?? (clusterNodes ? String(statsNodes.length) : '1');

interface Proc {
  name: string;
  child: ChildProcess;
  /** The API's port (`all` and `api`). */
  port?: number;
  /** A worker's probes and metrics (OPS_PORT), where its stage timings are read. */
  opsPort?: number;
}
const procs: Proc[] = [];
// The service's build, as `npm start` runs it (scripts/lib/build-service.mjs).
const serviceScript: string = await buildService();
async function startProcess(role: 'all' | 'api' | 'worker', name: string): Promise<Proc> {
  const port = role === 'worker' ? undefined : await freePort();
  const opsPort = role === 'worker' ? await freePort() : undefined;
  // Node refuses --cpu-prof in NODE_OPTIONS, so the profile flags go on the command line.
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  // BENCH_NODE_FLAGS (e.g. V8 heap flags) are added to the service's own (scripts/lib/node-flags.mjs).
  const extra = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(
    process.execPath,
    [...profile, ...SERVICE_NODE_FLAGS, ...extra, serviceScript, role],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        ...(clusterNodes ? { REDIS_CLUSTER_NODES: clusterNodes } : { REDIS_URL: redisUrl }),
        INBOUND_PARTITIONS: partitions,
        REDIS_PREFIX: 'bench',
        PORT: String(port ?? 0),
        ...(opsPort ? { OPS_PORT: String(opsPort) } : {}),
        HOST: '127.0.0.1',
        ADMIN_TOKEN: ADMIN,
        SECRETS_KEY: 'bench-secrets-key-0123456789abcdef0123',
        DATA_DIR: path.join(dir, name),
        LOG_LEVEL: 'error',
        WORKER_CONCURRENCY: values.concurrency,
        // The load is the point: no per-shop quota or fair-share demotion in the way.
        WEBHOOK_RATE_PER_MINUTE: '1000000',
        WEBHOOK_FAIR_SHARE_PER_MINUTE: '1000000',
        AGENT_MAX_OPEN_CONVERSATIONS: '10000',
      },
    },
  );
  const proc = { name, child, port, opsPort };
  procs.push(proc);
  // Ready when its API, or a worker's probes, answer.
  const readyPort = port ?? opsPort;
  if (readyPort) {
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${readyPort}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (i > 300) throw new Error(`${name} did not start`);
      await sleep(100);
    }
  }
  return proc;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * The webhooks' client: undici's connection pool (keep-alive, one request per connection at a
 * time, as platforms send), not node:http's agent. This benchmark shares the machine's cores
 * with the service and Redis, and the pool costs less per request: 149 against 184 µs of CPU
 * at 1,000 requests a second in a bare loop (docs/architecture.md, "Round eighteen").
 */
const pools = new Map<number, Pool>();
const poolFor = (port: number) => {
  let pool = pools.get(port);
  if (!pool) {
    pool = new Pool(`http://127.0.0.1:${port}`, { connections: 512, pipelining: 1 });
    pools.set(port, pool);
  }
  return pool;
};

/** Requests sent again after the server closed an idle keep-alive socket as it was reused. */
let resent = 0;

async function post(
  port: number,
  pathname: string,
  body: string,
  headers: Record<string, string>,
  /** Sends left after this one when the server closes a reused keep-alive socket first. */
  retries = 3,
): Promise<{ status: number; text: string }> {
  try {
    const res = await poolFor(port).request({
      path: pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.statusCode, text: await res.body.text() };
  } catch (error) {
    // The keep-alive race Node's docs describe: the server closed an idle socket just as it
    // was reused, before any answer. A platform sends such a webhook again, and so do we, up
    // to three times (the ack time still counts from the first send); any other error counts
    // as one, under its code.
    const code = (error as { code?: string }).code ?? (error as Error).message;
    if (retries > 0 && (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE')) {
      resent += 1;
      return post(port, pathname, body, headers, retries - 1);
    }
    return { status: 0, text: code };
  }
}

// Processes: one `all` per API when no separate workers, else N API + M workers.
if (workerCount === 0) {
  for (let i = 0; i < apiCount; i++) await startProcess('all', `all-${i + 1}`);
} else {
  for (let i = 0; i < apiCount; i++) await startProcess('api', `api-${i + 1}`);
  for (let i = 0; i < workerCount; i++) await startProcess('worker', `worker-${i + 1}`);
}
const apis = procs.filter((p) => p.port);
const adminPort = apis[0]!.port!;
const admin = { authorization: `Bearer ${ADMIN}` };

const shops: Array<{ id: string; secret: string }> = [];
for (let i = 0; i < SHOPS; i++) {
  const res = await post(
    adminPort,
    '/v1/shops',
    JSON.stringify({ name: `Bench ${i + 1}`, platform: 'generic', timezone: 'Asia/Shanghai' }),
    admin,
  );
  const shop = JSON.parse(res.text) as { id: string; webhookSecret: string };
  shops.push({ id: shop.id, secret: shop.webhookSecret });
}
// Each shop is served by exactly one agent, so every suggestion arrives once.
const suggestedAt = new Map<string, number>();
const streams: http.ClientRequest[] = [];
for (let a = 0; a < AGENTS; a++) {
  const shopIds = shops.filter((_, i) => i % AGENTS === a).map((s) => s.id);
  const res = await post(
    adminPort,
    '/v1/agents',
    JSON.stringify({ name: `Agent ${a + 1}`, shopIds }),
    admin,
  );
  const { token } = JSON.parse(res.text) as { token: string };
  // Streams spread over the API processes: any instance serves any agent.
  const port = apis[a % apis.length]!.port!;
  await new Promise<void>((resolve) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/agent/events',
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      },
      (res) => {
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (frame.includes('event: suggestion')) {
              const data = /^data: (.*)$/m.exec(frame)?.[1];
              if (data) {
                const id = (JSON.parse(data) as { forMessageId: string }).forMessageId;
                if (!suggestedAt.has(id)) suggestedAt.set(id, performance.now());
              }
            }
            end = buffer.indexOf('\n\n');
          }
        });
        resolve();
      },
    );
    streams.push(req);
  });
}
await sleep(500);

function webhook(shop: { id: string; secret: string }, n: number) {
  const id = `msg_${randomUUID()}`;
  const body = JSON.stringify({
    type: 'message',
    data: {
      messageId: id,
      buyer: { id: `buyer-${n % BUYERS_PER_SHOP}` },
      from: 'buyer',
      text: benchText(n),
      sentAt: new Date().toISOString(),
    },
  });
  const ts = Math.floor(Date.now() / 1000);
  return {
    id,
    body,
    headers: {
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandardWebhook(shop.secret, id, ts, body),
    },
  };
}

/** Counters summed over every Redis server (each master of a Cluster); CPU also per server. */
async function redisCounters() {
  const commands = new Map<string, { calls: number; usec: number }>();
  const num = (text: string, name: string) =>
    Number(new RegExp(`${name}:([\\d.]+)`).exec(text)?.[1] ?? 0);
  let bytesIn = 0;
  let bytesOut = 0;
  let reads = 0;
  let writes = 0;
  const cpuByNode: number[] = [];
  for (const { redis } of statsNodes) {
    const [commandstats, statsInfo, cpu] = await Promise.all([
      redis.info('commandstats'),
      redis.info('stats'),
      redis.info('cpu'),
    ]);
    for (const m of commandstats.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)) {
      const entry = commands.get(m[1]!) ?? { calls: 0, usec: 0 };
      entry.calls += Number(m[2]);
      entry.usec += Number(m[3]);
      commands.set(m[1]!, entry);
    }
    bytesIn += num(statsInfo, 'total_net_input_bytes');
    bytesOut += num(statsInfo, 'total_net_output_bytes');
    // Each is a read or write call on a client socket: the round trips' cost to Redis.
    reads += num(statsInfo, 'total_reads_processed');
    writes += num(statsInfo, 'total_writes_processed');
    cpuByNode.push(num(cpu, 'used_cpu_user') + num(cpu, 'used_cpu_sys'));
  }
  return {
    commands,
    bytesIn,
    bytesOut,
    reads,
    writes,
    cpuSeconds: cpuByNode.reduce((sum, cpu) => sum + cpu, 0),
    cpuByNode,
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (100 ticks a second). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds the host took from this machine so far (`steal` in /proc/stat; 0 elsewhere). */
function stolenSeconds(): number {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/);
    return Number(cpu[8] ?? 0) / 100;
  } catch {
    return 0;
  }
}

function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kb ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/**
 * From each process's /metrics: the stages' sums and counts (timed where jobs are worked: `all`
 * processes, or the workers on OPS_PORT), and per process its event loop's lag since the last
 * scrape (prom-client resets it at each scrape, so the scrape after a step covers that step) and
 * its garbage collections' seconds so far by kind.
 */
async function processMetrics() {
  const stages = new Map<string, { sum: number; count: number }>();
  const loops = new Map<string, { p99: number; max: number; gc: Map<string, number> }>();
  for (const p of procs) {
    const port = p.port ?? p.opsPort;
    if (!port) continue;
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    for (const m of text.matchAll(
      /seatmate_pipeline_stage_seconds_(sum|count)\{stage="([a-z_]+)"\} ([\d.e+-]+)/g,
    )) {
      const entry = stages.get(m[2]!) ?? { sum: 0, count: 0 };
      if (m[1] === 'sum') entry.sum += Number(m[3]);
      else entry.count += Number(m[3]);
      stages.set(m[2]!, entry);
    }
    const gauge = (name: string) =>
      Number(new RegExp(`^${name} ([\\d.e+-]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
    const gc = new Map<string, number>();
    for (const m of text.matchAll(/^nodejs_gc_duration_seconds_sum\{kind="(\w+)"\} ([\d.e+-]+)/gm))
      gc.set(m[1]!, Number(m[2]));
    loops.set(p.name, {
      p99: gauge('nodejs_eventloop_lag_p99_seconds'),
      max: gauge('nodejs_eventloop_lag_max_seconds'),
      gc,
    });
  }
  return { stages, loops };
}

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! : NaN;
const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)}` : '-');

console.log(
  `bench:pipeline — ${SHOPS} shops, ${AGENTS} agents with SSE open, ${seconds} s per rate, processes: ${procs.map((p) => p.name).join(', ')}, WORKER_CONCURRENCY ${values.concurrency}, ${clusterNodes ? `Redis Cluster of ${statsNodes.length} masters, INBOUND_PARTITIONS ${partitions}` : 'one Redis'}${values.redis || values['cluster-nodes'] ? '' : ' (AOF everysec)'}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}\n`,
);
/**
 * Bare BullMQ at each rate, before the service's steps (its processes idle meanwhile): Redis
 * commands, Redis CPU and the worker's process CPU per job, to read the service's own figures
 * against on this machine.
 */
const baselineRedisUs = new Map<number, number>();
if (values.baseline) {
  // The service's own worker connection (src/shared/redis.ts), to one Redis or the Cluster.
  const target = loadConfig(
    clusterNodes ? { REDIS_CLUSTER_NODES: clusterNodes } : { REDIS_URL: redisUrl },
  );
  const connect = () => workerConnection(target);
  for (const rate of new Set(rates)) {
    const before = await redisCounters();
    const result = await runBullmqBaseline({
      connect,
      rate,
      seconds,
      drainSeconds,
      concurrency: Number(values.concurrency),
      data: () => JSON.parse(webhook({ id: 'shop', secret: 'whsec_AAAA' }, rate).body),
    });
    const after = await redisCounters();
    let calls = 0;
    for (const [name, now] of after.commands)
      calls += now.calls - (before.commands.get(name)?.calls ?? 0);
    const redisUs = ((after.cpuSeconds - before.cpuSeconds) * 1e6) / Math.max(1, result.jobs);
    baselineRedisUs.set(rate, redisUs);
    console.log(
      `baseline, bare BullMQ at ${rate} jobs/s: ${result.jobs}/${Math.round(rate * seconds)} completed; add → completed p50 ${ms(result.p50)} ms p99 ${ms(result.p99)} ms; Redis per job: ${(calls / Math.max(1, result.jobs)).toFixed(1)} commands, ${redisUs.toFixed(0)} µs CPU; adding and working process CPU per job: ${result.processUs.toFixed(0)} µs`,
    );
    await sleep(1000);
  }
  console.log('');
}

const rows: string[] = [];
let serial = 0;
const steps = [
  ...(warmupSeconds > 0 ? [{ rate: rates[0]!, seconds: warmupSeconds, warmup: true }] : []),
  ...rates.map((rate) => ({ rate, seconds, warmup: false })),
];
for (const step of steps) {
  const { rate } = step;
  const stepSent = new Map<string, number>();
  const resentBefore = resent;
  const acks: number[] = [];
  const statuses = new Map<number, number>();
  /** Requests that got no answer, by error code. */
  const errors = new Map<string, number>();
  const scriptShares = values['script-shares'];
  if (scriptShares) await startScriptShares(statsNodes.map((node) => node.redis));
  const before = await redisCounters();
  const cpuBefore = procs.map((p) => cpuSeconds(p.child.pid));
  // This benchmark is the load generator (webhooks, signatures, the agents' streams): it shares
  // the machine's cores with the service and Redis, so its own CPU is part of the budget too.
  const generatorBefore = process.cpuUsage();
  // Its own event loop's lag and pauses: a suggestion read late is timed late.
  const generatorLag = monitorEventLoopDelay({ resolution: 1 });
  generatorLag.enable();
  let generatorGcMs = 0;
  let generatorGcMaxMs = 0;
  const generatorGc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      generatorGcMs += entry.duration;
      generatorGcMaxMs = Math.max(generatorGcMaxMs, entry.duration);
    }
  });
  generatorGc.observe({ entryTypes: ['gc'] });
  const stolenBefore = stolenSeconds();
  const metricsBefore = await processMetrics();
  const rssPeak = new Map<string, number>();
  const sampler = setInterval(() => {
    for (const p of procs)
      rssPeak.set(p.name, Math.max(rssPeak.get(p.name) ?? 0, rssMb(p.child.pid)));
    for (const node of statsNodes)
      rssPeak.set(node.name, Math.max(rssPeak.get(node.name) ?? 0, rssMb(node.pid)));
  }, 250);
  const total = Math.round(rate * step.seconds);
  const start = performance.now();
  // Requests in flight are counted, not kept: a step's 15,000 settled promises held to its end
  // were promoted and made the generator's own full collections, whose marking took a third of a
  // core for half a second mid-step, CPU the service under test needed.
  let inflight = 0;
  let allAnswered = () => {};
  let issued = 0;
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    while (issued < due) {
      const n = serial++;
      const shop = shops[n % SHOPS]!;
      const port = apis[n % apis.length]!.port!;
      const { id, body, headers } = webhook(shop, Math.floor(n / SHOPS));
      const t0 = performance.now();
      stepSent.set(id, t0);
      issued++;
      inflight++;
      void post(port, `/webhooks/generic/${shop.id}`, body, headers).then((res) => {
        acks.push(performance.now() - t0);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 0) errors.set(res.text, (errors.get(res.text) ?? 0) + 1);
        if (--inflight === 0) allAnswered();
      });
    }
    await sleep(2);
  }
  const sendSeconds = (performance.now() - start) / 1000;
  if (inflight > 0)
    await new Promise<void>((resolve) => {
      allAnswered = resolve;
    });
  const drainDeadline = performance.now() + drainSeconds * 1000;
  while (performance.now() < drainDeadline) {
    let missing = 0;
    for (const id of stepSent.keys()) if (!suggestedAt.has(id)) missing++;
    if (missing === 0) break;
    await sleep(100);
  }
  clearInterval(sampler);
  const after = await redisCounters();
  const shares = scriptShares ? await readScriptShares(statsNodes.map((node) => node.redis)) : null;
  const cpuAfter = procs.map((p) => cpuSeconds(p.child.pid));
  const generator = process.cpuUsage(generatorBefore);
  generatorLag.disable();
  generatorGc.disconnect();
  const stolen = stolenSeconds() - stolenBefore;
  const metricsAfter = await processMetrics();
  const latencies: number[] = [];
  let missing = 0;
  for (const [id, t0] of stepSent) {
    const t1 = suggestedAt.get(id);
    if (t1 === undefined) missing++;
    else latencies.push(t1 - t0);
    // Nothing reads a past step's arrivals: the generator's heap stays one step's size.
    suggestedAt.delete(id);
  }
  latencies.sort((a, b) => a - b);
  acks.sort((a, b) => a - b);
  let calls = 0;
  let usec = 0;
  const perCommand: Array<[string, number, number]> = [];
  for (const [name, now] of after.commands) {
    const was = before.commands.get(name) ?? { calls: 0, usec: 0 };
    calls += now.calls - was.calls;
    usec += now.usec - was.usec;
    if (now.calls > was.calls) perCommand.push([name, now.calls - was.calls, now.usec - was.usec]);
  }
  const n = stepSent.size;
  const stageText = ['queue_wait', 'store', 'meter', 'assign', 'assist', 'publish']
    .map((stage) => {
      const a = metricsAfter.stages.get(stage);
      const b = metricsBefore.stages.get(stage) ?? { sum: 0, count: 0 };
      if (!a || a.count === b.count) return `${stage} -`;
      return `${stage} ${(((a.sum - b.sum) / (a.count - b.count)) * 1000).toFixed(1)}`;
    })
    .join(', ');
  const ok = statuses.get(200) ?? 0;
  console.log(
    `${step.warmup ? `warm-up, ${step.seconds} s, not in the table: ` : ''}${rate} msg/s offered (${(n / sendSeconds).toFixed(0)} sent/s): ${ok}/${n} acked 200${[
      ...statuses,
    ]
      .filter(([s]) => s !== 200)
      .map(([s, c]) => `, ${c}× ${s || `error (${[...errors.keys()].join(', ')})`}`)
      .join('')}${
      resent > resentBefore
        ? ` (${resent - resentBefore} sent again: keep-alive socket closed)`
        : ''
    }; ack p50 ${ms(pct(acks, 50))} ms p99 ${ms(pct(acks, 99))} ms; suggestion p50 ${ms(pct(latencies, 50))} ms p99 ${ms(pct(latencies, 99))} ms max ${ms(latencies.at(-1) ?? NaN)} ms, ${missing} missing`,
  );
  console.log(`  stage means (ms): ${stageText}`);
  const generatorLoop = `the load generator lag p99 ${(generatorLag.percentile(99) / 1e6).toFixed(0)} ms, max ${(generatorLag.max / 1e6).toFixed(0)} ms, garbage collection ${generatorGcMs.toFixed(0)} ms in all, longest ${generatorGcMaxMs.toFixed(0)} ms`;
  console.log(
    `  event loop over the step: ${[...metricsAfter.loops]
      .map(([name, loop]) => {
        const was = metricsBefore.loops.get(name)?.gc ?? new Map<string, number>();
        const gc = [...loop.gc]
          .map(([kind, s]) => `${kind} ${(((s - (was.get(kind) ?? 0)) * 1e6) / n).toFixed(0)}`)
          .join(', ');
        return `${name} lag p99 ${(loop.p99 * 1000).toFixed(0)} ms, max ${(loop.max * 1000).toFixed(0)} ms, garbage collection per message (µs) ${gc}`;
      })
      .join('; ')}; ${generatorLoop}`,
  );
  console.log(
    `  Redis per message: ${(calls / n).toFixed(1)} commands, ${(usec / n).toFixed(0)} µs in commands, ${(((after.cpuSeconds - before.cpuSeconds) * 1e6) / n).toFixed(0)} µs CPU, ${((after.bytesIn - before.bytesIn) / n / 1024).toFixed(1)} KB in, ${((after.bytesOut - before.bytesOut) / n / 1024).toFixed(1)} KB out, ${((after.reads - before.reads) / n).toFixed(1)} socket reads and ${((after.writes - before.writes) / n).toFixed(1)} writes`,
  );
  if (statsNodes.length > 1)
    console.log(
      `  Redis CPU per message by node (µs): ${statsNodes
        .map(
          (node, i) =>
            `${node.name} ${(((after.cpuByNode[i]! - before.cpuByNode[i]!) * 1e6) / n).toFixed(0)}`,
        )
        .join(', ')}`,
    );
  console.log(
    `  top commands per message: ${perCommand
      .sort((a, b) => b[1] - a[1])
      .filter(([, c]) => c / n >= 0.05)
      .map(([name, c, u]) => `${name} ${(c / n).toFixed(1)} (${(u / n).toFixed(0)} µs)`)
      .join(', ')}`,
  );
  const redisCpuUs = ((after.cpuSeconds - before.cpuSeconds) * 1e6) / n;
  const baseline = baselineRedisUs.get(rate);
  const againstBaseline = baseline ? `${(redisCpuUs / baseline).toFixed(2)}×` : '';
  if (baseline)
    console.log(
      `  Redis CPU per message against a bare BullMQ job at this rate: ${againstBaseline}`,
    );
  if (shares) console.log(`  Redis time by script and command: ${formatScriptShares(shares)}`);
  const serviceUs = procs.map((_, i) => ((cpuAfter[i]! - cpuBefore[i]!) * 1e6) / n);
  const generatorUs = (generator.user + generator.system) / n;
  console.log(
    `  process CPU per message (µs): ${procs
      .map((p, i) => `${p.name} ${serviceUs[i]!.toFixed(0)}`)
      .join(', ')}; the load generator ${generatorUs.toFixed(0)}`,
  );
  // Cores the offered rate needs at these costs (service, Redis and generator): past the
  // machine's count, the step cannot keep up whatever the code's latency.
  const cores = ((serviceUs.reduce((a, b) => a + b, 0) + redisCpuUs + generatorUs) * rate) / 1e6;
  // A virtual machine's host may run other guests on its cores meanwhile: that time is not
  // ours, and a step that had some ran on fewer cores than it counted.
  console.log(
    `  cores this rate needs at these costs: ${cores.toFixed(2)} of ${os.availableParallelism()}; CPU time taken by the host meanwhile: ${stolen.toFixed(1)} s`,
  );
  console.log(
    `  peak RSS (MB): ${[...rssPeak].map(([name, mb]) => `${name} ${mb.toFixed(0)}`).join(', ')}`,
  );
  if (!step.warmup)
    rows.push(
      `| ${rate} | ${ok}/${n} | ${ms(pct(acks, 50))} / ${ms(pct(acks, 99))} | ${ms(pct(latencies, 50))} / ${ms(pct(latencies, 99))} | ${missing} | ${(calls / n).toFixed(0)} | ${redisCpuUs.toFixed(0)}${againstBaseline ? ` (${againstBaseline})` : ''} | ${Math.max(...[...rssPeak].filter(([k]) => !k.startsWith('redis')).map(([, v]) => v)).toFixed(0)} |`,
    );
  await sleep(2000);
}

console.log(
  `\n| offered msg/s | acked 200 | ack p50 / p99 ms | suggestion p50 / p99 ms | missing | Redis cmds/msg | Redis CPU µs/msg${values.baseline ? ' (× a bare BullMQ job)' : ''} | max RSS MB |`,
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const row of rows) console.log(row);

for (const req of streams) req.destroy();
await Promise.all([...pools.values()].map((pool) => pool.close()));
await Promise.all(
  procs.map(
    (p) =>
      new Promise<void>((resolve) => {
        p.child.once('exit', () => resolve());
        p.child.kill('SIGTERM');
        setTimeout(() => p.child.kill('SIGKILL'), 20_000).unref();
      }),
  ),
);
for (const node of statsNodes) node.redis.disconnect();
await redisServer?.stop();
await privateCluster?.stop();
fs.rmSync(dir, { recursive: true, force: true });
