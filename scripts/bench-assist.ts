// `npm run bench:assist`: latency of POST /v1/assist/suggest through the real
// HTTP API (auth, validation, the assistant, JSON), one request at a time, over
// the locked test split's conversations, against a private Redis. Prints
// p50/p99 per request as the client sees it. The server runs in its own process.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { loadCorpus } from '../src/assist/corpus';
import { readOptions, wholeNumber } from './lib/cli-options';
// @ts-expect-error plain .mjs shared with `npm start`
import { freePort, startRedis } from './lib/redis-server.mjs';

const USAGE = 'npm run bench:assist -- [--rounds 5]';
const values = readOptions(USAGE, { rounds: { type: 'string', default: '5' } });
const rounds = wholeNumber('rounds', values.rounds, { min: 1, max: 100 }, USAGE);
const ADMIN = `adm_${randomBytes(16).toString('hex')}`;
const dir = fs.mkdtempSync(path.join(tmpdir(), 'seatmate-bench-assist-'));
const redis = await startRedis({ port: await freePort(), dir, persist: false });
const port = await freePort();
const child = fork(
  path.resolve('scripts/bench/ingest-server.ts'),
  ['seatmate', redis.url, String(port), 'benchassist'],
  { execArgv: ['--import', 'tsx'], env: { ...process.env, ADMIN_TOKEN: ADMIN } },
);
await new Promise<void>((resolve, reject) => {
  child.once('message', () => resolve());
  child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
});

const items = loadCorpus()
  .filter((b) => b.split === 'test')
  .flatMap((b) => b.items);
const url = `http://127.0.0.1:${port}/v1/assist/suggest`;
async function post(history: unknown): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ history }),
  });
  await res.json();
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  return performance.now() - started;
}

try {
  for (const item of items) await post(item.input.history); // warm-up
  const times: number[] = [];
  const fastest = new Map<string, number>();
  for (let r = 0; r < rounds; r += 1)
    for (const item of items) {
      const ms = await post(item.input.history);
      times.push(ms);
      fastest.set(item.id, Math.min(fastest.get(item.id) ?? Infinity, ms));
    }
  const pct = (sorted: number[], p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  const sorted = times.sort((a, b) => a - b);
  const best = [...fastest.values()].sort((a, b) => a - b);
  console.log(
    `POST /v1/assist/suggest, ${items.length} test-split conversations x ${rounds} rounds, one at a time`,
  );
  console.log(
    `all requests:              p50 ${pct(sorted, 50).toFixed(2)} ms, p99 ${pct(sorted, 99).toFixed(2)} ms`,
  );
  console.log(
    `each conversation's best:  p50 ${pct(best, 50).toFixed(2)} ms, p99 ${pct(best, 99).toFixed(2)} ms`,
  );
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${(await import('node:os')).cpus().length} cores`,
  );
} finally {
  child.kill('SIGKILL');
  await redis.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
