import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig, withoutPassword } from '../config/config';
import { createLogger, loggableError } from '../shared/logger';
import { redisDurabilityWarnings } from '../shared/redis';
import { buildContainer, closeServer, RedisNotReadyError } from './container';
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
  }).catch((error: Error) => {
    if (!(error instanceof RedisNotReadyError)) throw error;
    // Name the setting to fix; a URL's password stays hidden.
    const target = config.REDIS_CLUSTER_NODES
      ? `REDIS_CLUSTER_NODES: no Redis Cluster ready at ${config.REDIS_CLUSTER_NODES.map((node) => `${node.host}:${node.port}`).join(',')}`
      : `REDIS_URL: no Redis ready at ${withoutPassword(config.REDIS_URL ?? '')}`;
    throw new Error(`${target} (${error.message})`);
  });

  for (const warning of await redisDurabilityWarnings(container.redis))
    logger.warn({ warning }, 'redis may lose acknowledged data');

  let server: Server | undefined;
  // Installed before the banner: a supervisor's SIGTERM right after it must drain, not kill.
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
  if (role !== 'worker') {
    server = await container
      .listen(config.PORT, config.HOST)
      .catch((error: NodeJS.ErrnoException) => {
        throw new Error(listenProblem(error, config.PORT, config.HOST));
      });
    // PORT 0 is a port the kernel picks: show that one, not 0.
    const port = (server.address() as AddressInfo).port;
    logger.info({ port, role }, 'http listening');
    // Printed to the terminal (not the log) so a newcomer can use it at once.
    const base = `http://localhost:${port}`;
    console.log(
      [
        '',
        `Seatmate is up on ${base}`,
        ...(secrets.adminTokenSource === 'file'
          ? [`Admin token (kept in ${secrets.adminTokenFile}):`, `  ${secrets.adminToken}`]
          : ['Admin token: the ADMIN_TOKEN you set']),
        `Operator desk: ${base}/admin (sign in with the admin token; create shops and agents there,`,
        '  or with curl as in README.md, "Quick start")',
        '',
      ].join('\n'),
    );
  }
  if (role === 'worker' && config.OPS_PORT !== undefined) {
    // A worker-only process's metrics (job latency, failures, the pipeline's stages) and its
    // readiness exist nowhere else: served on their own port, without the API.
    server = await container
      .listenProbes(config.OPS_PORT, config.HOST)
      .catch((error: NodeJS.ErrnoException) => {
        throw new Error(listenProblem(error, config.OPS_PORT!, config.HOST, 'OPS_PORT'));
      });
    const port = (server.address() as AddressInfo).port;
    logger.info({ port, role }, 'probes and metrics listening');
  }
  if (role !== 'api') {
    container.startWorkers();
    logger.info({ concurrency: config.WORKER_CONCURRENCY }, 'workers started');
  }
}

function listenProblem(
  error: NodeJS.ErrnoException,
  port: number,
  host: string,
  setting: 'PORT' | 'OPS_PORT' = 'PORT',
): string {
  if (error.code === 'EADDRINUSE')
    return `${setting}: ${port} on ${host} is already in use (another Seatmate?); stop what listens there or set ${setting}`;
  if (error.code === 'EACCES')
    return `${setting}: ${port} needs privileges this user lacks; set ${setting} to 1024 or above and put a proxy in front`;
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
    return `HOST: ${host} is not an address of this machine; set HOST to one of its addresses, or 0.0.0.0`;
  return `cannot listen on ${host}:${port} (${error.message}); check ${setting} and HOST`;
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
