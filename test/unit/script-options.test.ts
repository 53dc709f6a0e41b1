import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The npm scripts an operator types by hand refuse a bad option with one line and the usage
// (exit 2) before they start a Redis, a server or a load: never a stack trace, never a run
// on NaN. Each case stops in option checking, so no Redis or network is touched.
function run(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(path.resolve('node_modules/.bin/tsx'), [`scripts/${script}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1' },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

const cases: Array<[string, string[], RegExp]> = [
  ['bench-ingest.ts', ['--connections', 'abc'], /--connections must be a whole number from 1/],
  ['bench-ingest.ts', ['--rounds', '0'], /--rounds must be a whole number from 1 to 50/],
  ['bench-ingest.ts', ['--bogus'], /Unknown option '--bogus'/],
  ['bench-pipeline.ts', ['--rates', '100,,200'], /--rates must be whole numbers separated/],
  ['bench-pipeline.ts', ['--rates', '1000,1e3'], /--rates must be a whole number .*"1e3"/],
  ['bench-pipeline.ts', ['--seconds', '1.5'], /--seconds must be a whole number/],
  ['bench-pipeline.ts', ['--warmup-seconds', 'ten'], /--warmup-seconds must be a whole number/],
  ['bench-pipeline.ts', ['--cluster', '2'], /--cluster must be a whole number from 3/],
  ['bench-pipeline.ts', ['--redis', 'localhost'], /--redis must be a redis:\/\/ or rediss/],
  ['bench-pipeline.ts', ['--cluster', '3', '--redis', 'redis://x'], /give one of --redis/],
  ['bench-pipeline.ts', ['1000'], /Unexpected argument '1000'/],
  [
    'bench-pipeline.ts',
    ['--script-shares=yes'],
    /Option '--script-shares' does not take an argument/,
  ],
  ['bench-billing.ts', ['--shops=-5'], /--shops must be a whole number/],
  ['bench-media.ts', ['--bytes', '999999999'], /--bytes must be a whole number from 1 to 20000000/],
  ['bench-abuse.ts', ['--only', '1,x'], /--only must be a whole number from 1 to 9/],
  ['bench-assist.ts', ['--rounds', ''], /--rounds must be a whole number/],
  ['billing-close.ts', [], /--month is required/],
  ['eval-assist.ts', ['--split', 'blind11'], /--split must be train, test, blind or blind10/],
  ['eval-assist.ts', ['--limit', '0'], /--limit must be a whole number from 1/],
  ['send-test-message.ts', ['--shop', 'shp_1'], /--shop and --secret are required/],
];

describe('the npm scripts refuse bad options with the usage, before doing anything', () => {
  it.each(cases)('%s %j', async (script, args, message) => {
    const { code, out } = await run(script, args);
    expect(out).toMatch(message);
    expect(out).toMatch(/^usage: npm run /m);
    expect(out).not.toMatch(/^\s+at /m);
    expect(code).toBe(2);
  });

  it('prints the usage for --help and exits 0', async () => {
    const { code, out } = await run('bench-pipeline.ts', ['--help']);
    expect(out).toMatch(/^usage: npm run bench:pipeline -- \[--rates/);
    expect(code).toBe(0);
  });
});
