// One HTTP server for the ingest benchmark, in its own process so the load
// generator does not share its event loop. `seatmate` is the real service
// (API only); `naive` is a minimal Koa handler that only does queue.add.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import Koa from 'koa';
import { buildContainer } from '../../src/app/container';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/shared/logger';

// Exit cleanly on SIGINT so --cpu-prof can write its profile.
process.on('SIGINT', () => process.exit(0));
// The benchmark that forked this one is gone (it failed, or was stopped): so is this server.
process.on('disconnect', () => process.exit(0));

const [mode, redisUrl, port, prefix] = process.argv.slice(2) as [string, string, string, string];

if (mode === 'seatmate') {
  const config = loadConfig({
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    PORT: port,
    LOG_LEVEL: 'silent',
    WEBHOOK_RATE_PER_MINUTE: '1000000',
    // bench:assist measures suggestions as the service drafts them (auto by default);
    // bench:ingest, which drafts none, turns the thread off.
    ASSIST_THREAD: process.env.ASSIST_THREAD,
  });
  const container = await buildContainer(config, {
    adminToken: process.env.ADMIN_TOKEN!,
    secretsKey: 'bench-secrets-key-0123456789abcdef0123',
    logger: createLogger('silent'),
  });
  await container.listen(Number(port), '127.0.0.1');
  process.send?.('ready');
} else {
  const queue = new Queue('inbound', {
    connection: new Redis(redisUrl, { maxRetriesPerRequest: 1 }),
    prefix: `{${prefix}-naive}`,
  });
  const app = new Koa();
  app.use(async (ctx) => {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    await queue.add('message', body, {
      removeOnComplete: true,
      jobId: `n${randomBytes(8).toString('hex')}`,
    });
    ctx.body = { ok: true };
  });
  app.listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
}
