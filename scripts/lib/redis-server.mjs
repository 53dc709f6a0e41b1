// Starts and stops a private redis-server child process. Plain Node (no
// dependencies) so that `npm start` and the test set-up can use it before
// `npm install` has run.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** A free TCP port on loopback, chosen by the kernel. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * What answers PING on 127.0.0.1:`port`: `ready` (PONG), `loading` (a Redis still reading its
 * data into memory, which answers -LOADING until it is done) or `none`.
 */
export function probe(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(500);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(
          reply.startsWith('+PONG') ? 'ready' : reply.startsWith('-LOADING') ? 'loading' : 'none',
        );
      }
    });
    socket.on('error', () => resolve('none'));
    // Something that hangs up without a word is no Redis either (later calls are no-ops).
    socket.on('close', () => resolve('none'));
    socket.on('timeout', () => {
      socket.destroy();
      resolve('none');
    });
  });
}

/** Whether a Redis answers on 127.0.0.1:`port`, ready or still loading its data. */
export async function ping(port) {
  return (await probe(port)) !== 'none';
}

/**
 * Runs redis-server on 127.0.0.1:`port`. With `persist`, data lives under
 * `dir` as an append-only file fsynced every second; `noeviction` because a
 * queue or a meter that silently loses keys is worse than a refused write.
 */
export async function startRedis({
  port,
  dir,
  persist,
  log = 'ignore',
  detached = false,
  cluster = false,
  patienceMs = 10_000,
  onLoading = () => {},
}) {
  fs.mkdirSync(dir, { recursive: true });
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--maxmemory-policy',
    'noeviction',
    '--protected-mode',
    'yes',
  ];
  // A Cluster node keeps its view of the cluster in a file of its own, in its own dir.
  if (cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf');
  // Rewrites of the append-only file 4x rarer than Redis's default (a rewrite when the file has
  // grown 100% and is past 64 MB): each one forks Redis, and the child's writing and the
  // parent's copying of pages on write took 0.5-0.6 core more for half a second and longer at
  // 1,000 msg/s, which the suggestions felt. The default rewrote every ~10 s at that rate
  // (~4.5 MB of commands a second); the file a restart replays grows to 5x the data, not 2x.
  if (persist)
    args.push(
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--auto-aof-rewrite-percentage',
      '400',
      '--auto-aof-rewrite-min-size',
      '256mb',
    );
  else args.push('--appendonly', 'no', '--save', '');
  // `detached`: its own process group, so a Ctrl-C meant for the service does not stop Redis under it.
  // Output we are not asked to show is still read (a full pipe would block Redis) and its last
  // line kept: it is the reason when Redis refuses to start (port taken, dir not writable).
  const child = spawn('redis-server', args, {
    stdio: ['ignore', log === 'ignore' ? 'pipe' : log, log === 'ignore' ? 'pipe' : log],
    detached,
  });
  let tail = '';
  for (const stream of [child.stdout, child.stderr])
    stream?.on('data', (chunk) => {
      tail = (tail + chunk.toString()).slice(-2000);
    });
  // Redis marks warnings with '#' ("pid:M 29 Nov 2026 16:16:57.373 # text"); the last two say why.
  const lastLine = () =>
    tail
      .split('\n')
      .map(
        (line) =>
          /^\d+:[A-Z] .*?[\d:.]+ # (.*)$/.exec(line.trim())?.[1] ??
          (/^\d+:[A-Z] /.test(line) ? '' : line.trim()),
      )
      .filter(Boolean)
      .slice(-2)
      .join('; ');
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  child.on('error', () => {
    exited = true;
  });
  // Up to `patienceMs` for an answer; a Redis replaying a large append-only file answers
  // -LOADING meanwhile (~4 s for 280 MB here), and is waited for as long as it keeps loading.
  let deadline = Date.now() + patienceMs;
  let loadingSaid = false;
  while (Date.now() < deadline) {
    if (exited) {
      // Let the last output arrive before quoting it.
      await new Promise((r) => setTimeout(r, 50));
      const reason = lastLine();
      throw new Error(
        `redis-server exited at start (port ${port}, dir ${dir})${reason ? `: ${reason}` : ''}`,
      );
    }
    const state = await probe(port);
    if (state === 'ready') {
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        child,
        /** Its last warnings: why it stopped, when it stopped by itself. */
        lastLine,
        stop: () =>
          new Promise((resolve) => {
            if (exited) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    }
    if (state === 'loading') {
      deadline = Date.now() + patienceMs;
      if (!loadingSaid) onLoading();
      loadingSaid = true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(
    `redis-server did not answer on port ${port} within ${Math.round(patienceMs / 1000)} s`,
  );
}

/**
 * A Redis Cluster of `masters` nodes (no replicas) on free ports under `dir`,
 * for tests and benchmarks: the nodes are started, joined with
 * `redis-cli --cluster create`, and awaited until every one says
 * cluster_state:ok. `stop` stops them all.
 */
export async function startCluster({ dir, masters = 3, log = 'ignore', persist = false }) {
  const nodes = [];
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      nodes.push(await startRedis({ port, dir: `${dir}/node-${i}`, persist, log, cluster: true }));
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8' },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${create.stderr || create.stdout}`);
    for (let i = 0; i < 100; i++) {
      const states = nodes.map(
        (node) =>
          spawnSync('redis-cli', ['-p', String(node.port), 'CLUSTER', 'INFO'], {
            encoding: 'utf8',
          }).stdout,
      );
      if (states.every((info) => /cluster_state:ok/.test(info)))
        return {
          nodes: addresses.join(','),
          ports: nodes.map((node) => node.port),
          stop: () => Promise.all(nodes.map((node) => node.stop())),
        };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the cluster did not reach cluster_state:ok within 10 s');
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
}
