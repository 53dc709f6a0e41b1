// `npm run bench:ingest`: drives signed generic webhooks at Seatmate's real
// ingest (verify, rate-limit, dedupe, durable enqueue) and at a naive Koa
// handler that only calls queue.add, against the same private Redis, and
// prints accepted messages per second and ack latency for both.
// BENCH_CPU_PROF=dir writes a CPU profile per server; BENCH_NODE_FLAGS adds Node
// flags to Seatmate's own (scripts/lib/node-flags.mjs).
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { signStandardWebhook } from '../src/platforms/generic/standard-webhooks';
// @ts-expect-error plain .mjs shared with `npm start`
import { buildBundle } from './lib/build-service.mjs';
import { readOptions, wholeNumber } from './lib/cli-options';
// @ts-expect-error plain .mjs shared with `npm start`
import { SERVICE_NODE_FLAGS } from './lib/node-flags.mjs';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort, startRedis } from './lib/redis-server.mjs';

const USAGE = 'npm run bench:ingest -- [--seconds 10] [--connections 50] [--rounds 3]';
const values = readOptions(USAGE, {
  seconds: { type: 'string', default: '10' },
  connections: { type: 'string', default: '50' },
  rounds: { type: 'string', default: '3' },
});
const seconds = wholeNumber('seconds', values.seconds, { min: 1, max: 600 }, USAGE);
const rounds = wholeNumber('rounds', values.rounds, { min: 1, max: 50 }, USAGE);
const connections = wholeNumber('connections', values.connections, { min: 1, max: 1000 }, USAGE);
const ADMIN = `adm_${randomBytes(16).toString('hex')}`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-bench-'));
// Same persistence as production: append-only file, fsync every second.
const redis = await startRedis({ port: await freePort(), dir, persist: true });
// A failed run leaves no Redis behind (the servers leave when their channel to this one closes).
process.on('exit', () => redis.child.kill('SIGKILL'));

const extraFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
// Both servers run compiled, as `npm start` runs the service (scripts/lib/build-service.mjs).
const serverScript: string = await buildBundle(
  path.resolve('scripts/bench/ingest-server.ts'),
  path.resolve('dist/bench-ingest-server.mjs'),
);

async function server(mode: 'seatmate' | 'naive') {
  const port = await freePort();
  const child = fork(serverScript, [mode, redis.url, String(port), `bench${mode}`], {
    execArgv: [
      // Seatmate runs with the service's own V8 flags, as `npm start` runs it, plus any in
      // BENCH_NODE_FLAGS (as in bench:pipeline); the naive handler with Node's defaults.
      ...(mode === 'seatmate' ? [...SERVICE_NODE_FLAGS, ...extraFlags] : []),
      ...(process.env.BENCH_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
    ],
    // Ingest drafts no suggestion: no assist thread (its script is built with the service's
    // build, not this bundle's).
    env: { ...process.env, ADMIN_TOKEN: ADMIN, ASSIST_THREAD: 'false' },
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () => child.kill(process.env.BENCH_CPU_PROF ? 'SIGINT' : 'SIGKILL'),
  };
}

function messageBody(): { id: string; body: string } {
  const id = `msg_${randomUUID()}`;
  const body = JSON.stringify({
    type: 'message',
    data: {
      messageId: id,
      buyer: { id: `buyer-${Math.floor(Math.random() * 5000)}` },
      from: 'buyer',
      text: '您好，这款有灰色吗？',
      sentAt: new Date().toISOString(),
    },
  });
  return { id, body };
}

/** CPU seconds (user + system) a process has used so far, from /proc (100 ticks a second). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The machine's idle and total CPU ticks so far, from /proc/stat (all cores). */
function machineTicks(): { idle: number; total: number } {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
  const ticks = fields.map(Number);
  // idle + iowait: time no process wanted the CPU.
  return { idle: ticks[3]! + (ticks[4] ?? 0), total: ticks.reduce((a, b) => a + b, 0) };
}

// Both targets get the same signed requests (the naive handler ignores the
// headers), so the load generator does the same work for each.
async function drive(url: string, serverPid: number | undefined, shopId?: string) {
  await resetRedis();
  const target = shopId ? `${url}/webhooks/generic/${shopId}` : `${url}/ingest`;
  const cpu = () => [cpuSeconds(serverPid), cpuSeconds(redis.child.pid), cpuSeconds(process.pid)];
  const cpuBefore = cpu();
  const ticksBefore = machineTicks();
  const bytesBefore = await redisBytesIn();
  const result = await autocannon({
    url: target,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const { id, body } = messageBody();
          const ts = Math.floor(Date.now() / 1000);
          const headers = {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(ts),
            'webhook-signature': signStandardWebhook(secret, id, ts, body),
          };
          return { ...request, headers, body };
        },
      },
    ],
  });
  const ok = result['2xx'];
  const ticks = machineTicks();
  // What the server sent Redis per accepted message (commands and their arguments).
  const redisBytes = ok ? ((await redisBytesIn()) - bytesBefore) / ok : 0;
  // The share of the machine left idle: a closed loop bound by waiting, not by CPU, shows here
  // (docs/architecture.md, "Round thirteen").
  const idle = (ticks.idle - ticksBefore.idle) / Math.max(1, ticks.total - ticksBefore.total);
  // CPU per accepted message of the server, of Redis, of the load generator (µs).
  const [server, redisCpu, generator] = cpu().map((after, i) =>
    ok ? ((after - cpuBefore[i]!) * 1e6) / ok : 0,
  ) as [number, number, number];
  return {
    cpu: { server, redis: redisCpu, generator },
    idle,
    redisBytes,
    perSecond: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    errors: result.non2xx + result.errors,
    duration: result.duration,
  };
}

console.log(
  `bench:ingest — ${connections} connections, ${rounds} alternating rounds of ${seconds} s per target, Redis with AOF everysec, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}\n`,
);
const seatmate = await server('seatmate');
const naive = await server('naive');
const shop = await fetch(`${seatmate.url}/v1/shops`, {
  method: 'POST',
  headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'Bench', platform: 'generic' }),
}).then((r) => r.json() as Promise<{ id: string; webhookSecret: string }>);
const secret = shop.webhookSecret;

// Every round starts from the same Redis: the keys set up so far (the shop, its secret, the
// queues' meta), an AOF just rewritten, no rewrite pending. Otherwise each round inherits the
// jobs the rounds before it queued (nothing consumes them here), and an AOF rewrite, which
// forks and copies the whole dataset, lands on whichever target runs when the file crosses
// its threshold; that decided the rounds more than the servers did.
const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
const setup = new Map<string, Buffer>();
for (const key of await admin.keys('*')) {
  const dumped = await admin.dumpBuffer(key);
  if (dumped) setup.set(key, dumped);
}
async function redisBytesIn(): Promise<number> {
  return Number(/total_net_input_bytes:(\d+)/.exec(await admin.info('stats'))?.[1] ?? 0);
}
async function aofRewriteDone() {
  for (;;) {
    const info = await admin.info('persistence');
    if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
async function resetRedis() {
  await aofRewriteDone();
  await admin.flushall();
  for (const [key, dumped] of setup) await admin.restore(key, 0, dumped, 'REPLACE');
  // Redis may have started one of its own since the wait above (the AOF grew past its
  // threshold): that one leaves the file just as rewritten.
  await admin.bgrewriteaof().catch((error: Error) => {
    if (!/already in progress/i.test(error.message)) throw error;
  });
  await aofRewriteDone();
}

// Warm-up runs are discarded; then the two alternate so drift on a shared
// 2-core machine hits both alike, and the median round of each is reported.
const warm = [await drive(seatmate.url, seatmate.pid, shop.id), await drive(naive.url, naive.pid)];
console.log(`warm-up: Seatmate ${warm[0]!.ok} acked, naive ${warm[1]!.ok} acked`);
const real: Awaited<ReturnType<typeof drive>>[] = [];
const baseline: Awaited<ReturnType<typeof drive>>[] = [];
for (let round = 1; round <= rounds; round++) {
  real.push(await drive(seatmate.url, seatmate.pid, shop.id));
  baseline.push(await drive(naive.url, naive.pid));
  const cpu = (r: (typeof real)[number]) =>
    `CPU µs/msg server ${r.cpu.server.toFixed(0)}, Redis ${r.cpu.redis.toFixed(0)}, generator ${r.cpu.generator.toFixed(0)}; Redis in ${r.redisBytes.toFixed(0)} B/msg; machine ${(r.idle * 100).toFixed(0)}% idle`;
  console.log(
    `round ${round}: Seatmate ${real.at(-1)!.perSecond.toFixed(0)} msg/s (${cpu(real.at(-1)!)}), naive ${baseline.at(-1)!.perSecond.toFixed(0)} msg/s (${cpu(baseline.at(-1)!)})`,
  );
}
seatmate.stop();
naive.stop();
admin.disconnect();
await redis.stop();
fs.rmSync(dir, { recursive: true, force: true });

const median = (runs: typeof real) =>
  [...runs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(runs.length / 2)]!;
const row = (name: string, r: (typeof real)[number]) =>
  `${name.padEnd(34)} ${r.perSecond.toFixed(0).padStart(8)} msg/s   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(4)} ms   (${r.ok} acked, ${r.errors} non-2xx/errors)   CPU µs/msg: server ${r.cpu.server.toFixed(0)}, Redis ${r.cpu.redis.toFixed(0)}; machine ${(r.idle * 100).toFixed(0)}% idle`;
const ours = median(real);
const theirs = median(baseline);
console.log('\nmedian round:');
console.log(row('Seatmate (verify+dedupe+enqueue)', ours));
console.log(row('naive Koa handler (queue.add only)', theirs));
console.log(
  `\nratio Seatmate / naive: ${(ours.perSecond / theirs.perSecond).toFixed(2)} (load at the end ${os.loadavg()[0]!.toFixed(2)})`,
);
