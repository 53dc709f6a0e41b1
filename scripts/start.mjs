// `npm start` (and start:api / start:worker): install what is missing, start
// the embedded Redis under DATA_DIR when neither REDIS_URL nor
// REDIS_CLUSTER_NODES is set, run the service, and stop Redis after the
// service has shut down.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildService } from './lib/build-service.mjs';
import { ensureDebianPackage, ensureNodeModules } from './lib/ensure-setup.mjs';
import { SERVICE_NODE_FLAGS } from './lib/node-flags.mjs';
import { ping, startRedis } from './lib/redis-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const role = process.argv[2] ?? 'all';
if (!['all', 'api', 'worker'].includes(role)) {
  console.error(`unknown role '${role}': use all, api or worker`);
  process.exit(2);
}

/** One line and out: what an operator reads is the problem, not our stack. */
function fail(message, code = 1) {
  console.error(`[start] ${message}`);
  process.exit(code);
}

// Installed before anything is started: a Ctrl-C while the embedded Redis is
// starting (its own process group, so the terminal's signal misses it) must
// not leave it running on the port for the next start to trip over.
let service;
let stopSignal;
/** Leaves as a stopped process does (130 for SIGINT, 143 for SIGTERM): the operator asked. */
function exitStopped() {
  process.exit(128 + (stopSignal === 'SIGINT' ? 2 : 15));
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // The service handles SIGTERM/SIGINT itself (graceful drain); we only
    // forward them and keep Redis up until it has finished.
    if (service) service.kill(signal);
    else stopSignal ??= signal;
  });
}

ensureNodeModules();

// Built before Redis starts: a source that does not compile stops here, with nothing to undo.
let bundle;
try {
  bundle = await buildService();
} catch (error) {
  // A Ctrl-C during the build reaches esbuild's own process too (our process group), and the
  // build fails with "The service was stopped": the operator asked to stop, not a broken source.
  if (stopSignal) exitStopped();
  const first = error.errors?.[0];
  const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
  fail(`the service could not be built: ${first?.text ?? error.message}${where}`);
}
// Stopped while building: leave before the embedded Redis is started only to be stopped again.
if (stopSignal) exitStopped();

const env = { ...process.env };
let redis;
let lockFile;
/** Whether `pid` is a live process whose command line mentions `name` (pids are reused). */
function alive(pid, name) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error.code === 'EPERM';
  }
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(name);
  } catch {
    return true; // no /proc: trust the signal check
  }
}

/**
 * Takes DATA_DIR for this run: two Redis servers on one append-only file
 * corrupt it, so a second `npm start` here is refused, whatever its port. A
 * Redis left by a run that was killed outright (its start script gone) is
 * stopped cleanly first, so its last writes reach the file.
 */
async function lockDataDir(dataDir) {
  lockFile = path.join(dataDir, 'start.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, JSON.stringify({ startPid: process.pid }), { flag: 'wx' });
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    let held = {};
    try {
      held = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
    } catch {}
    if (alive(held.startPid, 'start.mjs')) {
      lockFile = undefined;
      fail(
        `another npm start (pid ${held.startPid}${held.port ? `, Redis on port ${held.port}` : ''}) is running with DATA_DIR ${dataDir}. Stop it first, or set another DATA_DIR.`,
      );
    }
    // Its port too: after a reboot the pid may be another redis-server's, which is not ours to stop.
    // Its title ends with ":PORT" ("redis-server 127.0.0.1:6390"): not a prefix of another port.
    const redisName = held.port ? `:${held.port}\0` : 'redis-server';
    if (alive(held.redisPid, 'redis-server') && alive(held.redisPid, redisName)) {
      console.log(
        `[start] stopping the embedded Redis (pid ${held.redisPid}) left by an earlier run that was killed`,
      );
      process.kill(held.redisPid, 'SIGTERM');
      for (let i = 0; i < 100 && alive(held.redisPid, redisName); i++)
        await new Promise((r) => setTimeout(r, 100));
      if (alive(held.redisPid, redisName))
        fail(
          `the Redis left by an earlier run (pid ${held.redisPid}) did not stop; stop it yourself.`,
        );
    }
    fs.rmSync(lockFile, { force: true });
  }
  fail(`could not take ${lockFile}; is another npm start starting?`);
}

function unlockDataDir() {
  if (lockFile) fs.rmSync(lockFile, { force: true });
}

let redisStopped = false;
async function stopRedis() {
  redisStopped = true;
  const running = redis;
  redis = undefined;
  if (running) await running.stop();
  unlockDataDir();
}

if (!env.REDIS_URL && !env.REDIS_CLUSTER_NODES) {
  if (role !== 'all') {
    fail(
      `start:${role} runs against a shared Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379) or REDIS_CLUSTER_NODES (host:port,host:port,...).`,
      2,
    );
  }
  ensureDebianPackage('redis-server', 'redis-server');
  const dataDir = path.resolve(root, env.DATA_DIR || './data');
  const portText = env.EMBEDDED_REDIS_PORT || '6390';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
    fail(
      `EMBEDDED_REDIS_PORT: must be a whole number from 1 to 65535 (got ${JSON.stringify(portText)})`,
      78,
    );
  const redisDir = path.join(dataDir, 'redis');
  try {
    fs.mkdirSync(redisDir, { recursive: true });
    await lockDataDir(dataDir);
  } catch (error) {
    fail(
      `DATA_DIR ${dataDir} is not writable (${error.code ?? error.message}): set DATA_DIR to a directory this user may write.`,
    );
  }
  if (await ping(port)) {
    unlockDataDir();
    fail(
      `something already answers on 127.0.0.1:${port} (a Redis left from an earlier run?). Stop it, or set EMBEDDED_REDIS_PORT, or point REDIS_URL at it.`,
    );
  }
  /** When the embedded Redis last stopped by itself (ms), for the restart limit. */
  let restarts = [];
  const start = async () => {
    const started = await startRedis({
      port,
      dir: redisDir,
      persist: true,
      detached: true,
      onLoading: () =>
        console.error(`[start] the embedded Redis is loading its data from ${redisDir}; waiting`),
    });
    // A restart that finished after the service had stopped: nobody needs it.
    if (redisStopped) {
      await started.stop();
      return started;
    }
    fs.writeFileSync(
      lockFile,
      JSON.stringify({ startPid: process.pid, redisPid: started.child.pid, port }),
    );
    // Redis gone under a running service: say so and bring it back on the same
    // port and files (AOF), so the service's connections resume by themselves.
    started.child.once('exit', (code, signal) => {
      if (redis !== started) return; // stopped by us
      // A Redis that keeps dying (a full disk, a broken AOF) is not restarted for ever.
      const now = Date.now();
      restarts = restarts.filter((at) => now - at < 60_000);
      if (restarts.push(now) > 3) {
        console.error(
          `[start] the embedded Redis stopped by itself 4 times in a minute${started.lastLine() ? ` (${started.lastLine()})` : ''}; stopping`,
        );
        process.exitCode = 1;
        redis = undefined;
        service?.kill('SIGTERM');
        return;
      }
      console.error(
        `[start] the embedded Redis stopped by itself (${signal ?? `exit code ${code}`}${!signal && started.lastLine() ? `: ${started.lastLine()}` : ''}); restarting it`,
      );
      start().then(
        () => console.error(`[start] the embedded Redis is back on 127.0.0.1:${port}`),
        (error) => {
          console.error(
            `[start] the embedded Redis could not be restarted: ${error.message}; stopping`,
          );
          process.exitCode = 1;
          service?.kill('SIGTERM');
        },
      );
    });
    redis = started;
    return started;
  };
  try {
    await start();
  } catch (error) {
    unlockDataDir();
    // A Ctrl-C in the instant Redis is being spawned reaches it before it leaves our process
    // group, and it dies starting: the operator asked to stop, which is what happened.
    if (stopSignal) exitStopped();
    fail(
      `the embedded Redis did not start: ${error.message}. Set EMBEDDED_REDIS_PORT to a free port, or DATA_DIR to a writable directory.`,
    );
  }
  if (stopSignal) {
    await stopRedis();
    exitStopped();
  }
  env.REDIS_URL = redis.url;
  console.log(`[start] embedded Redis on ${redis.url}, data in ${redisDir}`);
}
if (stopSignal) exitStopped();

// One process (no wrapper in between), so signals reach the service directly.
service = spawn(process.execPath, [...SERVICE_NODE_FLAGS, bundle, role], {
  stdio: 'inherit',
  env,
  cwd: root,
});
service.on('exit', async (code, signal) => {
  await stopRedis();
  process.exit(process.exitCode || (code ?? (signal ? 1 : 0)));
});
