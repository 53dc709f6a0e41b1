// `npm run billing:close -- --month YYYY-MM`: finalises every shop's invoice
// for a month that has ended, against the Redis in REDIS_URL. Safe to run
// again: closed shops are skipped, a run that crashed finishes the rest.
// Progress goes to stderr, the JSON report to stdout.
import { buildContainer } from '../src/app/container';
import { MissingLocalSecretError, resolveLocalSecrets } from '../src/app/local-secrets';
import { ConfigError, loadConfig } from '../src/config/config';
import { AppError } from '../src/shared/errors';
import { createLogger } from '../src/shared/logger';
import { readOptions, usageError } from './lib/cli-options';
import { progressBar } from './lib/progress-bar';

const USAGE = 'npm run billing:close -- --month YYYY-MM';
const values = readOptions(USAGE, { month: { type: 'string' } });
if (!values.month) usageError('--month is required', USAGE);

try {
  // The report and one line per skipped or failed shop say it all; the service's JSON log lines
  // (a stack per failed shop) only with LOG_LEVEL set.
  const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL || 'fatal' });
  // The service's secrets key opens the shops; a new one made here would open none.
  const secrets = resolveLocalSecrets(config, { create: false });
  const container = await buildContainer(config, {
    adminToken: secrets.adminToken,
    secretsKey: secrets.secretsKey,
    logger: createLogger(config.LOG_LEVEL),
  });
  try {
    const bar = progressBar(`closing ${values.month}`);
    const report = await container.billing.monthClose.close(values.month, {
      onProgress: (done, total) => bar.update(done, total),
    });
    // Whoever holds the shell is the desk owner here: the close is an operator action like any other.
    await container.audit.record({
      actor: { id: 'cli', name: 'npm run billing:close', role: 'admin' },
      action: 'billing.close',
      details: {
        month: report.month,
        closed: report.closed,
        alreadyClosed: report.alreadyClosed,
        skipped: report.skipped.length,
        failed: report.failed.length,
      },
    });
    console.log(JSON.stringify(report, null, 2));
    for (const skip of report.skipped) console.error(`skipped ${skip.shopId}: ${skip.message}`);
    for (const failure of report.failed)
      console.error(`failed ${failure.shopId}: ${failure.message}`);
    // A cron job or a shell script must see that some invoices were not written.
    if (report.failed.length > 0) process.exitCode = 1;
  } finally {
    await container.close();
  }
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    if (error.problems.some((p) => p.startsWith('REDIS_URL')))
      console.error(
        'Point REDIS_URL at the service Redis (npm start embeds one at redis://127.0.0.1:6390).',
      );
    process.exit(78);
  }
  if (error instanceof MissingLocalSecretError) {
    console.error(error.message);
    process.exit(78);
  }
  if (error instanceof AppError) {
    console.error(`${error.code}: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
