// `npm start` (and start:api / start:worker): install what is missing, start
// the embedded Redis under DATA_DIR when neither REDIS_URL nor
// REDIS_CLUSTER_NODES is set, run the service, and stop Redis after the
// service has shut down.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackage, ensureNodeModules } from './lib/ensure-setup.mjs';
import { SERVICE_NODE_FLAGS } from './lib/node-flags.mjs';
import { ping, startRedis } from './lib/redis-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const role = process.argv[2] ?? 'all';
if (!['all', 'api', 'worker'].includes(role)) {
  console.error(`unknown role '${role}': use all, api or worker`);
  process.exit(2);
}

ensureNodeModules();

const env = { ...process.env };
let redis;
if (!env.REDIS_URL && !env.REDIS_CLUSTER_NODES) {
  if (role !== 'all') {
    console.error(
      `start:${role} runs against a shared Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379) or REDIS_CLUSTER_NODES (host:port,host:port,...).`,
    );
    process.exit(2);
  }
  ensureDebianPackage('redis-server', 'redis-server');
  const dataDir = path.resolve(root, env.DATA_DIR ?? './data');
  const port = Number(env.EMBEDDED_REDIS_PORT ?? 6390);
  if (await ping(port)) {
    console.error(
      `[start] something already answers on 127.0.0.1:${port} (a Redis left from an earlier run?). Stop it, or set EMBEDDED_REDIS_PORT, or point REDIS_URL at it.`,
    );
    process.exit(1);
  }
  // Stopped by us after the service has drained, not by the terminal's Ctrl-C.
  redis = await startRedis({
    port,
    dir: path.join(dataDir, 'redis'),
    persist: true,
    detached: true,
  });
  env.REDIS_URL = redis.url;
  console.log(`[start] embedded Redis on ${redis.url}, data in ${path.join(dataDir, 'redis')}`);
}

// One process (no tsx wrapper in between), so signals reach the service directly.
const service = spawn(
  process.execPath,
  [...SERVICE_NODE_FLAGS, '--import', 'tsx', path.join(root, 'src', 'app', 'main.ts'), role],
  { stdio: 'inherit', env, cwd: root },
);

// The service handles SIGTERM/SIGINT itself (graceful drain); we only forward
// them and keep Redis up until it has finished.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => service.kill(signal));
}
service.on('exit', async (code, signal) => {
  if (redis) await redis.stop();
  process.exit(code ?? (signal ? 1 : 0));
});
