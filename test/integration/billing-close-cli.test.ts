import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock';
import { monthOf, previousMonth } from '../../src/shared/shop-calendar';
import { drained, traffic } from '../support/billing-traffic';
import { ADMIN_TOKEN, type Harness, startHarness } from '../support/harness';

// The CLI runs on the real clock: close a month that ended two months ago, whatever today is.
const MONTH = previousMonth(previousMonth(monthOf(Date.now(), 'Asia/Shanghai')));
let h: Harness;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-close-cli-'));
beforeAll(async () => {
  h = await startHarness({ clock: new ManualClock(Date.parse(`${MONTH}-05T12:00:00+08:00`)) });
});
afterAll(async () => {
  await h.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function runCli(
  month: string,
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    path.resolve('node_modules/.bin/tsx'),
    ['scripts/billing-close.ts', '--month', month],
    {
      env: {
        ...process.env,
        REDIS_URL: inject('redisUrl'),
        REDIS_PREFIX: h.container.config.REDIS_PREFIX,
        ADMIN_TOKEN,
        SECRETS_KEY: 'test-secrets-key-0123456789abcdef0123',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('npm run billing:close', () => {
  it('closes an ended month with a progress line on stderr and the report on stdout, then changes nothing', async () => {
    const shop = await h.createGenericShop({
      plan: { model: 'dedicated_seat', seats: 1, monthlyFenPerSeat: 600_000 },
    });
    await traffic(h, shop).buyer('b1', `${MONTH}-06T10:00:00+08:00`);
    await drained(h);
    const first = await runCli(MONTH);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      month: MONTH,
      shops: 1,
      closed: 1,
      totalFen: 600_000,
    });
    expect(first.stderr).toContain(`closing ${MONTH} 1/1`);
    expect((await h.api(`/v1/shops/${shop.id}/invoices/${MONTH}`)).body).toMatchObject({
      status: 'final',
      totalFen: 600_000,
    });

    const second = await runCli(MONTH);
    expect(JSON.parse(second.stdout)).toMatchObject({ closed: 0, alreadyClosed: 1 });
    // The close is in the operators' audit log, by the command line.
    const audit = await h.api('/v1/audit-log?actor=cli&from=2000-01-01&to=2100-01-01');
    expect(
      audit.body.entries.map((e: { action: string; details: { closed: number } }) => [
        e.action,
        e.details.closed,
      ]),
    ).toEqual([
      ['billing.close', 0],
      ['billing.close', 1],
    ]);
  }, 60_000);

  it('refuses a month that has not ended, with a clear message', async () => {
    const result = await runCli('2099-01');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('month_not_ended: 2099-01 has not ended yet');
  }, 30_000);

  it("run with another DATA_DIR than the service's, it makes no secrets key of its own and says which to use", async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'seatmate-close-cli-other-'));
    try {
      const result = await runCli(MONTH, { SECRETS_KEY: undefined, DATA_DIR: elsewhere });
      expect(result.code).toBe(78);
      expect(result.stderr).toContain(
        `${path.join(elsewhere, 'secrets.key')} does not exist and SECRETS_KEY is unset: run this with the service's DATA_DIR`,
      );
      expect(result.stderr).not.toContain('    at ');
      expect(fs.readdirSync(elsewhere)).toEqual([]);
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  }, 30_000);

  it('with another secrets key, lists the shops it cannot open with what to do and exits 1', async () => {
    const shop = await h.createGenericShop({
      plan: { model: 'dedicated_seat', seats: 1, monthlyFenPerSeat: 600_000 },
    });
    const result = await runCli(previousMonth(MONTH), {
      SECRETS_KEY: 'another-secrets-key-0123456789abcdef',
      LOG_LEVEL: undefined,
    });
    expect(result.code).toBe(1);
    const failed = JSON.parse(result.stdout).failed as Array<{ shopId: string; message: string }>;
    expect(failed.find((f) => f.shopId === shop.id)?.message).toContain(
      "SECRETS_KEY (or DATA_DIR/secrets.key) is not the key they were saved with. Run it with the service's SECRETS_KEY or DATA_DIR.",
    );
    expect(result.stderr).toContain(`failed ${shop.id}: A shop's stored platform secrets`);
    // Lines a person reads, not the service's JSON log with a stack per shop.
    expect(result.stderr).not.toContain('"level"');
    expect(result.stderr).not.toContain('    at ');
  }, 30_000);
});
