import type { Server } from 'node:http';
import { ConfigError, loadConfig } from '../config/config';
import { createLogger, loggableError } from '../shared/logger';
import { redisDurabilityWarnings } from '../shared/redis';
import { buildContainer, closeServer } from './container';
import { resolveLocalSecrets } from './local-secrets';

/** In-flight requests and jobs get this long to finish on SIGTERM/SIGINT. */
const SHUTDOWN_GRACE_MS = 25_000;

async function main(role: 'all' | 'api' | 'worker'): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.LOG_LEVEL);
  const secrets = resolveLocalSecrets(config);
  const container = await buildContainer(config, {
    adminToken: secrets.adminToken,
    secretsKey: secrets.secretsKey,
    logger,
  });

  for (const warning of await redisDurabilityWarnings(container.redis))
    logger.warn({ warning }, 'redis may lose acknowledged data');

  let server: Server | undefined;
  if (role !== 'worker') {
    server = await container.listen(config.PORT, config.HOST);
    logger.info({ port: config.PORT, role }, 'http listening');
    if (secrets.adminTokenSource === 'file') {
      // Printed to the terminal (not the log) so a newcomer can use it at once.
      console.log(
        `\nSeatmate is up on http://localhost:${config.PORT}\nAdmin token (kept in ${secrets.adminTokenFile}):\n  ${secrets.adminToken}\n`,
      );
    }
  }
  if (role !== 'api') {
    container.startWorkers();
    logger.info({ concurrency: config.WORKER_CONCURRENCY }, 'workers started');
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new requests, finishing in-flight work');
    const timer = setTimeout(() => {
      logger.error('graceful shutdown took longer than 25 s; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    // Event streams never end by themselves: close them first or the server waits forever.
    container.stopStreams();
    if (server) await closeServer(server, SHUTDOWN_GRACE_MS - 5000);
    await container.close();
    logger.info('stopped');
    process.exit(process.exitCode ?? 0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (error) => {
    // A bug, not an expected failure: log it and stop cleanly rather than run on in an unknown state.
    logger.fatal({ err: loggableError(error) }, 'unhandled rejection; shutting down');
    process.exitCode = 1;
    void shutdown('unhandledRejection');
  });
}

const role = (process.argv[2] ?? 'all') as 'all' | 'api' | 'worker';
main(role).catch((error) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  console.error(
    `Seatmate failed to start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
